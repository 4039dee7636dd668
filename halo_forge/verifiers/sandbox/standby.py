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

A standby is `/bin/sh` waiting for one line, `cd DIR && export ... && exec PROGRAM ...`, every
word quoted by the server, started with `posix_spawn` (the server's memory is not copied). A
forked copy of the server cost about twice the CPU: the child re-faults the interpreter's pages
and the server copies every page it writes after each fork. Where programs run as nobody (no
writable cgroup: `ChildConfinement`), the server forks: the child waits as the server's user,
whose rlimits the server may set, and drops to nobody and becomes the same shell when told to.

What a standby changes for the run beside it: nothing. The standbys sit in the children's
groups, which count them outside the run's process limit (`ChildConfinement.make_room`), and
`release` spares them. A program of the server's user can signal a standby, and change its
rlimits and scheduling: a killed one stays a zombie of the server, so its pid is never reused
while the server spares it, and `take` skips it; so it does one with a signal pending or whose
rlimits, niceness, scheduling policy or CPUs differ from the server's (`tampered`); a stopped
one gets SIGCONT when it starts. So no run starts in a state that the last sample's program
left. A standby runs nothing of a sample's before its own `start`.

Standard library only, and none of threading, logging or subprocess (see `run_server`).
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
from dataclasses import dataclass

from halo_forge.verifiers.sandbox.confine import ChildConfinement
from halo_forge.verifiers.sandbox.limits import NOBODY_UID, PROCESS_LIMIT_NOBODY

#: Standbys a server keeps: more than the test cases of most samples, so that a sample's runs
#: all start from standbys moved during its compile.
STANDBYS = 8
#: How long a run must have been running before the server refills its standbys beside it.
REFILL_AFTER_S = 0.005
#: The standby: one line from descriptor 3, evaluated. `$N` is a newline (see `_quote`).
_WAITER = ["/bin/sh", "-c", "N='\n'; read -r line <&3 && exec 3<&- && eval \"$line\""]
_GO = b"g"
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)  # Python ignores them; a program must not
_EXEC_FAILED = 127
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
    go_byte: bytes = b""  # what a forked child waits for before it becomes the shell

    def exited(self) -> bool:
        return bool(select.select([self.pidfd], [], [], 0)[0])

    def tampered(self) -> bool:
        """Whether another process signalled the child (a SIGKILL still on its way) or changed
        what it inherited from the server."""
        try:
            return _signals_pending(self.pid) or _inherited_state(self.pid) != _inherited_state(0)
        except OSError:  # gone since `exited` looked
            return True

    def start(self, argv: list[str], environment: dict[str, str], cwd: str, stdin: bytes) -> bool:
        """Give the child its stdin and tell it what to execute; False if it is gone."""
        os.kill(self.pid, signal.SIGCONT)  # a program may have stopped it
        write_all(self.stdin, stdin)
        os.lseek(self.stdin, 0, os.SEEK_SET)
        exports = " ".join(_quote(f"{name}={value}") for name, value in environment.items())
        command = " ".join(_quote(word) for word in argv)
        # `cd` sets PWD and OLDPWD, which a run of its own would not have.
        line = f"cd -- {_quote(cwd)} && unset OLDPWD PWD && export {exports} && exec {command}"
        try:
            write_all(self.go, self.go_byte + f"{line}\n".encode())
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

    def __init__(self, confinement: ChildConfinement) -> None:
        """`confinement`: the children's, made by this process. Every descriptor this process
        holds becomes close-on-exec (those Python opens are already): a standby keeps only
        its own four."""
        self.confinement = confinement
        self.waiting: list[Standby] = []
        for name in os.listdir("/proc/self/fd"):
            if int(name) > 2:
                with contextlib.suppress(OSError):  # the listing's own, closed by now
                    os.set_inheritable(int(name), False)

    @property
    def pids(self) -> frozenset[int]:
        return frozenset(standby.pid for standby in self.waiting)

    def take(self) -> Standby:
        """A live standby, already in the run's groups; a new child if none is left."""
        while self.waiting:
            standby = self.waiting.pop()
            self.confinement.make_room(len(self.waiting))
            if not standby.exited() and not standby.tampered():
                return standby
            standby.discard()
        return self.start_one()

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
        forks = self.confinement.process_limit == PROCESS_LIMIT_NOBODY
        try:
            if forks:
                pid = _fork_for_nobody(files)
            else:
                pid = os.posix_spawn(
                    _WAITER[0],
                    _WAITER,
                    {},
                    file_actions=[(os.POSIX_SPAWN_DUP2, fd, n) for n, fd in enumerate(files)],
                    setpgroup=0,  # release kills the run's process group
                    setsigdef=_DEFAULT_SIGNALS,
                    setsigmask=(),
                )
        except OSError:
            for descriptor in (*files, out_read, err_read, go_write):
                os.close(descriptor)
            raise
        for descriptor in (out_write, err_write, go_read):
            os.close(descriptor)
        standby = Standby(pid, os.pidfd_open(pid), go_write, stdin, out_read, err_read)
        standby.go_byte = _GO if forks else b""
        try:
            self.confinement.join(pid)
        except BaseException:
            standby.discard()
            raise
        return standby

    def close(self) -> None:
        while self.waiting:
            self.waiting.pop().discard()


def _fork_for_nobody(files: tuple[int, ...]) -> int:
    """A child with `files` as its descriptors 0-3 that waits as this process's user (the
    server sets its rlimits: only the same user, or CAP_SYS_RESOURCE, may), then at `_GO`
    becomes nobody (RLIMIT_NPROC binds it only then) and the waiting shell, which reads the
    rest; the server hands nobody the run's directory."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            for number, descriptor in enumerate(files):
                os.dup2(descriptor, number)  # inheritable: the others close at exec
            if os.read(3, len(_GO)) != _GO:
                return  # discarded
            os.setgroups([])
            os.setgid(NOBODY_UID)
            os.setuid(NOBODY_UID)
            for number in _DEFAULT_SIGNALS:
                signal.signal(number, signal.SIG_DFL)
            os.execve(_WAITER[0], _WAITER, {})
        finally:
            os._exit(_EXEC_FAILED)
    return pid


def _quote(word: str) -> str:
    """`word` as one shell word for `eval` in the waiter; a newline would end its `read`, so
    it becomes `$N`, outside the quotes."""
    return "'" + word.replace("'", "'\\''").replace("\n", "'\"$N\"'") + "'"


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
