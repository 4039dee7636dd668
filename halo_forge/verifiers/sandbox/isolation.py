"""Which protections this machine gives sandboxed programs, found by trying each one for real.

`strongest_isolation` tries each candidate (a pids cgroup, bubblewrap, unshare), strongest
first, and keeps what works: a candidate that fails here (no user namespaces, a read-only cgroup
tree, a missing tool) falls back to the next one and adds a warning that names the fix. How a
candidate is tried is passed in: `runner.probe_isolation` runs `true` through the real
`Sandbox` under it, so this module, which the sandbox builds on, never needs the sandbox.
`runner.isolation_report` probes once per process and logs the warnings once; the `Sandbox`
then acts on the report it holds, so what `halo-forge info` shows is exactly what runs use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from halo_forge.verifiers.sandbox.cgroupfs import find_hierarchies
from halo_forge.verifiers.sandbox.cgroups import RunCgroup
from halo_forge.verifiers.sandbox.limits import (
    NOBODY_UID,
    NONE,
    PROCESS_LIMIT_NOBODY,
    PROCESS_LIMIT_NPROC,
    SandboxLimits,
)

BUBBLEWRAP = "bubblewrap"
UNSHARE = "unshare"
FILESYSTEM_BUBBLEWRAP = (
    "bubblewrap: minimal read-only root (the system, the program's toolchain or interpreter, "
    "expose_paths), writable workdir; nothing of $HOME, the project or the working directory"
)
FILESYSTEM_UNRESTRICTED = "not restricted: programs read every file the user can"
MEMORY_RLIMIT = "rlimit-as (per process)"


@dataclass(frozen=True)
class IsolationReport:
    """The protections sandboxed programs get here, and a warning for each one that is missing."""

    process_group: bool
    rlimits: bool
    process_limit: str  # "pids-cgroup-v1" | "pids-cgroup-v2" | "rlimit-nproc(nobody)" | ...
    network: str  # "bubblewrap" | "unshare" | "none"
    filesystem: str  # FILESYSTEM_BUBBLEWRAP | FILESYSTEM_UNRESTRICTED
    clean_environment: bool
    warnings: list[str] = field(default_factory=list)
    memory_limit: str = MEMORY_RLIMIT  # or "memory-cgroup-v1 + rlimit-as"
    run_as: str = "caller's user"  # the user programs run as

    @property
    def restricts_files(self) -> bool:
        """Whether programs see the minimal root and write only capped scratch (bubblewrap)."""
        return self.filesystem == FILESYSTEM_BUBBLEWRAP

    @property
    def disk_limit(self) -> str:
        """How much a run can write, in words."""
        if self.restricts_files:
            return (
                f"tmpfs scratch of disk_limit_mb (default {SandboxLimits().disk_limit_mb} MiB) "
                "each: /tmp, /dev/shm, a program's run directory; RLIMIT_FSIZE per file"
            )
        return "RLIMIT_FSIZE per file only: a run can fill the disk with many files"

    def as_rows(self) -> list[tuple[str, str, bool]]:
        """(protection, how, active) rows for `halo-forge info`."""
        return [
            ("process group", "own session, whole group killed at the end", self.process_group),
            ("resource limits", "RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, no core files", self.rlimits),
            ("process limit", self.process_limit, self.process_limit != NONE),
            ("memory limit", self.memory_limit, self.rlimits),
            ("network", self.network, self.network != NONE),
            ("filesystem view", self.filesystem, self.restricts_files),
            ("disk limit", self.disk_limit, self.restricts_files),
            ("user", self.run_as, "all capabilities" not in self.run_as),
            ("environment", "PATH, HOME, TMPDIR, LANG + caller's", self.clean_environment),
        ]


def strongest_isolation(
    works: Callable[[IsolationReport], bool], *, use_cgroups: bool = True
) -> IsolationReport:
    """The strongest set of protections under which `works(report)` says a program runs.

    `use_cgroups=False` reports the fallback used where no cgroup is writable.
    """
    root = os.geteuid() == 0
    controllers = _working_cgroup_controllers() if use_cgroups else {}
    memory_limit = MEMORY_RLIMIT
    if "memory" in controllers:
        memory_limit = f"memory-cgroup-v{controllers['memory']} + rlimit-as"
    process_limits = [f"pids-cgroup-v{controllers['pids']}"] if "pids" in controllers else []
    process_limits.append(PROCESS_LIMIT_NOBODY if root else PROCESS_LIMIT_NPROC)
    report = IsolationReport(
        process_group=True,
        rlimits=True,
        process_limit=NONE,
        network=NONE,
        filesystem=FILESYSTEM_UNRESTRICTED,
        clean_environment=True,
        memory_limit=memory_limit,
    )
    for process_limit in process_limits:
        if works(replace(report, process_limit=process_limit)):
            report = replace(report, process_limit=process_limit)
            break
    for network, filesystem in (
        (BUBBLEWRAP, FILESYSTEM_BUBBLEWRAP),
        (UNSHARE, FILESYSTEM_UNRESTRICTED),
    ):
        candidate = replace(report, network=network, filesystem=filesystem)
        if works(candidate):
            report = candidate
            break
    report = replace(report, run_as=_run_as(report))
    return replace(report, warnings=_warnings(report))


def _run_as(report: IsolationReport) -> str:
    if report.process_limit == PROCESS_LIMIT_NOBODY:
        return f"nobody (uid {NOBODY_UID})"
    if os.geteuid() != 0:
        return f"caller's user (uid {os.geteuid()})"
    return "root with all capabilities" if report.network == NONE else "root without capabilities"


def _working_cgroup_controllers() -> dict[str, int]:
    """Controller -> cgroup version, for each controller in which a run group can be made."""
    working = {}
    for hierarchy in find_hierarchies():
        try:
            group = RunCgroup.for_run([hierarchy], max_processes=8, memory_bytes=64 * 1024 * 1024)
        except OSError:
            continue
        group.remove()
        working.update(dict.fromkeys(hierarchy.controllers, hierarchy.version))
    return working


def _warnings(report: IsolationReport) -> list[str]:
    """One line per missing protection, each with the fix."""
    warnings = []
    cgroup_fix = (
        "for a per-run limit, run as root with a writable pids cgroup (cgroup v1 "
        "/sys/fs/cgroup/pids, or v2 with the pids controller delegated)"
    )
    if report.process_limit == NONE:
        warnings.append("no process limit: a fork bomb can take the machine down; " + cgroup_fix)
    elif report.process_limit in (PROCESS_LIMIT_NOBODY, PROCESS_LIMIT_NPROC):
        warnings.append(
            "no writable pids cgroup: the process limit is RLIMIT_NPROC of the user programs "
            f"run as, {report.run_as}: a budget shared by concurrent runs, and a process that "
            "calls setsid can outlive its run unless bubblewrap is active; " + cgroup_fix
        )
    if not report.memory_limit.startswith("memory-cgroup"):
        warnings.append(
            "no writable memory cgroup: memory is capped per process (RLIMIT_AS), not per run; "
            "run as root with a writable memory cgroup to cap a run's total"
        )
    if report.network == NONE:
        warnings.append(
            "no network isolation: sandboxed programs can open connections; install bubblewrap "
            "(apt-get install bubblewrap) and allow user namespaces if not root "
            "(sysctl kernel.unprivileged_userns_clone=1), or util-linux for `unshare --net` as root"
        )
    if not report.restricts_files:
        warnings.append(
            f"no filesystem view: sandboxed programs and compilers ({report.run_as}) can read "
            "every file that user can (keys, tokens, task files with their answers), write "
            "wherever it can and fill the disk; install bubblewrap 0.5 or newer "
            "(apt-get install bubblewrap)"
        )
    return warnings
