"""The warm fork server: a small Python process in the sandbox that forks one child per sample.

Starting an interpreter costs ~25 ms of CPU; forking a warm one costs well under a millisecond,
if the warm one stays small. So `runner` starts `serve` with `sys.executable -I` (and
`-S` unless pytest is needed) through `Sandbox.spawn`, and nothing here imports threading,
logging, subprocess or random: their fork hooks (`os.register_at_fork`) run in every child and
tripled the cost of a fork. The server imports the harness and the modules it is told to
preload, then answers requests one at a time:

    request:  one JSON line   {"mode": ..., "code": ..., "limits": {...}, ...}
    response: one JSON line   {"records": [[kind, index, message], ...], ...}

on a socket that only the server holds (`sandbox.channel`).

Per request it compiles the program (and its tests where the child runs them: trusted code,
before the fork), makes the sample's empty directory and three channels (a report pipe, a memory
file for the token, a pipe to say "go"), forks, admits the child to its confinement
(`ChildConfinement`: cgroup and rlimits, set up once per server), draws the token once the child
exists (so the token never sits in the child's copy of this process's memory), and waits for the
child to exit or pass its deadline, reading its records. For asserts the child runs only the
program and the server's long-lived tests process (`tests_process`) runs the tests and writes
the records. Every record must carry the token; the first one that does not ends the run as
tampered with. Everything the child started is killed (`ChildConfinement.release`) before the
response goes out, so nothing outlives its sample. The records are returned as they came;
scoring them is the verifier's job (`scoring`).

Every page this process writes after a fork is copied first, so the per-sample path does
little in Python, and the garbage collector stays off here (frozen before each fork, back on
in each child) as the `gc.freeze` documentation recommends.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from typing import Any

from halo_forge.verifiers.python.guards import guard_audit_event
from halo_forge.verifiers.python.harness import (
    compile_sample,
    install_standard_streams,
    run_child,
)
from halo_forge.verifiers.python.program_process import serve_program
from halo_forge.verifiers.python.protocol import (
    TOKEN_BYTES,
)
from halo_forge.verifiers.python.report_channel import (
    RECORD_KINDS,
    RecordReader,
    describe_exit,
    drain,
    memory_file,
    read_memory_file,
    wait_for_records,
)
from halo_forge.verifiers.python.tests_process import TestsProcess
from halo_forge.verifiers.sandbox import channel
from halo_forge.verifiers.sandbox.confine import ChildConfinement, confinement_for
from halo_forge.verifiers.sandbox.limits import SandboxLimits
from halo_forge.verifiers.sandbox.writable_places import Scratch, fresh_directory

_CAPTURE_BYTES_DEFAULT = 1_000_000
_COLLECT_EVERY = 1000


class SampleRunner:
    """The server's side of each sample, with what every sample shares made once.

    The children's confinement (cgroup discovery, their group, their rlimits) is set up at the
    first request. Each child works in `<scratch>/sample`, made empty before it is forked (one
    child at a time, so one path serves all): HOME and TMPDIR point there once, in this
    process, and each child inherits them with its working directory. The scratch directory
    lives where the runner says (a tmpfs under bubblewrap: making and removing a directory on
    a disk costs milliseconds).

    Nothing a sample writes survives it: after each sample, every place it could write
    (`writable_roots`: the server's own directory and, under bubblewrap, its private /tmp
    and /dev/shm) goes back to what it held when the server started (`WritablePlaces`), so
    the next sample finds no file of the last one's. Those two are tmpfs of the disk limit
    (`capped_roots`): a sample that leaves one without a free block filled it, and its
    response says so (`disk_limit_reached_mb`), before the restore empties it.

    The tests process (`TestsProcess`) starts here, before the children's confinement, whose
    count of the server's own processes then includes it.
    """

    def __init__(self, scratch: str, writable_roots: list[str], capped_roots: list[str]) -> None:
        self.scratch = Scratch(scratch, "sample", writable_roots, capped_roots)
        tempfile = sys.modules.get("tempfile")  # loaded by a preloaded module, maybe
        if tempfile is not None:
            tempfile.tempdir = None  # recomputed from TMPDIR on next use
        self.null = os.open(os.devnull, os.O_RDWR)
        self.confinement: ChildConfinement | None = None
        self.tests = TestsProcess(scratch)

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Fork a confined child for one request and return its authenticated records."""
        limits = SandboxLimits(**request["limits"])
        self.confinement = confinement_for(self.confinement, limits)
        self.scratch.enter()
        if self.scratch.uses % _COLLECT_EVERY == 0:
            gc.unfreeze()  # collect what the frozen generation has gathered since the last time
            gc.collect()
        opened: set[int] = set()  # this sample's descriptors, closed whatever happens
        try:
            response = self._fork_and_collect(request, limits, self.confinement, opened)
            if self.scratch.filled():
                response["disk_limit_reached_mb"] = limits.disk_limit_mb
            return response
        finally:
            for descriptor in opened:
                os.close(descriptor)
            self.scratch.leave()

    def _fork_and_collect(
        self,
        request: dict[str, Any],
        limits: SandboxLimits,
        confinement: ChildConfinement,
        opened: set[int],
    ) -> dict[str, Any]:
        capture = request["mode"] == "script"
        capture_limit = limits.max_output_bytes or _CAPTURE_BYTES_DEFAULT
        null = self.null
        report_read, report_write = os.pipe()
        os.set_blocking(report_read, False)
        go_read, go_write = os.pipe()
        opened.update((report_read, report_write, go_read, go_write))
        token_fd = memory_file("token")
        opened.add(token_fd)
        stdin_fd = stdout_fd = stderr_fd = null
        if capture:
            stdin_fd = memory_file("stdin", request.get("stdin", "").encode())
            stdout_fd, stderr_fd = memory_file("stdout"), memory_file("stderr")
            opened.update((stdin_fd, stdout_fd, stderr_fd))
        # Asserts run in the server's tests process, which never runs the program: then only
        # the program is compiled here.
        asserts = request["mode"] == "asserts"
        compiled = compile_sample(request, with_tests=not asserts)
        split = asserts and compiled.program is not None
        pid = reader = None
        timed_out = True
        try:
            if split:  # before the fork: this process writes as little as it can while the
                # child lives (each page it writes then is copied first)
                calls_read, calls_write = os.pipe()
                replies_read, replies_write = os.pipe()
                opened.update((calls_read, calls_write, replies_read, replies_write))
                self.tests.ready()
                self.tests.send(request, (calls_write, replies_read, report_write, token_fd))
                ended = self.tests.ended()
                request.clear()  # no object the child inherits holds the tests' source
            exit_now = os._exit
            gc.freeze()  # the children's collections then skip this process's objects
            started = time.monotonic()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(report_read)
                    os.close(go_write)
                    if os.read(go_read, 1) == b"g":  # admitted, and the token is in place
                        gc.enable()
                        if split:
                            install_standard_streams(null, null, null, python_objects=False)
                            confinement.enter(keep_fds=(calls_read, replies_write))
                            sys.addaudithook(guard_audit_event)
                            serve_program(compiled.program, "solution", calls_read, replies_write)
                        else:
                            install_standard_streams(
                                stdin_fd, stdout_fd, stderr_fd, python_objects=capture
                            )
                            confinement.enter(keep_fds=(report_write, token_fd))
                            run_child(request, compiled, report_write, token_fd)
                finally:
                    exit_now(0)
            reader = RecordReader(os.urandom(TOKEN_BYTES), TOKEN_BYTES, RECORD_KINDS)
            deadline = started + limits.wall_timeout_s
            confinement.admit(pid)
            os.pwrite(token_fd, reader.token, 0)
            if not split:
                ended = [os.pidfd_open(pid)]
                opened.add(ended[0])
            os.write(go_write, b"g")
            for descriptor in list(opened - {report_read, token_fd, *ended}):  # theirs
                if descriptor not in (stdin_fd, stdout_fd, stderr_fd):
                    os.close(descriptor)  # the go pipe too: a child that read no "g" runs nothing
                    opened.discard(descriptor)
            timed_out = wait_for_records(reader, report_read, ended, deadline)
        finally:
            if split and timed_out:  # what the tests make of the program's end must not count
                self.tests.stop()
            status = self._end_children(confinement, pid)
            if reader is not None:
                drain(reader, report_read)
            if split:
                self.tests.end_sample(reader is not None and reader.done)
        timed_out = timed_out and not reader.done
        response: dict[str, Any] = {
            "records": reader.records,
            "done": reader.done,
            "timed_out": timed_out,
            "tampered": reader.tampered,
            "exit": describe_exit(status),
            "wall_time_s": time.monotonic() - started,
        }
        if capture:
            response["stdout"], truncated = read_memory_file(stdout_fd, capture_limit)
            response["stderr"], _ = read_memory_file(stderr_fd, capture_limit)
            response["output_truncated"] = truncated
        return response

    @staticmethod
    def _end_children(confinement: ChildConfinement, pid: int | None) -> int | None:
        """Kill and reap a sample's child and all it started; the child's exit status."""
        if pid is None:
            return None
        try:
            confinement.release(pid)
        finally:
            _, status = os.waitpid(pid, 0)  # SIGKILLed by release: this returns
        return status


def serve(
    channel_path: str,
    scratch_parent: str,
    writable_roots: list[str],
    capped_roots: list[str],
    preload: list[str],
) -> None:
    """Answer requests on the channel until the client closes it.

    `channel_path`: the client's socket (`sandbox.channel`); `scratch_parent`: where the samples' throwaway directories go; `writable_roots`: the
    directories a sample can write besides; `capped_roots`: those that are tmpfs of the disk
    limit (see `SampleRunner`). The garbage collector is off
    in this process and back on in each child: its objects are frozen before each fork, so
    that children's collections do not write to (and so copy) the pages they sit on; a full
    collection runs every `_COLLECT_EVERY` samples (`SampleRunner.run`).
    """
    connection = channel.connect(channel_path)
    requests = connection.makefile("rb")
    null = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1):  # stray prints (ours or a child's) must never reach the protocol
        os.dup2(null, descriptor)
    os.close(null)
    for module in preload:
        __import__(module)
    gc.disable()
    scratch = fresh_directory(scratch_parent, "fork-server-")
    runner = SampleRunner(scratch, writable_roots, capped_roots)

    def send(message: dict[str, Any]) -> None:
        connection.sendall((json.dumps(message) + "\n").encode())

    send({"ready": True, "modules": sorted(sys.modules)})
    while True:
        try:
            request = _read_request(requests)
            if request is None:
                return
            response = runner.run(request)
        except Exception as error:  # the server survives a bad request; the client sees why
            response = {"error": f"{type(error).__name__}: {error}"}
        send(response)


def _read_request(requests: Any) -> dict[str, Any] | None:
    """The next request, or None at the end. Its text lives only in this call's frame, and
    for asserts the request is cleared before the program's process is forked: no frame the
    program can walk up to holds the tests' source."""
    line = requests.readline()
    return json.loads(line) if line else None
