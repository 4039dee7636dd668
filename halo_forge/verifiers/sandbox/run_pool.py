"""Runs of built programs on warm run servers, seen from the verifier's process.

A compile verifier builds a sample's program in its workspace, then runs it once per test case.
Each run on its own `Sandbox.run` starts a sandbox (bubblewrap, namespaces, a minimal root,
cgroups): 20-40 ms, more than the run of a small program. `RunServerPool` keeps up to one
run server (`run_server`) per worker thread, started once with the same isolation, and
`RunServerPool.session(files)` lends one to a sample: the program's files go to the server
once, then each `run` of the session is one fork and exec there, with the same limits and the
same `SandboxResult` as a run of its own. A session is a `testcases.ProgramRunner`, so
`verify_runs` scores its runs as it scores those of the sandbox.

Where no server can start (the sandbox runs programs as nobody, who cannot run an interpreter
installed under /root, or no C compiler builds the servers' standby factory, `standby_factory`),
each run gets a sandbox of its own (`Sandbox.run`), as before the servers. A server that died or
stopped answering (a program that killed it, a harness bug) is killed with everything it started
and replaced; the run it was serving gets a failed result that says so (no exit status), never a
pass.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox.isolation import IsolationReport
from halo_forge.verifiers.sandbox.limits import SandboxLimits, SandboxResult
from halo_forge.verifiers.sandbox.output import CollectedOutput, run_result
from halo_forge.verifiers.sandbox.runner import Sandbox
from halo_forge.verifiers.sandbox.server_pool import ServerPool, SpawnedServer, server_limits
from halo_forge.verifiers.sandbox.standby import STANDBYS
from halo_forge.verifiers.sandbox.standby_factory import build_standby_factory
from halo_forge.verifiers.sandbox.view import SCRATCH_MOUNTS

if TYPE_CHECKING:
    from halo_forge.verifiers.build.testcases import ProgramRunner

_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from halo_forge.verifiers.sandbox.run_server import serve; "
    "roots = [[root for root in part.split(':') if root] for part in sys.argv[4:6]]; "
    "serve(sys.argv[2], sys.argv[3], *roots, sys.argv[6])"
)
#: The package the servers import; their sandbox shows it and nothing else of the project.
_PACKAGE = Path(__file__).resolve().parents[2]
#: Room in a server's sandbox besides a run's processes and the standbys: bubblewrap, the
#: server, its standby factory.
SERVER_PROCESSES = 5
#: Time a server gets beyond a run's own wall timeout to kill the run and answer.
_ANSWER_GRACE_S = 5.0

logger = logging.getLogger(__name__)


class RunServer(SpawnedServer):
    """One running run server (see `run_server` for its side of the protocol)."""

    role = "run server"

    def __init__(self, sandbox: Sandbox, workdir: Path, factory: Path) -> None:
        self.factory = factory
        super().__init__(sandbox, workdir)

    def command(self) -> list[str]:
        scratch_parent = str(self.sandbox.private_tmp or self.directory)
        writable = [str(self.directory)]
        capped: list[str] = []
        if self.sandbox.private_tmp is not None:  # every place a run writes is a capped tmpfs
            writable += SCRATCH_MOUNTS
            capped = writable
        argv = [sys.executable, "-I", "-S", "-c", _BOOTSTRAP, str(_PACKAGE.parent)]
        roots = [":".join(writable), ":".join(capped)]
        return [*argv, self.channel_path, scratch_parent, *roots, str(self.factory)]

    def run(
        self,
        files: Mapping[str, bytes] | None,
        argv: Sequence[str],
        stdin: bytes,
        limits: SandboxLimits,
        env: Mapping[str, str] | None = None,
        keep: Sequence[str] = (),
    ) -> SandboxResult | None:
        """One run of `argv` among `files` (None: those of the last run) with `env` added to
        the environment; the files of `keep` that it writes join the files of the next runs.
        None if the server died or did not answer in time."""
        started = time.monotonic()
        header = {
            "limits": asdict(limits),
            "argv": list(argv),
            "files": None if files is None else [[name, len(data)] for name, data in files.items()],
            "stdin_bytes": len(stdin),
            "env": dict(env or {}),
            "keep": list(keep),
        }
        payload = b"".join(files.values()) if files is not None else b""
        if not self.send((json.dumps(header) + "\n").encode() + payload + stdin):
            return None
        deadline = started + limits.wall_timeout_s + _ANSWER_GRACE_S
        response = self.read_message(deadline)
        if response is None or "status" not in response:
            return None
        stdout = self.read_bytes(response["stdout_bytes"], deadline)
        stderr = self.read_bytes(response["stderr_bytes"], deadline)
        if stdout is None or stderr is None:
            return None
        output = CollectedOutput(
            stdout,
            stderr,
            truncated=response["output_truncated"],
            timed_out=response["timed_out"],
        )
        result = run_result(response["status"], output, response["wall_time_s"], bubblewrap=False)
        if response.get("disk_full"):
            result.disk_limit_reached_mb = limits.disk_limit_mb
        return result


class RunSession:
    """One sample's runs on one borrowed server (a `testcases.ProgramRunner`).

    The sample's files go to the server with its first run (and again after a server died).
    `build` makes the session also a compiler's workspace: `write` adds a source file, and a
    `run` with `keep` (a compile) adds the binary it writes to the files of the next runs.
    """

    def __init__(
        self,
        servers: ServerPool[RunServer],
        limits: SandboxLimits,
        server: RunServer,
        files: Mapping[str, bytes],
    ) -> None:
        self.servers = servers
        self.limits = limits
        self.server: RunServer | None = server
        self.files = dict(files)
        self._sent = False

    def write(self, name: str, content: str | bytes) -> PurePath:
        """Add a file (utf-8 for text) for the next runs; its path relative to their directory."""
        self.files[name] = content.encode() if isinstance(content, str) else content
        self._sent = False
        return PurePath(name)

    def run(
        self,
        argv: Sequence[str],
        *,
        workdir: Path | None = None,
        stdin: str | None = None,
        limits: SandboxLimits | None = None,
        env: Mapping[str, str] | None = None,
        keep: Sequence[str] = (),
    ) -> SandboxResult:
        """Run `argv` on the sample's files in an empty directory of the server that holds
        copies of them (`workdir`, where a verifier built them, is not needed), held to
        `limits` (the pool's by default)."""
        if self.server is None:  # the last run's server died: this run gets a new one
            self.server, self._sent = self.servers.borrow(), False
        server = self.server
        files = None if self._sent else self.files
        stdin_bytes = (stdin or "").encode()
        result = server.run(files, argv, stdin_bytes, limits or self.limits, env, keep)
        self._sent = True
        if result is None:
            reason = server.stderr_tail() or "it stopped answering (killed by the program?)"
            self.servers.discard(server)
            self.server = None
            return SandboxResult(
                returncode=None,
                stdout="",
                stderr=f"the run server died: {reason}",
                timed_out=False,
                wall_time_s=0.0,
                output_truncated=False,
                signal=None,
            )
        return result


class RunServerPool:
    """Up to `size` warm run servers shared by a verifier's threads; thread-safe.

    `limits` hold every run (`Sandbox` limits of a run of its own); `readable_paths` are what
    programs may read besides the system (a verifier's `expose_paths`); `isolation`: the
    protections to use, `isolation_report()` by default; `build_limits`: the limits of the
    compiles that sessions run too (`RunSession.write`), which the server must have room for.
    """

    def __init__(
        self,
        size: int,
        limits: SandboxLimits,
        readable_paths: Sequence[Path] = (),
        isolation: IsolationReport | None = None,
        build_limits: SandboxLimits | None = None,
    ) -> None:
        self.limits = limits
        self.per_run = Sandbox(
            limits, readable_paths=readable_paths, keep_writes=False, isolation=isolation
        )
        self._servers_fail = False
        self.servers: ServerPool[RunServer] | None = None
        try:
            factory = build_standby_factory()
        except VerifierError as error:
            logger.warning(
                "run servers cannot start (%s); each run starts a sandbox instead", error
            )
            self._servers_fail = True
            return
        sandbox = Sandbox(
            server_limits(
                _largest(limits, build_limits or limits),
                memory_mb=256,
                processes=SERVER_PROCESSES + STANDBYS,
            ),
            readable_paths=(_PACKAGE, factory.parent, *readable_paths),
            keep_writes=False,
            isolation=isolation,
        )
        self.servers = ServerPool(
            size, sandbox, lambda workdir: RunServer(sandbox, workdir, factory)
        )

    @contextlib.contextmanager
    def session(self, files: Mapping[str, bytes]) -> Iterator[ProgramRunner]:
        """A runner for one sample's runs of a program made of `files` (name -> content): a
        session on a warm server, or the per-run sandbox where no server can start."""
        server = self._borrow()
        if server is None or self.servers is None:
            yield self.per_run
            return
        session = RunSession(self.servers, self.limits, server, files)
        try:
            yield session
        except BaseException:
            if session.server is not None:
                self.servers.discard(session.server)
            raise
        if session.server is not None:
            self.servers.give_back(session.server)

    def _borrow(self) -> RunServer | None:
        """A server, or None once one failed to start: where the sandbox cannot run this
        interpreter (run as nobody, a Python under /root), each run gets a sandbox of its own."""
        if self._servers_fail or self.servers is None:
            return None
        try:
            return self.servers.borrow()
        except VerifierError as error:
            self._servers_fail = True
            logger.warning(
                "run servers cannot start (%s); each run starts a sandbox instead", error
            )
            return None

    def close(self) -> None:
        """Kill every server; the pool starts new ones if used again."""
        if self.servers is not None:
            self.servers.close()


def _largest(first: SandboxLimits, second: SandboxLimits) -> SandboxLimits:
    """Limits that hold either of two kinds of run (what a server must have room for)."""
    memory = (
        None
        if first.memory_limit_mb is None or second.memory_limit_mb is None
        else max(first.memory_limit_mb, second.memory_limit_mb)
    )
    return replace(
        first,
        wall_timeout_s=max(first.wall_timeout_s, second.wall_timeout_s),
        memory_limit_mb=memory,
        max_processes=max(first.max_processes, second.max_processes),
        max_file_size_mb=max(first.max_file_size_mb, second.max_file_size_mb),
        max_output_bytes=max(first.max_output_bytes, second.max_output_bytes),
        disk_limit_mb=max(first.disk_limit_mb, second.disk_limit_mb),
    )
