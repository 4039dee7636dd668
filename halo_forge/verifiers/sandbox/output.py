"""Feed a sandboxed program its stdin and read its output as it comes, within caps and a deadline.

One selector loop per run, in the calling thread: it writes stdin without blocking (a program
that never reads its input cannot deadlock the run), keeps at most `max_output_bytes` of each
stream and stops the run as soon as a stream goes past that (a print loop must not hold a
worker until the wall timeout, nor fill memory). The main process's exit is watched with
`waitid(WNOWAIT)`, which leaves it unreaped: its pid, which is also the process group id, cannot
be reused while the sandbox still kills by it. `run_result` turns what was read and the exit
status into the run's `SandboxResult`.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from halo_forge.verifiers.sandbox.limits import SandboxResult

_READ_CHUNK = 65536
_WRITE_CHUNK = 65536
_EXIT_POLL_S = 0.05  # how often a quiet run checks whether its main process has exited
_EXIT_GRACE_S = 1.0  # after the main process exits, how long to read what is still in the pipes


@dataclass
class CollectedOutput:
    """The bytes a run printed and why the reading stopped."""

    stdout: bytes
    stderr: bytes
    truncated: bool = False  # a stream went past its cap (the run was stopped)
    timed_out: bool = False  # the deadline passed (the run was stopped)

    @property
    def killed(self) -> bool:
        """Whether the sandbox stopped the run (rather than the program ending by itself)."""
        return self.truncated or self.timed_out


def collect_output(
    process: subprocess.Popen[bytes],
    stdin: bytes | None,
    deadline: float,
    max_output_bytes: int,
    stop: Callable[[], None],
) -> CollectedOutput:
    """Write `stdin`, read stdout/stderr until both close; `stop()` kills the run when needed.

    Stops the run at the deadline, when a stream passes `max_output_bytes`, and, once the main
    process has exited, to end whatever it left behind holding the pipes.
    """
    assert process.stdout is not None and process.stderr is not None
    buffers = {process.stdout.fileno(): bytearray(), process.stderr.fileno(): bytearray()}
    result = CollectedOutput(b"", b"")
    with selectors.DefaultSelector() as selector:
        for descriptor in buffers:
            selector.register(descriptor, selectors.EVENT_READ)
        pending_input = memoryview(stdin or b"")
        if process.stdin is not None:
            if pending_input:
                os.set_blocking(process.stdin.fileno(), False)
                selector.register(process.stdin.fileno(), selectors.EVENT_WRITE)
            else:
                process.stdin.close()
        main_exited = False
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.timed_out = not main_exited
                stop()
                break
            for key, _ in selector.select(min(remaining, _EXIT_POLL_S)):
                if key.events == selectors.EVENT_WRITE:
                    pending_input = _write_some(process, selector, pending_input)
                    continue
                chunk = os.read(key.fd, _READ_CHUNK)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                buffer = buffers[key.fd]
                room = max_output_bytes - len(buffer)
                buffer += chunk[:room]
                if len(chunk) > room and not result.truncated:
                    result.truncated = True
                    stop()
            if not main_exited and has_exited(process):
                main_exited = True
                stop()  # what it started and left running must not outlive the run
                deadline = min(deadline, time.monotonic() + _EXIT_GRACE_S)
    result.stdout = bytes(buffers[process.stdout.fileno()])
    result.stderr = bytes(buffers[process.stderr.fileno()])
    return result


def has_exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the process has exited, without reaping it (its pid stays reserved)."""
    if process.returncode is not None:
        return True
    try:
        state = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return state is not None


def wait_for_exit(process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait, without reaping, until the process exits (True) or the deadline passes (False)."""
    pause = 0.0002  # its pipes close a moment before it is reported as exited: start short
    while not has_exited(process):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(remaining, pause))
        pause = min(pause * 2, 0.01)
    return True


def _write_some(
    process: subprocess.Popen[bytes], selector: selectors.BaseSelector, pending: memoryview
) -> memoryview:
    """Write what the pipe takes now; close stdin when all is written or the program closed it."""
    assert process.stdin is not None
    try:
        written = os.write(process.stdin.fileno(), pending[:_WRITE_CHUNK])
    except BlockingIOError:
        return pending
    except BrokenPipeError:
        written = len(pending)
    pending = pending[written:]
    if not pending:
        selector.unregister(process.stdin.fileno())
        process.stdin.close()
    return pending


def run_result(
    returncode: int, output: CollectedOutput, wall_time_s: float, *, bubblewrap: bool
) -> SandboxResult:
    """How a run ended, from its exit status and what reading its output saw.

    Bubblewrap exits with 128 + N when its program dies of signal N; that is reported as the
    signal, as subprocess reports a death without a wrapper. SIGXCPU (RLIMIT_CPU) is a timeout.
    """
    signal_number = -returncode if returncode < 0 else None
    if bubblewrap and 128 < returncode <= 128 + signal.NSIG:
        signal_number = returncode - 128
        returncode = -signal_number
    timed_out = output.timed_out or signal_number == signal.SIGXCPU
    return SandboxResult(
        returncode=None if output.killed or timed_out else returncode,
        stdout=output.stdout.decode("utf-8", errors="replace"),
        stderr=output.stderr.decode("utf-8", errors="replace"),
        timed_out=timed_out,
        wall_time_s=wall_time_s,
        output_truncated=output.truncated,
        signal=signal_number,
    )


def read_scratch_report(descriptor: int) -> bytes:
    """What the scratch check of an ended run reported (nothing when no scratch filled up);
    closes `descriptor`."""
    try:
        os.set_blocking(descriptor, False)
        return os.read(descriptor, 4096)
    except BlockingIOError:
        return b""
    finally:
        os.close(descriptor)
