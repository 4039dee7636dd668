"""Children of a run server started and put in the run's groups before their runs need them.

Moving a process into a cgroup (a write of its pid to `cgroup.procs`) takes the kernel's
cgroup threadgroup lock for writing, which waits for an RCU grace period unless another move
happened within about one. Measured on the VMs of benchmarks/ (kernel 6.18, cgroup v1): 0.01-0.1
ms in a burst of moves, 5-13 ms after 50 ms without one. The run server moves one child per run,
so the first run after a compile (40-50 ms without a move) waited that long on the kernel before
its program started: 16 ms for `/bin/true` against 2.6 ms for the runs that followed.

So the server keeps a few standbys: children started and moved into the run's groups in one
burst, while a run that is already long is running (a compile: the wait costs nothing there),
each then waiting on a pipe. A run takes one (`Standbys.take`), gets its rlimits, and is told
what to execute (`Standby.start`: argv, environment, working directory; its stdin memory file
and output pipes were made with it). Only when none is left is a child started and moved on the
run's own time.

A standby is made by the server's standby factory (`standby_factory.c`, one small process per
server, built by `standby_factory.py`): a fork of it, made the server's own child, waiting for
its command (working directory, environment, argv), which it executes directly. A waiting
`/bin/sh` cost a second exec per run (0.5 ms of CPU on the VMs of benchmarks/), and a forked
copy of the server more: the child re-faults the interpreter's pages and the server copies every
page it writes after each fork. Where programs run as nobody (no writable cgroup:
`ChildConfinement`), the standby waits as the server's user, whose rlimits the server may set,
and drops to nobody once it has its command.

What a standby changes for the run beside it: nothing. The standbys sit in the children's
groups, which count them outside the run's process limit (`ChildConfinement.make_room`), and
`release` spares them and the factory. A program of the server's user can signal a standby or
the factory, and change their rlimits and scheduling: a killed standby stays a zombie of the
server, so its pid is never reused while the server spares it, and `take` skips it; so it does
one with a signal pending or whose rlimits, niceness, scheduling policy or CPUs differ from the
server's (`tampered`), and then replaces the factory too, whose state the next standbys would
inherit; a factory that stopped answering is replaced; a stopped standby or factory gets
SIGCONT before it is used. So no run starts in a state that the last sample's program left. A
standby runs nothing of a sample's before its own `start`.

Standard library only, and none of threading, logging or subprocess (see `run_server`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import select
import signal
import socket
from dataclasses import dataclass

from halo_forge.verifiers.sandbox.confine import ChildConfinement
from halo_forge.verifiers.sandbox.limits import PROCESS_LIMIT_NOBODY

#: Standbys a server keeps: more than the test cases of most samples, so that a sample's runs
#: all start from standbys moved during its compile.
STANDBYS = 8
#: How long a run must have been running before the server refills its standbys beside it.
REFILL_AFTER_S = 0.005
#: Signals Python ignores and a program must find at their defaults.
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)
#: Seconds the factory gets to answer (it forks once) before it is replaced.
_FACTORY_ANSWER_S = 5.0
_RLIMITS = tuple(getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_"))


@dataclass
class Standby:
    """A waiting child, and the server's ends of its files."""

    pid: int
    pidfd: int  # readable once the child has exited
    go: int  # write end of the pipe the child waits on
    stdin: int  # memory file, shared with the child (the child's stdin)
    stdout: int  # read ends of the child's output pipes
    stderr: int

    def exited(self) -> bool:
        return bool(select.select([self.pidfd], [], [], 0)[0])

    def tampered(self) -> bool:
        """Whether another process signalled the child (a SIGKILL still on its way) or changed
        what it inherited from the server."""
        try:
            return _signals_pending(self.pid) or _inherited_state(self.pid) != _inherited_state(0)
        except OSError:  # gone since `exited` looked
            return True

    def start(self, command: bytes, stdin: bytes) -> bool:
        """Give the child its stdin and its `command` (`command_bytes`); False if it is gone."""
        os.kill(self.pid, signal.SIGCONT)  # a program may have stopped it
        write_all(self.stdin, stdin)
        os.lseek(self.stdin, 0, os.SEEK_SET)
        try:
            write_all(self.go, command)
        except BrokenPipeError:
            return False
        for descriptor in (self.go, self.stdin):
            os.close(descriptor)
        self.go = self.stdin = -1
        return True

    def discard(self) -> None:
        """Kill and reap a standby that will not run, closing the server's ends of its files."""
        for descriptor in (self.go, self.stdin, self.stdout, self.stderr, self.pidfd):
            if descriptor >= 0:
                os.close(descriptor)
        os.kill(self.pid, signal.SIGKILL)  # never reaped before: the pid is still its own
        os.waitpid(self.pid, 0)


class Standbys:
    """A server's standbys (see the module docstring); one server, one thread."""

    def __init__(self, confinement: ChildConfinement, factory: str) -> None:
        """`confinement`: the children's, made by this process; `factory`: the standby
        factory's binary. Every descriptor this process holds becomes close-on-exec (those
        Python opens are already): the factory and each standby keep only their own."""
        self.confinement = confinement
        self.waiting: list[Standby] = []
        for name in os.listdir("/proc/self/fd"):
            if int(name) > 2:
                with contextlib.suppress(OSError):  # the listing's own, closed by now
                    os.set_inheritable(int(name), False)
        self.factory = StandbyFactory(factory)

    @property
    def spared(self) -> frozenset[int]:
        """The server's processes that `release` must spare: the standbys and the factory."""
        return frozenset((*(standby.pid for standby in self.waiting), self.factory.pid))

    def take(self) -> Standby:
        """A live, untouched standby, already in the run's groups; a new child if none is
        left."""
        while self.waiting:
            standby = self.waiting.pop()
            self.confinement.make_room(len(self.waiting))
            if not standby.exited():
                if not standby.tampered():
                    return standby
                self.factory.replace()  # what changed the standby may have changed its maker
            standby.discard()
        standby = self.start_one()
        if standby.tampered():  # the factory was changed since the last standby was checked
            standby.discard()
            self.factory.replace()
            standby = self.start_one()
        return standby

    def refill(self) -> None:
        """Start and move children until `STANDBYS` wait (one burst of moves); stop early where
        no process can be made now (a run's fork bomb holds them: a later run refills)."""
        while len(self.waiting) < STANDBYS:
            try:
                standby = self.start_one()
            except OSError:
                return
            self.waiting.append(standby)
            self.confinement.make_room(len(self.waiting))

    def start_one(self) -> Standby:
        """A new child, moved into the run's groups, waiting for its `start`."""
        stdin = os.memfd_create("stdin")  # close-on-exec: only its own child keeps it, as 0
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        go_read, go_write = os.pipe()
        files = (stdin, out_write, err_write, go_read)  # its descriptors 0, 1, 2 and 3
        try:
            pid = self.factory.make(files, self.confinement.process_limit == PROCESS_LIMIT_NOBODY)
        except OSError:
            for descriptor in (*files, out_read, err_read, go_write):
                os.close(descriptor)
            raise
        for descriptor in (out_write, err_write, go_read):
            os.close(descriptor)
        standby = Standby(pid, os.pidfd_open(pid), go_write, stdin, out_read, err_read)
        try:
            self.confinement.join(pid)
        except BaseException:
            standby.discard()
            raise
        return standby

    def close(self) -> None:
        while self.waiting:
            self.waiting.pop().discard()
        self.factory.close()


class StandbyFactory:
    """The server's handle on its standby factory (`standby_factory.c`), started at once."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.pid = 0
        self.socket: socket.socket | None = None
        self.replace()

    def make(self, files: tuple[int, int, int, int], as_nobody: bool) -> int:
        """The pid of a new standby (a child of this process) with `files` as its descriptors
        0-3; `OSError` if the factory could not fork (no process left under the limit). A
        factory that is gone or does not answer is replaced, once."""
        for attempt in range(2):
            reply = self._request(files, as_nobody)
            if reply is not None:
                if reply < 0:
                    raise OSError(-reply, os.strerror(-reply))
                return reply
            if attempt == 0:
                self.replace()
        raise OSError(errno.EIO, "the standby factory does not answer")

    def _request(self, files: tuple[int, int, int, int], as_nobody: bool) -> int | None:
        assert self.socket is not None
        try:
            os.kill(self.pid, signal.SIGCONT)  # a program may have stopped it
            socket.send_fds(self.socket, [b"\1" if as_nobody else b"\0"], list(files))
            reply = b""
            while len(reply) < 4:
                if not select.select([self.socket], [], [], _FACTORY_ANSWER_S)[0]:
                    return None
                chunk = self.socket.recv(4 - len(reply))
                if not chunk:
                    return None
                reply += chunk
        except OSError:
            return None
        return int.from_bytes(reply, "little", signed=True)

    def replace(self) -> None:
        """End the current factory, if any, and start a new one."""
        self.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.pid = os.posix_spawn(
                self.binary,
                [self.binary],
                {},
                file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), 3)],
                setsigdef=_DEFAULT_SIGNALS,
                setsigmask=(),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.socket = ours

    def close(self) -> None:
        """Kill and reap the factory (its standbys are the server's: they stay)."""
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0


def command_bytes(argv: list[str], environment: dict[str, str], cwd: str) -> bytes:
    """What a standby reads before it executes (see `standby_factory.c`): `argv` run in `cwd`
    with exactly `environment`. `ValueError` for a NUL character, which no program can get."""
    fields = [cwd, *(f"{name}={value}" for name, value in environment.items()), *argv]
    if not argv or any("\0" in field for field in fields):
        raise ValueError("a program needs an argv, and no argument or variable can hold NUL")
    body = b"".join(
        (
            len(environment).to_bytes(4, "little"),
            len(argv).to_bytes(4, "little"),
            *(os.fsencode(field) + b"\0" for field in fields),
        )
    )
    return len(body).to_bytes(4, "little") + body


def _signals_pending(pid: int) -> bool:
    """Whether a signal waits to be delivered to `pid`. A kill is sent at once but acted upon
    when the target next runs: a standby killed by the last run may not have exited yet."""
    with open(f"/proc/{pid}/status", "rb") as status:
        for line in status:
            if line.startswith((b"SigPnd:", b"ShdPnd:")) and int(line.split()[1], 16):
                return True
    return False


def _inherited_state(pid: int) -> tuple[object, ...]:
    """What a child inherits from the server that a process of the same user can change:
    rlimits, niceness, scheduling policy, CPUs (0: this process)."""
    limits = tuple(resource.prlimit(pid, number) for number in _RLIMITS)
    niceness = os.getpriority(os.PRIO_PROCESS, pid)
    return limits, niceness, os.sched_getscheduler(pid), frozenset(os.sched_getaffinity(pid))


def write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]
