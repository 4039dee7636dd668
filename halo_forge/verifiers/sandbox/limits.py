"""What one sandboxed run may use and how it ended, and the rlimits that hold it to its limits.

Standard library only, and none of threading, logging or subprocess: the Python fork server
imports this, and every module that registers a fork hook makes each of its forks slower.
"""

from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass

MB = 1024 * 1024
NOBODY_UID = 65534
NONE = "none"
#: How the process limit is enforced where no pids cgroup is writable: RLIMIT_NPROC, which
#: binds root only once the program runs as nobody.
PROCESS_LIMIT_NOBODY = "rlimit-nproc(nobody)"
PROCESS_LIMIT_NPROC = "rlimit-nproc"


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may use. Defaults fit compilers; tighten them for the binaries they build."""

    wall_timeout_s: float = 10.0
    cpu_timeout_s: float | None = None  # None -> wall_timeout_s (RLIMIT_CPU, rounded up)
    memory_limit_mb: int | None = 1024  # RLIMIT_AS per process; memory cgroup per run if writable
    max_processes: int = 64  # pids cgroup or RLIMIT_NPROC; bubblewrap itself takes 2
    max_file_size_mb: int = 64  # RLIMIT_FSIZE
    max_output_bytes: int = 1_000_000  # per stream; a program writing more is killed
    allow_network: bool = False
    #: Size of each scratch tmpfs a run may write under bubblewrap (/tmp, /dev/shm, and the
    #: workdir of a run whose writes are not kept); elsewhere only RLIMIT_FSIZE applies.
    disk_limit_mb: int = 256


@dataclass
class SandboxResult:
    """How a run ended and what it printed."""

    returncode: int | None  # -N if signal N ended it; None if the sandbox stopped it
    stdout: str  # utf-8, undecodable bytes replaced, at most max_output_bytes
    stderr: str
    timed_out: bool  # wall-clock timeout, or RLIMIT_CPU's SIGXCPU
    wall_time_s: float
    output_truncated: bool
    signal: int | None  # signal that ended the program, if one did
    #: The disk limit, in MiB, of a scratch the run filled to the last byte; None if it did not.
    disk_limit_reached_mb: int | None = None

    @property
    def ok(self) -> bool:
        """Exited with status 0 in time, without filling its scratch."""
        return self.returncode == 0 and not self.timed_out and self.disk_limit_reached_mb is None


def rlimits_for(
    limits: SandboxLimits, process_budget_of: int | None = None
) -> list[tuple[int, tuple[int, int]]]:
    """(resource, (soft, hard)) pairs for `resource.setrlimit`, within the current hard caps.

    With `process_budget_of` (a uid), RLIMIT_NPROC is that user's current task count plus
    `max_processes`: the kernel counts every task of the user, not only those of one run.
    """
    cpu_seconds = (
        limits.cpu_timeout_s if limits.cpu_timeout_s is not None else limits.wall_timeout_s
    )
    cpu_seconds = max(1, math.ceil(cpu_seconds))
    file_bytes = limits.max_file_size_mb * MB
    wanted = [
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),  # SIGXCPU, then SIGKILL
        (resource.RLIMIT_FSIZE, file_bytes, file_bytes),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if limits.memory_limit_mb is not None:
        address_space = limits.memory_limit_mb * MB
        wanted.append((resource.RLIMIT_AS, address_space, address_space))
    if process_budget_of is not None:
        budget = tasks_of_user(process_budget_of) + limits.max_processes
        wanted.append((resource.RLIMIT_NPROC, budget, budget))
    pairs = []
    for resource_id, soft, hard in wanted:
        current_hard = resource.getrlimit(resource_id)[1]
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
        pairs.append((resource_id, (min(soft, hard), hard)))
    return pairs


def tasks_of_user(uid: int) -> int:
    """Tasks (threads included, as RLIMIT_NPROC counts them) of `uid` visible in /proc."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited while we looked
    return count
