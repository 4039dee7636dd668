"""The warm fork server: a small Python process in the sandbox that forks one child per sample.

Starting an interpreter costs ~25 ms of CPU; forking a warm one costs a few milliseconds, and
a process that never imported torch forks ~14 ms faster than one that did. So `python_runner`
starts `serve` with `sys.executable -I` (and `-S` unless pytest is needed) through
`Sandbox.spawn`; the server imports the harness and the modules it is told to preload, freezes
its objects for the garbage collector (so children do not copy their pages), then answers
requests one at a time:

    stdin:  one JSON request per line   {"mode": ..., "code": ..., "limits": {...}, ...}
    stdout: one JSON response per line  {"records": [[kind, index, message], ...], ...}

Per request it makes a throwaway directory and three channels (a report pipe, a memory file
for the token, a pipe to say "go"), forks, draws the token once the child exists (so the
token never sits in the child's copy of this process's memory), and reads the child's
records until the child says it is done, exits, or passes its deadline. Every record must
carry the token; the first one that does not ends the run as tampered with. The child's whole
group is killed (`release_confined`) before the response goes out, so nothing it started
outlives its sample. The records are returned as they came; scoring them is the verifier's job
(`python_scoring`).
"""

from __future__ import annotations

import gc
import hmac
import json
import os
import select
import shutil
import sys
import tempfile
import time
from typing import Any

from halo_forge.verifiers.python_harness import (
    COUNT,
    DONE,
    FAILED,
    PASSED,
    PROGRAM_ERROR,
    TOKEN_BYTES,
    install_standard_streams,
    run_child,
)
from halo_forge.verifiers.sandbox import SandboxLimits, confine_current_process, release_confined

_MAX_REPORT_BYTES = 4 * 1024 * 1024  # more than this is a flood, not a report
_MAX_HEADER_BYTES = 64
_CAPTURE_BYTES_DEFAULT = 1_000_000
_EXIT_GRACE_S = 0.5


def _memory_file(name: str, content: bytes = b"") -> int:
    descriptor = os.memfd_create(name, 0)
    if content:
        os.write(descriptor, content)
        os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor


def _read_memory_file(descriptor: int, limit: int) -> tuple[str, bool]:
    size = os.fstat(descriptor).st_size
    data = os.pread(descriptor, min(size, limit), 0)
    return data.decode("utf-8", "replace"), size > limit


class RecordReader:
    """Parses `KIND INDEX LENGTH\\n<message><token>` records and checks every token."""

    def __init__(self, token: bytes, token_bytes: int, kinds: frozenset[bytes]) -> None:
        self.token = token
        self.token_bytes = token_bytes
        self.kinds = kinds
        self.buffer = bytearray()
        self.records: list[list[Any]] = []
        self.received = 0
        self.done = False
        self.tampered: str | None = None

    def feed(self, data: bytes, done_kind: bytes) -> None:
        self.received += len(data)
        if self.received > _MAX_REPORT_BYTES:
            self.tampered = "the report channel was flooded"
            return
        self.buffer += data
        while not self.done and self.tampered is None:
            newline = self.buffer.find(b"\n", 0, _MAX_HEADER_BYTES)
            if newline < 0:
                if len(self.buffer) >= _MAX_HEADER_BYTES:
                    self.tampered = "a malformed record was written to the report channel"
                return
            parts = bytes(self.buffer[:newline]).split(b" ")
            if (
                len(parts) != 3
                or parts[0] not in self.kinds
                or not parts[1].isdigit()
                or not parts[2].isdigit()
            ):
                self.tampered = "a malformed record was written to the report channel"
                return
            length = int(parts[2])
            end = newline + 1 + length + self.token_bytes
            if len(self.buffer) < end:
                return
            message = bytes(self.buffer[newline + 1 : newline + 1 + length])
            token = bytes(self.buffer[end - self.token_bytes : end])
            del self.buffer[:end]
            if not hmac.compare_digest(token, self.token):
                self.tampered = "a record without the run's token was written to the report channel"
                return
            kind = parts[0]
            self.records.append([kind.decode(), int(parts[1]), message.decode("utf-8", "replace")])
            self.done = kind == done_kind


def _collect(reader: RecordReader, report_fd: int, process_fd: int, deadline: float) -> bool:
    """Read records until DONE, the child's exit or the deadline; True if the deadline passed."""
    os.set_blocking(report_fd, False)
    poller = select.poll()
    poller.register(report_fd, select.POLLIN)
    poller.register(process_fd, select.POLLIN)
    while not reader.done and reader.tampered is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        events = dict(poller.poll(max(1, int(remaining * 1000))))
        exited = process_fd in events
        while not reader.done and reader.tampered is None:
            try:
                data = os.read(report_fd, 65536)
            except BlockingIOError:
                break
            if not data:
                exited = True  # every writer is gone: nothing more can come
                break
            reader.feed(data, DONE)
        if exited:
            break
    return False


def _describe_exit(status: int | None) -> str:
    if status is None:
        return "killed"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def run_sample(request: dict[str, Any], scratch: str) -> dict[str, Any]:
    """Fork a confined child for one request and return its authenticated records."""
    limits = SandboxLimits(**request["limits"])
    capture = request["mode"] == "script"
    capture_limit = limits.max_output_bytes or _CAPTURE_BYTES_DEFAULT
    run_directory = tempfile.mkdtemp(prefix="run-", dir=scratch)
    report_read, report_write = os.pipe()
    go_read, go_write = os.pipe()
    token_fd = _memory_file("token")
    null = os.open(os.devnull, os.O_RDWR)
    stdin_fd = _memory_file("stdin", request.get("stdin", "").encode()) if capture else null
    stdout_fd = _memory_file("stdout") if capture else null
    stderr_fd = _memory_file("stderr") if capture else null
    exit_now = os._exit
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(report_read)
            os.close(go_write)
            os.read(go_read, 1)  # the token is in place once this byte arrives
            install_standard_streams(stdin_fd, stdout_fd, stderr_fd, python_objects=capture)
            confine_current_process(limits, run_directory, keep_fds=(report_write, token_fd))
            run_child(request, report_write, token_fd)
        finally:
            exit_now(0)
    os.close(report_write)
    os.close(go_read)
    reader = RecordReader(
        os.urandom(TOKEN_BYTES),
        TOKEN_BYTES,
        frozenset({PASSED, FAILED, COUNT, PROGRAM_ERROR, DONE}),
    )
    os.pwrite(token_fd, reader.token, 0)
    os.write(go_write, b"g")
    os.close(go_write)
    deadline = started + limits.wall_timeout_s
    process_fd = os.pidfd_open(pid)
    try:
        timed_out = _collect(reader, report_read, process_fd, deadline)
        if reader.done:  # the child exits right after DONE; killing it sooner costs more
            select.select(
                [process_fd], [], [], max(0.0, min(_EXIT_GRACE_S, deadline - time.monotonic()))
            )
    finally:
        try:
            release_confined(pid)
        finally:
            _, status = os.waitpid(pid, 0)  # the child itself was SIGKILLed: this returns
            os.close(process_fd)
    response: dict[str, Any] = {
        "records": reader.records,
        "done": reader.done,
        "timed_out": timed_out,
        "tampered": reader.tampered,
        "exit": _describe_exit(status),
        "wall_time_s": time.monotonic() - started,
    }
    if capture:
        response["stdout"], truncated = _read_memory_file(stdout_fd, capture_limit)
        response["stderr"], _ = _read_memory_file(stderr_fd, capture_limit)
        response["output_truncated"] = truncated
    for descriptor in {report_read, token_fd, null, stdin_fd, stdout_fd, stderr_fd}:
        os.close(descriptor)
    shutil.rmtree(run_directory, ignore_errors=True)
    return response


def serve(preload: list[str]) -> None:
    """Answer requests from stdin on stdout until stdin closes."""
    requests = os.fdopen(os.dup(0), "rb")
    responses = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1):  # stray prints (ours or a child's) must never reach the protocol
        os.dup2(null, descriptor)
    os.close(null)
    for module in preload:
        __import__(module)
    gc.freeze()  # children's collections then skip our objects instead of copying their pages
    scratch = tempfile.mkdtemp(prefix="fork-server-", dir=os.getcwd())

    def send(message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(responses, data) :]

    send({"ready": True, "modules": sorted(sys.modules)})
    for line in requests:
        try:
            request = json.loads(line)
            response = run_sample(request, scratch)
        except Exception as error:  # the server survives a bad request; the client sees why
            response = {"error": f"{type(error).__name__}: {error}"}
        send(response)
