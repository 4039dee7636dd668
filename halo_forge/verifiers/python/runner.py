"""A pool of warm fork servers, seen from the verifier's process.

`ForkServerPool.run(request)` borrows an idle server (starting one if fewer than `size` run),
sends the request and waits for the response; each thread of `verify_batch` holds one server
while its sample runs. A server that dies or stops answering (a sample that
killed its parent, a harness bug) is killed with everything it started and replaced on the
next request; its sample gets `{"server_failure": why}`, which the verifier scores 0. A server
killed by its own sample is noticed when its pipe closes, which under bubblewrap is when the
sample's processes have ended too, and at the latest at the sample's timeout plus a grace.

Servers are started lazily through `Sandbox.spawn` from `sys.executable` with `-I` (no
environment variables, no user site), plus `-S` unless the servers need third-party packages
(pytest): the smallest process that runs the harness forks fastest, and it never imports torch.
Under bubblewrap a server keeps its samples' directories on its own /tmp, a tmpfs capped at
the disk limit, and its own directory is a scratch inside it: nothing a sample writes reaches
the host, and on a disk, removing a directory can wait for the device (3 ms per sample on the
VM of benchmarks/). Servers see the system, their interpreter and this package, nothing else
of the project.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import select
import shutil
import sys
import threading
import time
import weakref
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox import Sandbox, SandboxLimits
from halo_forge.verifiers.sandbox.view import SCRATCH_MOUNTS

_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from halo_forge.verifiers.python.fork_server import serve; "
    "roots = [[root for root in part.split(':') if root] for part in sys.argv[3:5]]; "
    "serve(sys.argv[2], *roots, sys.argv[5:])"
)
#: The files whose code decides a verdict; their hash is part of every cache fingerprint, so
#: a changed harness never serves a result it would no longer give.
VERDICT_FILES = (
    "base.py",
    "benchmark_tasks.py",
    "fork_server.py",
    "guards.py",
    "harness.py",
    "harness_pytest.py",
    "plain.py",
    "program_process.py",
    "protocol.py",
    "report_channel.py",
    "scoring.py",
    "tests_process.py",
    "units.py",
    "verifiers.py",
    "writable_places.py",
)
_START_TIMEOUT_S = 60.0
#: Time a server gets beyond a sample's own wall timeout to kill the sample and answer.
_ANSWER_GRACE_S = 5.0
#: The harness the servers import, the only part of the project their sandbox shows.
_PACKAGE = Path(__file__).resolve().parents[2]
_PROJECT_ROOT = str(_PACKAGE.parent)


def server_limits(sample_limits: SandboxLimits) -> SandboxLimits:
    """Limits of a whole server: room for itself plus one confined sample at a time."""
    return SandboxLimits(
        wall_timeout_s=sample_limits.wall_timeout_s,
        cpu_timeout_s=365 * 24 * 3600.0,  # RLIMIT_CPU counts a server's whole life
        memory_limit_mb=(
            None if sample_limits.memory_limit_mb is None else sample_limits.memory_limit_mb + 512
        ),
        max_processes=sample_limits.max_processes + 8,
        max_file_size_mb=sample_limits.max_file_size_mb,
        max_output_bytes=sample_limits.max_output_bytes,
        allow_network=sample_limits.allow_network,
        disk_limit_mb=sample_limits.disk_limit_mb,
    )


class ForkServer:
    """One running server: its process, the pipe it answers on and what it imported.

    Each server gets its own directory under the pool's `workdir` (its stderr stays beside it,
    out of the samples' reach), so that samples on two servers never share a writable place;
    the server empties all of its writable places after each sample (`fork_server`).
    """

    def __init__(
        self, sandbox: Sandbox, workdir: Path, site_packages: bool, preload: tuple[str, ...]
    ) -> None:
        self.sandbox = sandbox
        self.stderr_path = workdir / f"server-{id(self)}.stderr"
        self.directory = workdir / f"server-{id(self)}"
        self.directory.mkdir()
        flags = ["-I"] if site_packages else ["-I", "-S"]
        scratch_parent = str(sandbox.private_tmp or self.directory)
        writable = [str(self.directory)]
        capped: list[str] = []
        if sandbox.private_tmp is not None:  # every place a sample writes is a capped tmpfs
            writable += SCRATCH_MOUNTS
            capped = writable
        argv = [sys.executable, *flags, "-c", _BOOTSTRAP, _PROJECT_ROOT, scratch_parent]
        argv += [":".join(writable + capped), ":".join(capped), *preload]
        with open(self.stderr_path, "wb") as stderr:
            self.process = sandbox.spawn(argv, workdir=self.directory, stderr=stderr)
        self._buffer = b""
        ready = self._read_message(time.monotonic() + _START_TIMEOUT_S)
        if ready is None or not ready.get("ready"):
            self.close()
            raise VerifierError(
                f"the Python fork server did not start: {self.stderr_tail() or 'no output'}; "
                f"check that {sys.executable} runs and `halo-forge info` shows a working sandbox"
            )
        self.modules: list[str] = ready["modules"]

    def request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one request; the response, or None if the server died or did not answer."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        return self._read_message(time.monotonic() + timeout_s)

    def _read_message(self, deadline: float) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([descriptor], [], [], remaining)[0]:
                return None
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            return None
        return message if isinstance(message, dict) else None

    def stderr_tail(self, limit: int = 500) -> str:
        with contextlib.suppress(OSError):
            return self.stderr_path.read_text(errors="replace")[-limit:].strip()
        return ""

    def close(self) -> None:
        """Kill the server and everything it started."""
        self.sandbox.kill(self.process)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(OSError):
            self.stderr_path.unlink()
        shutil.rmtree(self.directory, ignore_errors=True)


def _close_all(servers: set[ForkServer], workspace: contextlib.ExitStack) -> None:
    for server in list(servers):
        server.close()
    servers.clear()
    workspace.close()


class ForkServerPool:
    """Up to `size` warm servers shared by the threads of a verifier; thread-safe."""

    def __init__(
        self,
        size: int,
        sample_limits: SandboxLimits,
        *,
        site_packages: bool = False,
        preload: tuple[str, ...] = (),
        expose_paths: tuple[Path, ...] = (),
    ) -> None:
        """`expose_paths`: what samples may read besides the system, the interpreter and the
        harness (a verifier's `expose_paths`)."""
        self.size = max(1, size)
        self.site_packages = site_packages
        self.preload = preload
        # Samples write only their scratch (a capped tmpfs under bubblewrap), never the host.
        self.sandbox = Sandbox(
            server_limits(sample_limits),
            readable_paths=(_PACKAGE, *expose_paths),
            keep_writes=False,
        )
        self._idle: list[ForkServer] = []
        self._servers: set[ForkServer] = set()
        self._starting = 0
        self._changed = threading.Condition()
        self._workspace = contextlib.ExitStack()
        self._workdir: Path | None = None
        self._finalizer = weakref.finalize(self, _close_all, self._servers, self._workspace)

    def _borrow(self) -> ForkServer:
        """An idle server, a new one if fewer than `size` exist, else wait for one."""
        with self._changed:
            while not self._idle and len(self._servers) + self._starting >= self.size:
                self._changed.wait()
            if self._idle:
                return self._idle.pop()
            self._starting += 1
            if self._workdir is None:
                self._workdir = self._workspace.enter_context(self.sandbox.workspace()).path
            workdir = self._workdir
        server = None
        try:
            server = ForkServer(self.sandbox, workdir, self.site_packages, self.preload)
        finally:
            with self._changed:
                self._starting -= 1
                if server is not None:
                    self._servers.add(server)
                self._changed.notify()
        return server

    def _give_back(self, server: ForkServer) -> None:
        with self._changed:
            if server in self._servers:
                self._idle.append(server)
            self._changed.notify()

    def _discard(self, server: ForkServer) -> None:
        with self._changed:
            self._servers.discard(server)
            self._changed.notify()
        server.close()

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one sample on a warm server and return the server's response."""
        server = self._borrow()
        timeout_s = request["limits"]["wall_timeout_s"] + _ANSWER_GRACE_S
        try:
            response = server.request(request, timeout_s)
        except BaseException:
            self._discard(server)
            raise
        if response is None:
            reason = server.stderr_tail() or "it stopped answering (killed by the program?)"
            self._discard(server)
            return {"server_failure": f"the test process's server died: {reason}"}
        self._give_back(server)
        return response

    def server_modules(self) -> list[str]:
        """Modules a server has imported (to check that it stays small: no torch)."""
        server = self._borrow()
        try:
            return list(server.modules)
        finally:
            self._give_back(server)

    def close(self) -> None:
        """Kill every server; the pool starts new ones if used again."""
        with self._changed:
            self._idle.clear()
            _close_all(self._servers, self._workspace)
            self._workdir = None
            self._changed.notify_all()

    def __enter__(self) -> ForkServerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@functools.lru_cache(maxsize=1)
def python_environment() -> dict[str, str]:
    """What the verdicts depend on besides the code: interpreter, harness and pytest versions."""
    digest = hashlib.sha256()
    for name in VERDICT_FILES:
        digest.update((Path(__file__).parent / name).read_bytes())
    environment = {"python": sys.version, "harness": digest.hexdigest()}
    with contextlib.suppress(PackageNotFoundError):
        environment["pytest"] = version("pytest")
    return environment
