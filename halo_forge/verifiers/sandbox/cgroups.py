"""Per-run control groups: the process limit that binds root, and a kill switch for a whole run.

`RLIMIT_NPROC` does not bind root, and a process that calls `setsid` leaves its process group;
a cgroup holds both. Each run gets a fresh group in every hierarchy that has the `pids` or
`memory` controller, nested under the caller's own group (so any limit set on the caller still
applies):

    <mount>/<caller's group>/halo-forge-<caller pid>/run-<n>            limits are set here
    <mount>/<caller's group>/halo-forge-<caller pid>/run-<n>/delegated  a long-lived server joins
                                                                        this and may nest groups

A delegated group is bind-mounted writable into the server's sandbox so that the server can give
its children a group (`children-<n>`, `confine`); the limits sit one level up, out of
its reach. Ending a run kills every pid listed in its groups until none is left, then removes them. Groups
left by a caller that died are swept the next time a process sets up its own parent group.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from halo_forge.verifiers.sandbox.cgroupfs import (
    Hierarchy,
    enable_controllers,
    groups_under,
    kill_every_process,
    remove_group,
    write_limits,
)

logger = logging.getLogger(__name__)

PARENT_PREFIX = "halo-forge-"
DELEGATED = "delegated"

_run_numbers = itertools.count(1)
_parents_lock = threading.Lock()
_parents: dict[tuple[Path, int], Path] = {}  # (caller's group, caller pid) -> parent group


class RunCgroup:
    """The groups of one run, one per hierarchy; `kill_all` ends every process in them."""

    def __init__(self, directories: Sequence[Path], join_directories: Sequence[Path]) -> None:
        self.directories = tuple(directories)
        self.join_directories = tuple(join_directories)

    @classmethod
    def create(
        cls,
        locations: Iterable[tuple[Hierarchy, Path]],
        name: str,
        *,
        max_processes: int,
        memory_bytes: int | None,
        delegate: bool = False,
    ) -> RunCgroup:
        """Make group `name` under each (hierarchy, parent directory) and set its limits."""
        created: list[Path] = []
        joins: list[Path] = []
        try:
            for hierarchy, parent in locations:
                directory = parent / name
                directory.mkdir()
                created.append(directory)
                write_limits(hierarchy, directory, max_processes, memory_bytes)
                join = directory
                if delegate:
                    if hierarchy.version == 2:
                        enable_controllers(directory, hierarchy.controllers)
                    join = directory / DELEGATED
                    join.mkdir()
                joins.append(join)
        except OSError:
            RunCgroup(created, joins).remove()
            raise
        return cls(created, joins)

    @classmethod
    def for_run(
        cls,
        hierarchies: Sequence[Hierarchy],
        *,
        max_processes: int,
        memory_bytes: int | None,
        delegate: bool = False,
    ) -> RunCgroup:
        """A fresh `run-<n>` group under this process's `halo-forge-<pid>` parent groups."""
        locations = [(hierarchy, parent_directory(hierarchy)) for hierarchy in hierarchies]
        return cls.create(
            locations,
            f"run-{next(_run_numbers)}",
            max_processes=max_processes,
            memory_bytes=memory_bytes,
            delegate=delegate,
        )

    @property
    def procs_files(self) -> tuple[str, ...]:
        """The `cgroup.procs` files a starting process writes its pid to."""
        return tuple(str(directory / "cgroup.procs") for directory in self.join_directories)

    def kill_all(self) -> None:
        """SIGKILL every process in the groups (and groups nested in them) until none is left."""
        kill_every_process(self.directories)

    def remove(self) -> None:
        """Remove the groups, deepest first, killing what is still in them.

        A group that stays busy (a process stuck in the kernel) is left behind with a warning;
        the sweep removes it once this process has exited.
        """
        for directory in self.directories:
            for group in sorted(groups_under(directory), key=lambda p: len(p.parts), reverse=True):
                try:
                    remove_group(group)
                except OSError as error:
                    logger.warning("sandbox: cannot remove cgroup %s yet (%s)", group, error)


def parent_directory(hierarchy: Hierarchy) -> Path:
    """`halo-forge-<pid>` under this process's group, made once per process (after a sweep)."""
    key = (hierarchy.own_directory, os.getpid())
    with _parents_lock:
        if key not in _parents:
            _sweep_dead_parents(hierarchy.own_directory)
            parent = hierarchy.own_directory / f"{PARENT_PREFIX}{os.getpid()}"
            if hierarchy.version == 2:
                enable_controllers(hierarchy.own_directory, hierarchy.controllers)
            parent.mkdir(exist_ok=True)
            if hierarchy.version == 2:
                enable_controllers(parent, hierarchy.controllers)
            if not _parents:
                atexit.register(_remove_own_parents)
            _parents[key] = parent
        return _parents[key]


def _sweep_dead_parents(own_directory: Path) -> None:
    """Remove `halo-forge-<pid>` groups whose process is gone (it crashed before cleaning up)."""
    for parent in own_directory.glob(f"{PARENT_PREFIX}*"):
        pid_text = parent.name.removeprefix(PARENT_PREFIX)
        if not pid_text.isdigit() or _process_exists(int(pid_text)):
            continue
        RunCgroup([parent], []).remove()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_own_parents() -> None:
    """At exit, remove this process's parent groups (a forked child leaves its parent's alone)."""
    for (_, owner), parent in list(_parents.items()):
        if owner == os.getpid():
            RunCgroup([parent], []).remove()
