"""The line between a sandboxed server and its client: a socket that only the server holds.

A server started with `Sandbox.spawn` inherits stdin and stdout pipes, and so does
bubblewrap's init process, the server's parent in its PID namespace. A program that the server
runs could open those pipes through `/proc/<pid>/fd` (as the same user, a pipe of another
process opens like a file) and write a forged answer into them. A socket cannot be opened that
way. So the client listens on a path in the server's directory (`listen`), the server
connects to it as soon as it runs (`connect`), and the client accepts that one connection and
removes the path before any program runs (`accept`): only the server holds the connection.
The run server is also not dumpable (`forbid_tracing`), so a program can neither take that
descriptor (`pidfd_getfd`, ptrace) nor touch the server's memory.

Standard library only: the servers import this.
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable

_PR_SET_DUMPABLE = 4


def listen(path: str) -> socket.socket:
    """A listening socket at `path`, for one server to connect to."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(1)
    except OSError:
        listener.close()
        raise
    return listener


def accept(
    listener: socket.socket, path: str, deadline: float, alive: Callable[[], bool]
) -> socket.socket | None:
    """The server's connection (None if it ended or did not connect by `deadline`); the
    listener is closed and its path removed either way, so nothing else can connect."""
    try:
        while time.monotonic() < deadline and alive():
            if select.select([listener], [], [], 0.05)[0]:
                connection, _ = listener.accept()
                return connection
        return None
    finally:
        listener.close()
        os.unlink(path)


def connect(path: str) -> socket.socket:
    """The server's side: connect to its client's socket."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    return connection


def forbid_tracing() -> None:
    """Make this process undumpable: no process without CAP_SYS_PTRACE may trace it, read or
    write its memory, or open or take its descriptors (`ptrace_may_access` refuses)."""
    import ctypes  # only the run server needs it; the Python fork server stays small

    if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")
