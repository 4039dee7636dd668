"""Confine the children of a sandboxed fork server: each child is held like a run of its own.

A Python test verifier keeps a warm server (started with `Sandbox.spawn`) that forks one child
per sample, so each sample skips the interpreter start-up. The server sets up one
`ChildConfinement` before its first fork (cgroup discovery, the group its children join, their
rlimits), so that each fork pays only for what depends on the child:

    confinement = ChildConfinement(limits)          # once, in the server
    os.chdir(workdir)                               # the child's directory, also HOME and
    pid = os.fork()                                 # TMPDIR in the environment it inherits
    if pid == 0:                                    # the child
        os.read(go, 1)                              # wait until it is admitted
        confinement.enter(keep_fds=(result_pipe,))
        ...                                         # run the sample, report, os._exit(...)
    confinement.admit(pid)                          # group and rlimits, before it runs
    os.write(go, b"g")
    ...                                             # wait for the result or the timeout
    confinement.release(pid)                        # kill the child and all it started
    os.waitpid(pid, 0)                              # reap only now: until then the pid
                                                    # cannot be reused, so killing by it is safe

Where the server can write to its own cgroup (a root-run Sandbox bind-mounts the server's
delegated group writable; the run's limits sit one level up, out of its reach), the children
join one group `children-<n>` with `pids.max` and the memory cap, one child at a time. Release
kills every process the child left in the server's groups, including any that called `setsid`
or moved itself into another group it can write; the group is then empty for the next child.
Else, as root with the capabilities to switch users, the child drops to nobody so that
RLIMIT_NPROC binds; else RLIMIT_NPROC is set above its user's current task count (only the tasks
visible in its PID namespace are counted, so that budget is approximate). Without a group,
release kills the child's process group; a grandchild that left it (`setsid`, `setpgid`) lives
until the server's sandbox ends (bubblewrap's PID namespace takes it down with the server).

Standard library only, and none of threading, logging or subprocess: their fork hooks would
slow down every fork of the server.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import resource
import signal
from collections.abc import Sequence
from pathlib import Path

from halo_forge.verifiers.sandbox.cgroupfs import (
    Hierarchy,
    find_hierarchies,
    kill_every_process,
    remove_group,
    write_limits,
    write_process_limit,
)
from halo_forge.verifiers.sandbox.limits import (
    MB,
    NOBODY_UID,
    NONE,
    PROCESS_LIMIT_NOBODY,
    PROCESS_LIMIT_NPROC,
    SandboxLimits,
    rlimits_for,
)

#: Capabilities root needs to hand a child's directory to nobody and become nobody.
_CAP_CHOWN, _CAP_SETGID, _CAP_SETUID = 0, 6, 7
_group_numbers = itertools.count(1)


class ChildConfinement:
    """The limits every child of one server gets, set up once (see the module docstring).

    `process_limit` says how the process limit is enforced: "pids-cgroup-v1" /
    "pids-cgroup-v2", "rlimit-nproc(nobody)", "rlimit-nproc" or "none" (root without the
    capabilities to switch users and no writable cgroup).
    """

    def __init__(self, limits: SandboxLimits) -> None:
        """Set up before the server's first fork: the count of the server's own group is taken
        here, as what `release` expects to find once a child is gone."""
        self.limits = limits
        self.waiting_children = 0
        self._hierarchies: list[Hierarchy] = []
        self._groups: list[Path] = []
        self._join_descriptors: list[int] = []
        self._server_group: Path | None = None  # the server's pids group, around the children's
        self._server_tasks_descriptor = -1  # its pids.current, held open: one read per release
        self._server_tasks = 0
        self.process_limit = self._make_group() or self._fallback_process_limit()
        self._budget_uid = {PROCESS_LIMIT_NOBODY: NOBODY_UID, PROCESS_LIMIT_NPROC: os.geteuid()}
        self._rlimits: list[tuple[int, tuple[int, int]]] | None = None
        self.set_limits(limits)

    def set_limits(self, limits: SandboxLimits) -> None:
        """Hold the next children to `limits` instead (between children only)."""
        self.limits = limits
        memory = limits.memory_limit_mb * MB if limits.memory_limit_mb is not None else None
        for hierarchy, group in zip(self._hierarchies, self._groups, strict=True):
            write_limits(hierarchy, group, limits.max_processes + self.waiting_children, memory)
        # Without a per-user budget to count, every child gets the same rlimits: build them once.
        self._rlimits = None if self.process_limit in self._budget_uid else rlimits_for(limits)

    def make_room(self, waiting_children: int) -> None:
        """Count `waiting_children` (children the server keeps in the group besides the one
        that runs: `standby`) outside the process limit, so that a run still gets exactly
        `max_processes`. Join a waiting child before making room for it, and make room for one
        fewer before a waiting child runs: the run never gets more."""
        if waiting_children == self.waiting_children:
            return
        self.waiting_children = waiting_children
        for hierarchy, group in zip(self._hierarchies, self._groups, strict=True):
            if "pids" in hierarchy.controllers:
                write_process_limit(group, self.limits.max_processes + waiting_children)

    def admit(self, pid: int) -> None:
        """Server side, right after the fork: put the child in its group and set its rlimits.

        Call it before the child runs anything of the sample's (the child waits for a byte).
        """
        self.join(pid)
        self.limit(pid)

    def join(self, pid: int) -> None:
        """Put a child in the children's group (the first step of `admit`)."""
        for descriptor in self._join_descriptors:
            os.write(descriptor, b"%d" % pid)

    def limit(self, pid: int) -> None:
        """Set a child's rlimits to the current limits (the second step of `admit`)."""
        rlimits = self._rlimits
        if rlimits is None:  # RLIMIT_NPROC counts all of the user's tasks: count them now
            rlimits = rlimits_for(self.limits, self._budget_uid[self.process_limit])
        for resource_id, limit in rlimits:
            resource.prlimit(pid, resource_id, limit)

    def enter(self, keep_fds: Sequence[int] = ()) -> None:
        """Child side, once admitted: own process group, nobody if that is the process limit,
        every inherited descriptor closed but 0-2 and `keep_fds`.

        The child works in the directory it was forked in, with the server's environment: the
        server forks from a fresh directory for each child, with HOME and TMPDIR pointing at
        it (setting them here would cost the child more than the server, see `python.fork_server`).
        A process group, not a session: both let `release` kill the child's descendants at
        once, and the server has no terminal to keep away from them, but `setsid` makes the
        scheduler build a new autogroup, which costs 0.7 ms per call on average here.
        """
        os.setpgid(0, 0)
        if self.process_limit == PROCESS_LIMIT_NOBODY:
            os.chown(".", NOBODY_UID, NOBODY_UID)  # nobody must be able to write its directory
            os.setgroups([])
            os.setgid(NOBODY_UID)
            os.setuid(NOBODY_UID)
        _close_inherited_fds(keep_fds)

    def release(self, pid: int, waiting: frozenset[int] = frozenset()) -> None:
        """Kill a child, its process group and every process it left in the server's groups
        but the `waiting` children (unreaped children of the server, whose pids cannot have
        been reused).

        Call it before reaping the child with `os.waitpid` (see the module docstring).
        """
        for kill in (os.kill, os.killpg):  # the child, then its process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
        if self._server_group is None:
            return
        # The usual case costs one read: the server's group counts only the server and the
        # child (a zombie until reaped). Anything more is killed, wherever below it it went.
        if _task_count(self._server_tasks_descriptor) > self._server_tasks + 1 + len(waiting):
            # Spare the server and its parent (bubblewrap's init, whose end ends the sandbox).
            spare = frozenset({os.getpid(), os.getppid(), *waiting})
            kill_every_process([self._server_group], spare=spare)

    def close(self) -> None:
        """Remove the children's group (it is empty between children). A server may leave this
        to the end of its sandbox, whose cleanup removes the groups nested in its own."""
        for descriptor in (*self._join_descriptors, self._server_tasks_descriptor):
            if descriptor >= 0:
                os.close(descriptor)
        self._join_descriptors.clear()
        self._server_tasks_descriptor = -1
        for group in self._groups:
            with contextlib.suppress(OSError):  # the run's own cleanup removes what is left
                remove_group(group)
        self._groups.clear()
        self._hierarchies.clear()

    def _make_group(self) -> str | None:
        """Make `children-<n>` under this process's writable groups; None if not possible."""
        hierarchies = [h for h in find_hierarchies() if os.access(h.own_directory, os.W_OK)]
        pids_hierarchies = [h for h in hierarchies if "pids" in h.controllers]
        if not pids_hierarchies:
            return None
        name = f"children-{os.getpid()}-{next(_group_numbers)}"
        try:
            for hierarchy in hierarchies:
                group = hierarchy.own_directory / name
                group.mkdir()
                self._hierarchies.append(hierarchy)
                self._groups.append(group)
                self._join_descriptors.append(os.open(group / "cgroup.procs", os.O_WRONLY))
            self._server_group = pids_hierarchies[0].own_directory
            self._server_tasks_descriptor = os.open(
                self._server_group / "pids.current", os.O_RDONLY
            )
            self._server_tasks = _task_count(self._server_tasks_descriptor)
        except OSError:
            self._server_group = None
            self.close()
            return None
        return f"pids-cgroup-v{pids_hierarchies[0].version}"

    @staticmethod
    def _fallback_process_limit() -> str:
        if os.geteuid() != 0:
            return PROCESS_LIMIT_NPROC
        if _has_capabilities(_CAP_CHOWN, _CAP_SETGID, _CAP_SETUID):
            return PROCESS_LIMIT_NOBODY
        return NONE  # root without capabilities cannot become nobody


def _task_count(pids_current: int) -> int:
    """Tasks in a pids group and the groups below it (zombies not yet reaped included), read
    afresh from the group's open `pids.current`."""
    return int(os.pread(pids_current, 32, 0))


def _has_capabilities(*capabilities: int) -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            effective = int(line.split()[1], 16)
            return all(effective >> capability & 1 for capability in capabilities)
    return False


def _close_inherited_fds(keep_fds: Sequence[int]) -> None:
    start = 3
    for descriptor in sorted({fd for fd in keep_fds if fd >= 3}):
        os.closerange(start, descriptor)
        start = descriptor + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX"))


def confinement_for(current: ChildConfinement | None, limits: SandboxLimits) -> ChildConfinement:
    """`current` held to `limits` from the next child on, made at the first request (its
    cgroup discovery and group are once per server)."""
    if current is None:
        return ChildConfinement(limits)
    if current.limits != limits:
        current.set_limits(limits)
    return current
