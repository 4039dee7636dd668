"""The run server: a sandboxed process that runs built programs, one run at a time.

A run through `Sandbox.run` starts bubblewrap with its namespaces and its minimal root, makes
the run's cgroups and checks its scratch afterwards: 20-40 ms on the VMs of benchmarks/,
several times the run of a small program, and a sample with five test cases paid it five
times. So the compile verifiers keep one server per worker (`run_pool`), started once through
`Sandbox.spawn` with the same isolation (no network, the minimal view of the file system, its
own PID and IPC namespaces, capped /tmp and /dev/shm), and the server executes the program
once per test case, each time in a child made by its standby factory and put in the run's
cgroups ahead of time, beside an earlier long run (`standby`: a move into a cgroup can wait 5-13
ms on the kernel).
Each run is held as a run of its own:

- its limits are in place before its first instruction: the child is in the children's cgroup
  (processes, memory), and the server sets its rlimits (CPU, address space, file size, no
  core) while it waits (`ChildConfinement`), then lets it execute the program;
- stdin comes from a memory file; stdout and stderr are read as they come, each capped, and a
  stream that passes its cap stops the run;
- at the deadline, once the program exits, or when it floods its output, everything the run
  started is killed;
- it starts in an empty directory holding only the program's files (also HOME and TMPDIR;
  a sample's source file and its compiler's output when the server also compiles it),
  and afterwards every place it could write goes back to what it held when the server started
  (`WritablePlaces`): no run finds a file of another's. A capped tmpfs left without a free
  block is reported as filled (`disk_full`);
- the program cannot answer for the server: the server talks to its client over a socket only
  it holds, and it is not dumpable, so a program of the same user can neither trace it, nor
  read or write its memory, nor take its descriptors (`channel`). A program can still kill or
  stop the server; the client then reports that run as failed, never as passed.

Protocol, on the channel: a request is one JSON line
`{"limits": {...}, "argv": [...], "files": [[name, size], ...], "stdin_bytes": n, "env": {...},
"keep": [name, ...]}` followed by the files' bytes and then `n` bytes of stdin (`files` null:
the last request's files again; `env` adds to the environment; `keep` names files the run
writes, such as a compiler's output, that join the files of the next runs);
the response is one JSON line `{"status": ..., "stdout_bytes": ..., "stderr_bytes": ..., ...}`
followed by the bytes of stdout and stderr.

Standard library only, and none of threading, logging or subprocess, whose fork hooks would
slow down every fork (see `python.fork_server`, built the same way).
"""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from halo_forge.verifiers.sandbox import channel
from halo_forge.verifiers.sandbox.confine import confinement_for
from halo_forge.verifiers.sandbox.limits import NOBODY_UID, PROCESS_LIMIT_NOBODY, SandboxLimits
from halo_forge.verifiers.sandbox.standby import (
    REFILL_AFTER_S,
    Standbys,
    command_bytes,
    write_all,
)
from halo_forge.verifiers.sandbox.writable_places import Scratch, fresh_directory

_READ_CHUNK = 65536
_EXIT_GRACE_S = 1.0  # after the program exits or is stopped, how long to read what is left


class RunServer:
    """The server's side of each run; what every run shares is made once."""

    def __init__(
        self, scratch: str, writable_roots: list[str], capped_roots: list[str], factory: str
    ) -> None:
        self.scratch = Scratch(scratch, "run", writable_roots, capped_roots)
        self.factory = factory
        self.standbys: Standbys | None = None
        self.files: list[tuple[str, bytes]] = []

    def run(self, request: dict[str, Any], stdin: bytes) -> tuple[dict[str, Any], bytes, bytes]:
        """One run of the request's program: (header, stdout, stderr)."""
        limits = SandboxLimits(**request["limits"])
        current = self.standbys.confinement if self.standbys is not None else None
        confinement = confinement_for(current, limits)
        if self.standbys is None:
            self.standbys = Standbys(confinement, self.factory)
        self.scratch.enter()
        if confinement.process_limit == PROCESS_LIMIT_NOBODY:  # the program's user: its directory
            os.chown(self.scratch.directory, NOBODY_UID, NOBODY_UID)
        try:
            for name, content in self.files:
                descriptor = os.open(name, os.O_WRONLY | os.O_CREAT, 0o755)
                try:
                    write_all(descriptor, content)
                finally:
                    os.close(descriptor)
            environment = {**os.environ, **request.get("env", {})}
            header, stdout, stderr = self._fork_and_collect(
                request["argv"], environment, stdin, limits, self.standbys
            )
            if self.scratch.filled():
                header["disk_full"] = True
            self._keep(request.get("keep", ()))
            return header, stdout, stderr
        finally:
            self.scratch.leave()

    def _keep(self, names: list[str]) -> None:
        """Make the files `names` that the run wrote (a compiler's output) part of the
        program's files for the next runs."""
        kept = []
        for name in names:
            try:
                with open(os.path.basename(name), "rb") as file:
                    kept.append((os.path.basename(name), file.read()))
            except OSError:
                continue
        replaced = {name for name, _ in kept}
        self.files = [entry for entry in self.files if entry[0] not in replaced] + kept

    def _fork_and_collect(
        self,
        argv: list[str],
        environment: dict[str, str],
        stdin: bytes,
        limits: SandboxLimits,
        standbys: Standbys,
    ) -> tuple[dict[str, Any], bytes, bytes]:
        confinement = standbys.confinement
        command = command_bytes(argv, environment, self.scratch.directory)
        started = time.monotonic()
        while True:
            standby = standbys.take()
            confinement.limit(standby.pid)
            if standby.start(command, stdin):
                break
            standby.discard()  # it died after `take` looked: another one runs the program
        pid = standby.pid
        try:
            output = _collect(
                (standby.stdout, standby.stderr),
                standby.pidfd,
                started + limits.wall_timeout_s,
                limits.max_output_bytes,
                lambda: confinement.release(pid, standbys.spared),
                standbys.refill,
            )
        finally:
            confinement.release(pid, standbys.spared)
            _, status = os.waitpid(pid, 0)
            for descriptor in (standby.stdout, standby.stderr, standby.pidfd):
                os.close(descriptor)
        stdout, stderr, truncated, timed_out = output
        header = {
            "status": os.waitstatus_to_exitcode(status),
            "timed_out": timed_out,
            "output_truncated": truncated,
            "wall_time_s": time.monotonic() - started,
            "stdout_bytes": len(stdout),
            "stderr_bytes": len(stderr),
        }
        return header, stdout, stderr


def _collect(
    streams: tuple[int, int],
    pidfd: int,
    deadline: float,
    cap: int,
    stop: Callable[[], None],
    beside_long_run: Callable[[], None],
) -> tuple[bytes, bytes, bool, bool]:
    """Read both streams until they close: (stdout, stderr, truncated, timed_out).

    `stop()` kills the run: at the deadline, when a stream passes `cap`, and once the program
    has exited (what it started must not outlive it); reading then goes on for a grace period.
    `beside_long_run()` is called once if the program still runs after `REFILL_AFTER_S`.
    """
    buffers = {descriptor: bytearray() for descriptor in streams}
    reading = list(streams)
    exited = truncated = timed_out = stopped = False
    beside_at: float | None = time.monotonic() + REFILL_AFTER_S
    while reading or not exited:
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            timed_out = not exited
            stop()
            break
        if beside_at is not None and now >= beside_at:
            beside_at = None
            if not exited:
                beside_long_run()
                continue
        wait = remaining if beside_at is None else min(remaining, beside_at - now)
        watched = reading if exited else [*reading, pidfd]
        for descriptor in select.select(watched, [], [], wait)[0]:
            if descriptor == pidfd:
                exited = True
            else:
                chunk = os.read(descriptor, _READ_CHUNK)
                if not chunk:
                    reading.remove(descriptor)
                    continue
                buffer = buffers[descriptor]
                room = cap - len(buffer)
                buffer += chunk[:room]
                truncated = truncated or len(chunk) > room
        if (exited or truncated) and not stopped:
            stopped = True
            stop()
            deadline = min(deadline, time.monotonic() + _EXIT_GRACE_S)
            exited = True  # killed: its end is certain, only the pipes are left to read
    out, err = streams
    return bytes(buffers[out]), bytes(buffers[err]), truncated, timed_out


def _read_request(
    requests: BinaryIO,
) -> tuple[dict[str, Any], list[tuple[str, bytes]] | None, bytes] | None:
    """The next request, its files (None: the same as before) and its stdin; None at the end."""
    line = requests.readline()
    if not line:
        return None
    request = json.loads(line)
    files = None
    if request.get("files") is not None:
        files = [(os.path.basename(name), requests.read(size)) for name, size in request["files"]]
    stdin = requests.read(request.get("stdin_bytes", 0))
    return request, files, stdin


def serve(
    channel_path: str,
    scratch_parent: str,
    writable_roots: list[str],
    capped_roots: list[str],
    factory: str,
) -> None:
    """Answer requests on the channel until the client closes it (see the module docstring);
    `factory`: the standby factory's binary (`standby_factory`)."""
    channel.forbid_tracing()
    connection = channel.connect(channel_path)
    requests = connection.makefile("rb")
    null = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1):  # stray output must never reach anyone
        os.dup2(null, descriptor)
    os.close(null)
    scratch = fresh_directory(scratch_parent, "run-server-")
    server = RunServer(scratch, writable_roots, capped_roots, factory)

    def send(header: dict[str, Any], *payload: bytes) -> None:
        connection.sendall((json.dumps(header) + "\n").encode() + b"".join(payload))

    send({"ready": True})
    while True:
        try:
            received = _read_request(requests)
            if received is None:
                return
            request, files, stdin = received
            if files is not None:
                server.files = files
            header, stdout, stderr = server.run(request, stdin)
        except Exception as error:  # the server survives a bad request; the client sees why
            send({"error": f"{type(error).__name__}: {error}"})
            continue
        send(header, stdout, stderr)
