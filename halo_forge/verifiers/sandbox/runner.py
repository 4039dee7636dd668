"""The one place that runs untrusted programs: model-written code and the compilers that read it.

Every run gets the strongest of each protection this machine allows (`isolation_report()`
probes them once, for real, and `halo-forge info` shows the result):

- its own session and process group, killed as a whole when the run ends;
- a wall-clock timeout (the run is killed) and RLIMIT_CPU (SIGXCPU, then SIGKILL a second later);
- RLIMIT_AS of `memory_limit_mb` per process, and the same cap on the run's total where a memory
  cgroup is writable. 1 GB by default: g++ -O2 on <bits/stdc++.h> needs about 230 MB of address
  space, clang++ about 300 MB; verifiers pass tighter limits for the binaries they run;
- a process limit. RLIMIT_NPROC does not bind root, so where a pids cgroup is writable (root)
  each run gets a fresh group with `pids.max`, and every process in it, including children that
  called `setsid`, is killed when the run ends (`cgroups.py`). Programs then run as root
  without capabilities, so toolchains installed under /root stay usable. Where no cgroup is
  writable, root runs programs as `nobody` (uid 65534) so that RLIMIT_NPROC binds, and a
  non-root caller sets RLIMIT_NPROC above its current task count;
- RLIMIT_FSIZE, no core files, and a throwaway working directory (also HOME and TMPDIR);
- a minimal view of the file system (`view.py`): the system and the program's installation
  read-only, the workdir, and nothing of the user's home, the project or the caller's
  directory unless named in `readable_paths` (a verifier's `expose_paths`);
- a disk limit: every place a run may write besides its kept workdir is a tmpfs of
  `disk_limit_mb`; with `keep_writes=False` the workdir is one too, and a run that fills one
  is reported (`SandboxResult.disk_limit_reached_mb`, and not `ok`);
- stdout and stderr read as they come, each capped at `max_output_bytes`: a program that writes
  past the cap is killed and flagged `output_truncated`, so a print loop costs milliseconds, not
  the wall timeout;
- no network and no writes outside the workdir: bubblewrap with that minimal root, the workdir
  and `writable_paths` bound writable, fresh /dev, /proc and /tmp, its own network (none),
  PID and IPC namespaces, no capabilities and no privilege gain. Without bubblewrap,
  `unshare --net` then `setpriv` (no network, no capabilities; files unprotected: every file
  the user can read is visible, and no disk limit but RLIMIT_FSIZE). Without both, nothing,
  and a warning;
- a clean environment: PATH, HOME, TMPDIR, LANG and what the caller passes, nothing else.

A protection this machine cannot give is a warning in the report, logged once; runs go on with
what remains, never with less than the report says. Limits are in place before the program's
first instruction (`process.start_confined`), without fork() of the caller. Bubblewrap
exits with 128 + N when its program dies of signal N; `SandboxResult` reports it as a signal.

`Sandbox.spawn` starts a long-lived process (a fork server) under the same isolation; it gives
each child its own limits with `ChildConfinement` (`confine.py`).

The parts, each its own module of this package: `limits` (what a run may use, how it ended,
rlimits), `isolation` (which protections to use), `wrappers` (the bubblewrap or unshare command
line), `process` (start and end a run), `cgroups` and `cgroupfs` (the run's groups), `output`
(reading its output, and the result it makes), `confine` (a server's children), `view` (what a
run sees of the files), `workspace` (a run's throwaway directory), `options` (the options
verifiers expose). This module runs programs with them and probes, once per process, which
protections work here (`isolation_report`).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import IO

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox.cgroupfs import find_hierarchies
from halo_forge.verifiers.sandbox.cgroups import RunCgroup
from halo_forge.verifiers.sandbox.isolation import (
    BUBBLEWRAP,
    IsolationReport,
    strongest_isolation,
)
from halo_forge.verifiers.sandbox.limits import (
    MB,
    NOBODY_UID,
    PROCESS_LIMIT_NOBODY,
    SandboxLimits,
    SandboxResult,
    rlimits_for,
)
from halo_forge.verifiers.sandbox.output import (
    collect_output,
    read_scratch_report,
    run_result,
    wait_for_exit,
)
from halo_forge.verifiers.sandbox.process import (
    SANDBOX_PATH,
    end_run,
    kill_run,
    resolve_program,
    start_confined,
)
from halo_forge.verifiers.sandbox.view import FilesystemRequest
from halo_forge.verifiers.sandbox.workspace import Workspace
from halo_forge.verifiers.sandbox.wrappers import isolating_command

logger = logging.getLogger(__name__)
CGROUP_MOUNTS = Path("/sys/fs/cgroup")


class Sandbox:
    """Runs programs under the strongest isolation this machine offers (see the module docstring).

    Thread-safe: one Sandbox serves every worker thread of a verifier.
    """

    def __init__(
        self,
        limits: SandboxLimits = SandboxLimits(),
        *,
        writable_paths: Sequence[Path] = (),
        readable_paths: Sequence[Path] = (),
        keep_writes: bool = True,
        isolation: IsolationReport | None = None,
    ) -> None:
        """`writable_paths`: existing directories programs may also write (a verifier's PCH
        cache); `readable_paths`: existing files or directories programs may also read (a
        verifier's `expose_paths`); `keep_writes=False`: what programs write in their
        directory, where its files appear read-only, is a capped scratch that ends with each
        run (runs of built programs, which must leave nothing on the host); `isolation`: the
        protections to use, `isolation_report()` by default."""
        self.limits = limits
        self.isolation = isolation or isolation_report()
        self.keep_writes = keep_writes
        self._runs_as_nobody = self.isolation.process_limit == PROCESS_LIMIT_NOBODY
        self.writable_paths = tuple(Path(path).resolve() for path in writable_paths)
        for path in self.writable_paths:
            if not path.is_dir():
                raise VerifierError(f"sandbox writable path {path} is not a directory; create it")
            self._hand_over(path)
        self.readable_paths = tuple(Path(path).resolve() for path in readable_paths)
        for path in self.readable_paths:
            if not path.exists():
                raise VerifierError(
                    f"sandbox readable path {path} does not exist; create it or remove it "
                    "from expose_paths"
                )
        used = {"pids"} if self.isolation.process_limit.startswith("pids-cgroup") else set()
        if self.isolation.memory_limit.startswith("memory-cgroup"):
            used.add("memory")
        self._hierarchies = [
            replace(hierarchy, controllers=hierarchy.controllers & used)
            for hierarchy in (find_hierarchies() if used else [])
            if hierarchy.controllers & used
        ]
        self._lock = threading.Lock()
        self._spawned: dict[int, RunCgroup | None] = {}

    @property
    def private_tmp(self) -> Path | None:
        """/tmp when each run and spawned process gets its own, in memory (bubblewrap's tmpfs);
        None when programs see the host's /tmp."""
        return Path("/tmp") if self.isolation.network == BUBBLEWRAP else None

    @contextmanager
    def workspace(self) -> Iterator[Workspace]:
        """A fresh directory for one program's files and runs, removed on exit."""
        path = Path(tempfile.mkdtemp(prefix="halo-forge-sandbox-")).resolve()
        try:
            self._hand_over(path)
            yield Workspace(self, path)
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def run(
        self,
        argv: Sequence[str],
        *,
        workdir: Path,
        stdin: str | bytes | None = None,
        limits: SandboxLimits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> SandboxResult:
        """Run `argv` in `workdir` until it exits or a limit stops it (see `Workspace.run`)."""
        limits = limits or self.limits
        stdin_bytes = stdin.encode() if isinstance(stdin, str) else stdin
        started = time.monotonic()
        deadline = started + limits.wall_timeout_s
        status_read = status_write = None
        if not self.keep_writes and self.isolation.network == BUBBLEWRAP:
            status_read, status_write = os.pipe()  # where a filled scratch is reported
            os.fchmod(status_write, 0o622)  # reopened by its /proc name, maybe as nobody
        try:
            process, cgroup = self._start(
                argv,
                Path(workdir),
                env,
                limits,
                stdin=subprocess.DEVNULL if stdin_bytes is None else subprocess.PIPE,
                stderr=subprocess.PIPE,
                long_lived=False,
                status_fd=status_write,
            )
        except BaseException:
            if status_read is not None:
                os.close(status_read)
            raise
        finally:
            if status_write is not None:
                os.close(status_write)
        try:
            output = collect_output(
                process,
                stdin_bytes,
                deadline,
                limits.max_output_bytes,
                stop=lambda: kill_run(process, cgroup),
            )
            if not output.killed:
                output.timed_out = not wait_for_exit(process, deadline)
        finally:
            end_run(process, cgroup)
            filled = read_scratch_report(status_read) if status_read is not None else b""
        result = run_result(
            process.returncode,
            output,
            time.monotonic() - started,
            bubblewrap=self.isolation.network == BUBBLEWRAP,
        )
        if filled:
            result.disk_limit_reached_mb = limits.disk_limit_mb
        return result

    def spawn(
        self,
        argv: Sequence[str],
        *,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        limits: SandboxLimits | None = None,
        stderr: int | IO[bytes] = subprocess.DEVNULL,
    ) -> subprocess.Popen[bytes]:
        """Start a long-lived process with stdin/stdout pipes (a fork server), same isolation.

        No wall timeout applies and RLIMIT_CPU counts the process's whole life, so pass limits
        that fit it; its children are confined with `ChildConfinement`. `workdir`
        must exist (as nobody, it is handed over to uid 65534). End the process with
        `Sandbox.kill`, which kills everything it started.
        """
        workdir = Path(workdir).resolve()
        self._hand_over(workdir)
        process, cgroup = self._start(
            argv,
            workdir,
            env,
            limits or self.limits,
            stdin=subprocess.PIPE,
            stderr=stderr,
            long_lived=True,
        )
        with self._lock:
            self._spawned[process.pid] = cgroup
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """End a spawned process, its process group and every process in its cgroup."""
        with self._lock:
            cgroup = self._spawned.pop(process.pid, None)
        end_run(process, cgroup)

    def _start(
        self,
        argv: Sequence[str],
        workdir: Path,
        env: Mapping[str, str] | None,
        limits: SandboxLimits,
        *,
        stdin: int,
        stderr: int | IO[bytes],
        long_lived: bool,
        status_fd: int | None = None,
    ) -> tuple[subprocess.Popen[bytes], RunCgroup | None]:
        """Start `argv` in its own session, cgroup, rlimits and wrapper; nothing waits on it."""
        if not argv:
            raise VerifierError("sandbox: nothing to run (argv is empty)")
        environment = {
            "PATH": SANDBOX_PATH,
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            "LANG": "C.UTF-8",
            **(env or {}),
        }
        program = resolve_program(argv[0], workdir, environment["PATH"], self._runs_as_nobody)
        if self._runs_as_nobody:
            budget_uid: int | None = NOBODY_UID
        else:
            budget_uid = None if os.geteuid() == 0 else os.geteuid()
        cgroup = None
        if self._hierarchies:
            memory = limits.memory_limit_mb * MB if limits.memory_limit_mb is not None else None
            cgroup = RunCgroup.for_run(
                self._hierarchies,
                max_processes=limits.max_processes,
                memory_bytes=memory,
                delegate=long_lived,
            )
        try:
            delegated = cgroup.join_directories if cgroup is not None and long_lived else ()
            # A server finds its groups from the cgroup mounts, which it must then see.
            cgroup_mounts = (CGROUP_MOUNTS,) if delegated else ()
            files = FilesystemRequest(
                workdir=workdir,
                readable=(*self.readable_paths, *cgroup_mounts),
                writable=(*self.writable_paths, *delegated),
                keep_writes=self.keep_writes,
                scratch_bytes=limits.disk_limit_mb * MB,
            )
            command = isolating_command(
                [program, *argv[1:]],
                isolation=self.isolation,
                files=files,
                allow_network=limits.allow_network,
                long_lived=long_lived,
                status_fd=status_fd,
            )
            process = start_confined(
                command,
                cwd=workdir,
                env=environment,
                stdin=stdin,
                stderr=stderr,
                rlimits=rlimits_for(limits, process_budget_of=budget_uid),
                procs_files=cgroup.procs_files if cgroup is not None else (),
                pass_fds=() if status_fd is None else (status_fd,),
            )
        except BaseException as error:
            if cgroup is not None:
                cgroup.remove()
            if isinstance(error, (OSError, subprocess.SubprocessError)):
                raise VerifierError(
                    f"cannot start {argv[0]} in the sandbox ({error}); `halo-forge info` shows "
                    "which protections work on this machine"
                ) from None
            raise
        return process, cgroup

    def _hand_over(self, path: Path) -> None:
        """Programs that run as nobody must be able to write their directories."""
        if self._runs_as_nobody and os.geteuid() == 0:
            os.chown(path, NOBODY_UID, NOBODY_UID)


def run_sandboxed(
    argv: Sequence[str],
    *,
    files: Mapping[str, str | bytes] = MappingProxyType({}),
    stdin: str | bytes | None = None,
    limits: SandboxLimits | None = None,
) -> SandboxResult:
    """One run in a fresh workspace holding `files` (name -> content), removed afterwards."""
    sandbox = Sandbox(limits or SandboxLimits())
    with sandbox.workspace() as workspace:
        for name, content in files.items():
            workspace.write(name, content)
        return workspace.run(argv, stdin=stdin)


def probe_isolation(*, use_cgroups: bool = True) -> IsolationReport:
    """Try each protection for real and report the strongest set that works (not cached).

    `use_cgroups=False` reports the fallback used where no cgroup is writable.
    """
    return strongest_isolation(_runs_under, use_cgroups=use_cgroups)


def _runs_under(report: IsolationReport) -> bool:
    """Whether `true` runs to exit status 0 in a real Sandbox under these protections."""
    try:
        sandbox = Sandbox(SandboxLimits(wall_timeout_s=10.0), isolation=report)
        with sandbox.workspace() as workspace:
            return workspace.run(["true"]).ok
    except (VerifierError, OSError):
        return False


_report_lock = threading.Lock()
_report: IsolationReport | None = None


def isolation_report() -> IsolationReport:
    """The protections of this machine, probed on the first call (tens of ms), then cached."""
    global _report
    with _report_lock:
        if _report is None:
            _report = probe_isolation()
            for warning in _report.warnings:
                logger.warning("sandbox: %s", warning)
        return _report
