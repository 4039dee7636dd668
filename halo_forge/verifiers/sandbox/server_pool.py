"""Warm sandboxed servers shared by the threads of a verifier: started lazily, reused, replaced.

The Python test verifiers (`python.runner`, fork servers) and the compile verifiers
(`run_pool`, run servers of built programs) each keep up to one server per worker thread, so
that a sample pays for a fork rather than for a sandbox and an interpreter start. What they
share lives here: a thread borrows an idle server (a new one is started while fewer than
`size` exist, else it waits), gives it back after its sample, or discards it when it died or
stopped answering (it is killed with everything it started; the next borrow starts a new one).
All servers of a pool live in one throwaway directory of their sandbox (`Sandbox.workspace`),
each in a directory of its own, and talk to their client over a socket that only the server
holds (`channel`; `SpawnedServer`: JSON lines, raw bytes after them where a protocol needs them).
"""

from __future__ import annotations

import contextlib
import json
import select
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox import channel
from halo_forge.verifiers.sandbox.limits import SandboxLimits
from halo_forge.verifiers.sandbox.runner import Sandbox

_START_TIMEOUT_S = 60.0


def server_limits(run_limits: SandboxLimits, *, memory_mb: int, processes: int) -> SandboxLimits:
    """Limits of a whole server: room for itself (`memory_mb`, `processes`) plus one run at a
    time held to `run_limits`, which the server gives each run itself."""
    return SandboxLimits(
        wall_timeout_s=run_limits.wall_timeout_s,
        cpu_timeout_s=365 * 24 * 3600.0,  # RLIMIT_CPU counts a server's whole life
        memory_limit_mb=(
            None if run_limits.memory_limit_mb is None else run_limits.memory_limit_mb + memory_mb
        ),
        max_processes=run_limits.max_processes + processes,
        max_file_size_mb=run_limits.max_file_size_mb,
        max_output_bytes=run_limits.max_output_bytes,
        allow_network=run_limits.allow_network,
        disk_limit_mb=run_limits.disk_limit_mb,
    )


class Server(Protocol):
    def close(self) -> None:
        """Kill the server and everything it started."""
        ...


ServerT = TypeVar("ServerT", bound=Server)


class SpawnedServer:
    """A server process started with `Sandbox.spawn` in a directory of its own under the
    pool's, its stderr kept beside that directory (out of its runs' reach).

    Subclasses say what to start (`command`); the server's first line must be
    `{"ready": true, ...}`, kept as `ready`. `role` names the server in errors.
    """

    role = "server"

    def __init__(self, sandbox: Sandbox, workdir: Path) -> None:
        self.sandbox = sandbox
        name = f"{self.role.replace(' ', '-')}-{id(self)}"
        self.stderr_path = workdir / f"{name}.stderr"
        self.directory = workdir / name
        self.directory.mkdir()
        self.channel_path = str(self.directory / "channel")
        listener = channel.listen(self.channel_path)
        sandbox._hand_over(Path(self.channel_path))
        with open(self.stderr_path, "wb") as stderr:
            self.process = sandbox.spawn(self.command(), workdir=self.directory, stderr=stderr)
        deadline = time.monotonic() + _START_TIMEOUT_S
        self.connection = channel.accept(
            listener, self.channel_path, deadline, lambda: self.process.poll() is None
        )
        self._buffer = b""
        ready = self.read_message(deadline) if self.connection is not None else None
        if ready is None or not ready.get("ready"):
            self.close()
            raise VerifierError(
                f"the {self.role} did not start: {self.stderr_tail() or 'no output'}; "
                "check that `halo-forge info` shows a working sandbox"
            )
        self.ready: dict[str, Any] = ready

    def command(self) -> list[str]:
        """The server's command line (`self.directory` exists when this is called); the server
        connects to `self.channel_path` (`channel.connect`) and talks over that socket."""
        raise NotImplementedError

    def send(self, data: bytes) -> bool:
        """Write `data` to the server; False if it is gone."""
        try:
            assert self.connection is not None
            self.connection.sendall(data)
        except OSError:
            return False
        return True

    def read_message(self, deadline: float) -> dict[str, Any] | None:
        """The next JSON line as a dict; None if the server ended, broke the protocol or did
        not answer by `deadline`."""
        while b"\n" not in self._buffer:
            if not self._fill(deadline):
                return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            return None
        return message if isinstance(message, dict) else None

    def read_bytes(self, size: int, deadline: float) -> bytes | None:
        """The next `size` bytes; None if the server ended or missed `deadline`."""
        while len(self._buffer) < size:
            if not self._fill(deadline):
                return None
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _fill(self, deadline: float) -> bool:
        assert self.connection is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.connection], [], [], remaining)[0]:
            return False
        try:
            chunk = self.connection.recv(1 << 16)
        except OSError:
            return False
        self._buffer += chunk
        return bool(chunk)

    def stderr_tail(self, limit: int = 500) -> str:
        with contextlib.suppress(OSError):
            return self.stderr_path.read_text(errors="replace")[-limit:].strip()
        return ""

    def close(self) -> None:
        """Kill the server and everything it started."""
        self.sandbox.kill(self.process)
        if self.connection is not None:
            self.connection.close()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(OSError):
            self.stderr_path.unlink()
        shutil.rmtree(self.directory, ignore_errors=True)


class ServerPool(Generic[ServerT]):
    """Up to `size` servers made by `start(directory)`, shared by threads; thread-safe."""

    def __init__(self, size: int, sandbox: Sandbox, start: Callable[[Path], ServerT]) -> None:
        self.size = max(1, size)
        self.sandbox = sandbox
        self._start = start
        self._idle: list[ServerT] = []
        self._servers: set[ServerT] = set()
        self._starting = 0
        self._changed = threading.Condition()
        self._workspace = contextlib.ExitStack()
        self._workdir: Path | None = None
        self._finalizer = weakref.finalize(self, _close_all, self._servers, self._workspace)

    def borrow(self) -> ServerT:
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
            server = self._start(workdir)
        finally:
            with self._changed:
                self._starting -= 1
                if server is not None:
                    self._servers.add(server)
                self._changed.notify()
        return server

    def give_back(self, server: ServerT) -> None:
        with self._changed:
            if server in self._servers:
                self._idle.append(server)
            self._changed.notify()

    def discard(self, server: ServerT) -> None:
        """Kill a server that failed; the next borrow starts a new one."""
        with self._changed:
            self._servers.discard(server)
            self._changed.notify()
        server.close()

    @contextlib.contextmanager
    def borrowed(self) -> Iterator[ServerT]:
        """A server for the `with` block; discarded if the block raises, else given back."""
        server = self.borrow()
        try:
            yield server
        except BaseException:
            self.discard(server)
            raise
        self.give_back(server)

    def close(self) -> None:
        """Kill every server; the pool starts new ones if used again."""
        with self._changed:
            self._idle.clear()
            _close_all(self._servers, self._workspace)
            self._workdir = None
            self._changed.notify_all()


def _close_all(servers: set[Server], workspace: contextlib.ExitStack) -> None:
    for server in list(servers):
        server.close()
    servers.clear()
    workspace.close()
