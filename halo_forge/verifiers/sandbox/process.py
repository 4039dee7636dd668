"""Start and end one sandboxed process: limits in place before it runs, nothing left after.

`start_confined` puts a new process in its cgroups and rlimits before it executes anything of
its own (see GATE). `kill_run` and `end_run` make sure nothing of a run survives it: the
process group first (one signal reaches the whole group at once), then every pid still listed in
the run's cgroup, which catches children that left the group with `setsid`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox.cgroups import RunCgroup
from halo_forge.verifiers.sandbox.limits import NOBODY_UID

#: PATH of every sandboxed program unless the caller passes its own.
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
#: The first program of every run: stop until the parent has confined it, then become the run.
GATE = 'kill -STOP $$ && exec "$@"'


@functools.cache
def tool_path(name: str) -> str:
    """Absolute path of a wrapper (bwrap, unshare, setpriv), independent of a run's PATH."""
    return shutil.which(name, path=SANDBOX_PATH) or name


def start_confined(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: int,
    stderr: int | IO[bytes],
    rlimits: Sequence[tuple[int, tuple[int, int]]],
    procs_files: Sequence[str],
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start `command` in a new session, in its cgroups and rlimits from its first instruction.

    The process starts as `/bin/sh` running GATE: it stops itself, this process joins its pid
    to the cgroups and sets its rlimits (`prlimit`), then continues it, and it execs `command`
    under the same pid. Nothing runs in the child between fork and exec, so subprocess can use
    vfork: a `preexec_fn` would force fork(), which copies the caller's page tables (~170 ms
    per run from a process holding 4 GB; a trainer with a model loaded holds more).
    `pass_fds` stay open in the run (the scratch's status descriptor).
    """
    process = subprocess.Popen(
        ["/bin/sh", "-c", GATE, "sh", *command],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=cwd,
        env=env,
        start_new_session=True,
        pass_fds=tuple(pass_fds),
    )
    try:
        state = os.waitid(os.P_PID, process.pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
        if state is None or state.si_code != os.CLD_STOPPED:
            raise VerifierError("the sandbox's start-up shell (/bin/sh) ended before the run")
        for procs_file in procs_files:
            Path(procs_file).write_text(str(process.pid))
        for resource_id, limit in rlimits:
            resource.prlimit(process.pid, resource_id, limit)
        os.kill(process.pid, signal.SIGCONT)
    except BaseException:
        end_run(process, None)
        raise
    return process


def resolve_program(program: str, workdir: Path, search_path: str, as_nobody: bool) -> str:
    """Absolute path of the program to run, or VerifierError saying what is missing.

    With `as_nobody`, the program must also be reachable by uid 65534: a Python installed under
    /root would otherwise fail inside the sandbox like a broken sample, on every sample.
    """
    if "/" in program:
        path = workdir / program
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise VerifierError(
                f"program {program!r} not found or not executable (looked at {path}); "
                "check that the build step produced it"
            )
        found = str(path)
    else:
        found = shutil.which(program, path=search_path)
        if found is None:
            raise VerifierError(
                f"program {program!r} not found on the sandbox PATH ({search_path}); install "
                "it or pass its absolute path"
            )
    if as_nobody:
        real_path = Path(found).resolve()
        for part in (*reversed(real_path.parents), real_path):
            if not _nobody_may_execute(part):
                raise VerifierError(
                    f"program {found} ({real_path}) cannot be run by uid {NOBODY_UID} (nobody), "
                    f"which runs sandboxed programs here (no writable pids cgroup): {part} is "
                    f"not searchable by other users; `chmod o+x {part}` or install the program "
                    "where every user can run it"
                )
    return found


def _nobody_may_execute(path: Path) -> bool:
    info = path.stat()
    if info.st_uid == NOBODY_UID:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == NOBODY_UID:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def kill_run(process: subprocess.Popen[bytes], cgroup: RunCgroup | None) -> None:
    """SIGKILL the run's process group, then every process left in its cgroup."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()


def end_run(process: subprocess.Popen[bytes], cgroup: RunCgroup | None) -> None:
    """Kill what is left of a run, reap it, close its pipes and remove its cgroup.

    Returns once the killed processes are gone, not merely signalled: the cgroup is emptied
    before it is removed, and without one the process group is watched until no live member
    is left (zombies that the machine's init has yet to reap do not count).
    """
    kill_run(process, cgroup)
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    if cgroup is not None:
        cgroup.remove()
    else:
        _wait_until_group_is_dead(process.pid)


def _wait_until_group_is_dead(process_group: int, timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _has_live_member(process_group) and time.monotonic() < deadline:
        time.sleep(0.001)


def _has_live_member(process_group: int) -> bool:
    try:
        os.killpg(process_group, 0)  # cheap: fails when the group has no member at all
    except (ProcessLookupError, PermissionError):
        return False
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                state, _, group = stat.read().rsplit(b")", 1)[1].split()[:3]
        except OSError:
            continue  # exited while we looked
        if int(group) == process_group and state != b"Z":
            return True
    return False
