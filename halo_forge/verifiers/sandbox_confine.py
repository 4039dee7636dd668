"""Confine one child of a sandboxed fork server: own session, directory, limits and cgroup.

A Python test verifier keeps a warm server (started with `Sandbox.spawn`) that forks one child
per sample, so each sample skips the interpreter start-up. Each child must still be held like a
run of its own. The protocol, server side:

    pid = os.fork()
    if pid == 0:                                       # the child
        confine_current_process(limits, workdir, keep_fds=(result_pipe,))
        ...                                            # run the sample, report, os._exit(...)
    ...                                                # wait for the result or the timeout
    release_confined(pid)                              # kill the child and all it started
    os.waitpid(pid, 0)                                 # reap only now: until then the pid
                                                       # cannot be reused, so killing by it is safe

Where the server can write to its own cgroup (a root-run Sandbox bind-mounts the server's
delegated group writable; the run's limits sit one level up, out of its reach), the child gets
a fresh group `confined-<pid>` with `pids.max` and the memory cap, and release kills every
process in it, including any that called `setsid`. Else, as root, the child drops to nobody so
that RLIMIT_NPROC binds; else it sets RLIMIT_NPROC above its user's current task count (only
the tasks visible in its PID namespace are counted, so that budget is approximate). Without a
group, release kills the child's session; a grandchild that left it with `setsid` lives until
the server's sandbox ends (bubblewrap's PID namespace takes it down with the server).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from halo_forge.verifiers.sandbox_cgroups import RunCgroup, find_hierarchies
from halo_forge.verifiers.sandbox_isolation import (
    NOBODY_UID,
    NONE,
    PROCESS_LIMIT_NOBODY,
    PROCESS_LIMIT_NPROC,
)
from halo_forge.verifiers.sandbox_process import rlimits_for

if TYPE_CHECKING:
    from halo_forge.verifiers.sandbox import SandboxLimits

MB = 1024 * 1024


def confine_current_process(
    limits: SandboxLimits, workdir: Path, keep_fds: Sequence[int] = ()
) -> str:
    """Confine the calling process, just forked by a trusted sandboxed server (see above).

    New session and process group, working directory `workdir` (also HOME and TMPDIR), rlimits
    from `limits`, a fresh pids/memory cgroup or the RLIMIT_NPROC fallback, and every inherited
    file descriptor closed except 0-2 and `keep_fds`. Returns the process limit now in force:
    "pids-cgroup-v1" / "pids-cgroup-v2", "rlimit-nproc(nobody)", "rlimit-nproc" or "none"
    (root without capabilities and no writable cgroup).
    """
    with contextlib.suppress(PermissionError):
        os.setsid()  # fails only for a process that already leads its own session
    workdir = Path(workdir)
    os.chdir(workdir)
    process_limit = _join_fresh_group(limits)
    budget_uid = None
    if process_limit is None:
        process_limit, budget_uid = _user_process_limit(workdir)
    for resource_id, limit in rlimits_for(limits, process_budget_of=budget_uid):
        resource.setrlimit(resource_id, limit)
    if process_limit == PROCESS_LIMIT_NOBODY:
        os.setgroups([])
        os.setgid(NOBODY_UID)
        os.setuid(NOBODY_UID)
    os.environ["HOME"] = os.environ["TMPDIR"] = str(workdir)
    tempfile.tempdir = None  # recomputed from TMPDIR on next use
    _close_inherited_fds(keep_fds)
    return process_limit


def release_confined(pid: int) -> None:
    """Kill a confined child, its session and every process in its cgroup; remove the group.

    Call it before reaping the child with `os.waitpid` (see the protocol in the module doc).
    """
    for kill, target in ((os.kill, pid), (os.killpg, pid)):  # the child, then its session
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(target, signal.SIGKILL)
    group = RunCgroup([h.own_directory / f"confined-{pid}" for h in find_hierarchies()], [])
    group.kill_all()
    group.remove()


def _join_fresh_group(limits: SandboxLimits) -> str | None:
    """Make and join `confined-<pid>` under this process's writable groups; None if not possible."""
    hierarchies = [h for h in find_hierarchies() if os.access(h.own_directory, os.W_OK)]
    pids_versions = [h.version for h in hierarchies if "pids" in h.controllers]
    if not pids_versions:
        return None
    memory = limits.memory_limit_mb * MB if limits.memory_limit_mb is not None else None
    try:
        group = RunCgroup.create(
            [(hierarchy, hierarchy.own_directory) for hierarchy in hierarchies],
            f"confined-{os.getpid()}",
            max_processes=limits.max_processes,
            memory_bytes=memory,
        )
    except OSError:
        return None
    try:
        for procs_file in group.procs_files:
            Path(procs_file).write_text(str(os.getpid()))
    except OSError:
        group.remove()
        return None
    return f"pids-cgroup-v{pids_versions[0]}"


def _user_process_limit(workdir: Path) -> tuple[str, int | None]:
    """The RLIMIT_NPROC fallback: (process limit, uid whose task count sets the budget)."""
    if os.geteuid() != 0:
        return PROCESS_LIMIT_NPROC, os.geteuid()
    try:
        os.chown(workdir, NOBODY_UID, NOBODY_UID)  # nobody must be able to write its workdir
    except PermissionError:
        return NONE, None  # root without capabilities cannot become nobody
    return PROCESS_LIMIT_NOBODY, NOBODY_UID


def _close_inherited_fds(keep_fds: Sequence[int]) -> None:
    start = 3
    for descriptor in sorted({fd for fd in keep_fds if fd >= 3}):
        os.closerange(start, descriptor)
        start = descriptor + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX"))
