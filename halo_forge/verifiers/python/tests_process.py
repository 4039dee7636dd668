"""The tests process of a fork server: one long-lived process that runs every sample's asserts.

For HumanEval, MBPP and `python` asserts the program runs in a confined process of its own
(`program_process`) and the asserts run in a process that never runs a line of any program.
That process is trusted code only, so one serves all the samples of its server: forking and
ending a second process per sample cost as much as running the program itself. The server
forks it once, before its children's confinement is set up (so it counts as part of the
server), and per sample sends it the steps and the sample's four descriptors over a Unix
socket (`SCM_RIGHTS`): the two ends of the call pipes to the program's process, the report
pipe and the token's memory file. It reports the steps' records as a per-sample tests
process did (`harness.run_tests_process`), then closes them.

What one sample must not leave for the next:

- its names: each sample's tests get a fresh namespace, and the modules first imported
  during a sample are dropped from `sys.modules` after it, so the next sample imports them
  afresh;
- its handles: the program's objects of a sample call into its own channel, closed after the
  sample, never into the next sample's pipes;
- a program's reach into this process: it blocks every signal it can (a program that shares
  its user could interrupt it), and before each sample the server resumes it (SIGCONT undoes
  a SIGSTOP) and checks from outside that it lives and that its limits, priority, scheduling
  and CPU affinity are what they were at its start (a dozen system calls; a ping that woke
  the process to check itself cost two context switches per sample). A process that died
  or changed is replaced. The check comes after the last sample's processes are gone, so
  nothing of theirs can reach the next sample's tests.

A sample that ends without its tests' last record (deadline, tampering) ends this process
too: the next sample gets a fresh one.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import select
import signal
import socket
import sys
from typing import Any

from halo_forge.verifiers.python.harness import compile_step, run_tests_process
from halo_forge.verifiers.python.program_process import ProgramChannel

_STARTED, _FINISHED = b"!", b"."
_HEADER_BYTES = 4  # the length of what follows
_DESCRIPTORS = 4  # calls (write end), replies (read end), report, token
_FINISH_TIMEOUT_S = 2.0
_START_TIMEOUT_S = 30.0
_RLIMITS = tuple(
    getattr(resource, name) for name in sorted(dir(resource)) if name.startswith("RLIMIT_")
)


class TestsProcess:
    """The server's handle on its tests process; `ready` before each sample, then `send`."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.pid = -1
        self.pidfd = -1
        self.socket: socket.socket | None = None
        self.state: tuple[Any, ...] = ()
        self._start()

    def _start(self) -> None:
        server_end, tests_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                keep = tests_end.fileno()
                os.closerange(3, keep)  # the server's pipes must close when the server ends
                os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
                os.chdir(self.directory)
                _serve(tests_end)
            finally:
                os._exit(0)
        tests_end.close()
        self.pid, self.pidfd, self.socket = pid, os.pidfd_open(pid), server_end
        readable, _, _ = select.select([server_end, self.pidfd], [], [], _START_TIMEOUT_S)
        with contextlib.suppress(OSError):
            alive = server_end in readable and self.pidfd not in readable
            if alive and server_end.recv(1) == _STARTED:
                self.state = _process_state(pid)
                return
        self.stop()
        raise RuntimeError("the tests process did not start")

    def ready(self) -> None:
        """Make sure a healthy tests process waits for a sample: resume it, check it from
        outside, and start a new one in its place if it died or was changed."""
        if self.pid > 0 and self._unchanged():
            return
        self.stop()
        self._start()

    def _unchanged(self) -> bool:
        try:
            os.kill(self.pid, signal.SIGCONT)
            return (
                not select.select([self.pidfd], [], [], 0)[0]
                and _process_state(self.pid) == self.state
            )
        except OSError:
            return False

    def send(self, request: dict[str, Any], descriptors: tuple[int, int, int, int]) -> None:
        """Hand the tests process one sample: its steps and its four descriptors."""
        assert self.socket is not None
        payload = json.dumps(
            {
                "steps": request.get("steps", []),
                "entry_point": request.get("entry_point"),
                "parameter": request.get("parameter"),
            }
        ).encode()
        message = len(payload).to_bytes(_HEADER_BYTES, "big") + payload
        sent = socket.send_fds(self.socket, [message], list(descriptors))
        self.socket.sendall(message[sent:])

    def ended(self) -> list[int]:
        """What becomes readable when the sample's tests end: the process's word that it
        finished, or its pidfd (it died)."""
        assert self.socket is not None
        return [self.socket.fileno(), self.pidfd]

    def end_sample(self, done: bool) -> None:
        """After a sample: keep the process if it reported DONE and says it finished (soon
        after DONE), else stop it."""
        if done and self.socket is not None:
            readable, _, _ = select.select([self.socket], [], [], _FINISH_TIMEOUT_S)
            with contextlib.suppress(OSError):
                if readable and self.socket.recv(1) == _FINISHED:
                    return
        self.stop()

    def stop(self) -> None:
        """Kill and reap the tests process (a new one starts at the next `ready`)."""
        if self.pid > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self.pidfd)
        if self.socket is not None:
            self.socket.close()
        self.pid, self.pidfd, self.socket = -1, -1, None


def _process_state(pid: int) -> tuple[Any, ...]:
    """What another process of this user could change to starve or break process `pid`."""
    return (
        tuple(resource.prlimit(pid, limit) for limit in _RLIMITS),
        os.getpriority(os.PRIO_PROCESS, pid),
        os.sched_getscheduler(pid),
        os.sched_getaffinity(pid),
    )


def _serve(connection: socket.socket) -> None:
    """The tests process: run samples until the server's end closes."""
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    gc.enable()
    modules = frozenset(sys.modules)
    connection.sendall(_STARTED)
    while True:
        message = _receive(connection)
        if message is None:
            return
        payload, descriptors = message
        try:
            _run_sample(payload, descriptors)
        finally:
            for descriptor in descriptors:
                os.close(descriptor)
            connection.sendall(_FINISHED)
            for name in set(sys.modules) - modules:
                del sys.modules[name]


def _receive(connection: socket.socket) -> tuple[bytes, list[int]] | None:
    """The next sample (payload, descriptors), or None when the server's end closed."""
    data, descriptors, _, _ = socket.recv_fds(connection, 1 << 16, _DESCRIPTORS)
    while len(data) < _HEADER_BYTES or len(data) < _HEADER_BYTES + int.from_bytes(
        data[:_HEADER_BYTES], "big"
    ):
        chunk = connection.recv(1 << 16)
        if not chunk:
            for descriptor in descriptors:
                os.close(descriptor)
            return None
        data += chunk
    return data[_HEADER_BYTES:], descriptors


def _run_sample(payload: bytes, descriptors: list[int]) -> None:
    if len(descriptors) != _DESCRIPTORS:
        return
    calls_fd, replies_fd, report_fd, token_fd = descriptors
    request = json.loads(payload)
    steps = tuple(compile_step(step) for step in request["steps"])
    channel = ProgramChannel(calls_fd, replies_fd)
    try:
        run_tests_process(request, steps, channel, report_fd, token_fd)
    except OSError:  # the server stopped reading (the sample ended): nothing more to report
        pass
    finally:
        channel.close()
