"""Per-run control groups: the process limit that binds root, and a kill switch for a whole run.

`RLIMIT_NPROC` does not bind root, and a process that calls `setsid` leaves its process group;
a cgroup holds both. Each run gets a fresh group in every hierarchy that has the `pids` or
`memory` controller, nested under the caller's own group (so any limit set on the caller still
applies):

    <mount>/<caller's group>/halo-forge-<caller pid>/run-<n>            limits are set here
    <mount>/<caller's group>/halo-forge-<caller pid>/run-<n>/delegated  a long-lived server joins
                                                                        this and may nest groups

A delegated group is bind-mounted writable into the server's sandbox so that the server can give
each child its own group (`confined-<pid>`); the limits sit one level up, out of its reach.
Ending a run kills every pid listed in its groups until none is left, then removes them. Groups
left by a caller that died are swept the next time a process sets up its own parent group.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import itertools
import logging
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: Controllers a run's group uses: `pids` bounds the process count, `memory` the run's total.
CONTROLLERS = frozenset({"pids", "memory"})
PARENT_PREFIX = "halo-forge-"
DELEGATED = "delegated"
_KILL_ROUNDS = 200  # a fork bomb refills freed slots; each round kills every listed pid

_run_numbers = itertools.count(1)
_parents_lock = threading.Lock()
_parents: dict[tuple[Path, int], Path] = {}  # (caller's group, caller pid) -> parent group


@dataclass(frozen=True)
class Hierarchy:
    """A mounted cgroup hierarchy that has `pids` and/or `memory`, and this process's group in it."""

    version: int  # 1 or 2
    controllers: frozenset[str]
    own_directory: Path


def find_hierarchies() -> list[Hierarchy]:
    """Hierarchies with the `pids` or `memory` controller, from /proc/self/{cgroup,mountinfo}."""
    memberships: dict[frozenset[str], str] = {}  # v1 controllers -> path; frozenset() -> v2 path
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        memberships[frozenset(controllers.split(",")) if controllers else frozenset()] = path
    hierarchies: list[Hierarchy] = []
    claimed: set[str] = set()  # a controller lives in one hierarchy; skip repeated mounts
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        separator = fields.index("-")
        mount_root, mount_point = fields[3], Path(fields[4])
        filesystem, super_options = fields[separator + 1], fields[separator + 3]
        if mount_root != "/":
            continue  # a bind of a subtree (as inside a sandbox): the full mount is listed too
        if filesystem == "cgroup":
            mounted = frozenset(super_options.split(","))
            path = next((p for c, p in memberships.items() if c and c <= mounted), None)
            version, wanted = 1, mounted & CONTROLLERS
        elif filesystem == "cgroup2" and frozenset() in memberships:
            path = memberships[frozenset()]
            try:
                available = (mount_point / path.lstrip("/") / "cgroup.controllers").read_text()
            except OSError:
                continue  # our group is not visible from this mount
            version, wanted = 2, frozenset(available.split()) & CONTROLLERS
        else:
            continue
        wanted -= claimed
        if wanted and path is not None:
            hierarchies.append(Hierarchy(version, wanted, mount_point / path.lstrip("/")))
            claimed |= wanted
    return hierarchies


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
                _write_limits(hierarchy, directory, max_processes, memory_bytes)
                join = directory
                if delegate:
                    if hierarchy.version == 2:
                        _enable_controllers(directory, hierarchy.controllers)
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
        for _ in range(_KILL_ROUNDS):
            pids = set(_pids_in(self.directories))
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)

    def remove(self) -> None:
        """Remove the groups, deepest first, killing what is still in them.

        A group that stays busy (a process stuck in the kernel) is left behind with a warning;
        the sweep removes it once this process has exited.
        """
        for directory in self.directories:
            for group in sorted(_groups_under(directory), key=lambda p: len(p.parts), reverse=True):
                try:
                    _remove_group(group)
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
                _enable_controllers(hierarchy.own_directory, hierarchy.controllers)
            parent.mkdir(exist_ok=True)
            if hierarchy.version == 2:
                _enable_controllers(parent, hierarchy.controllers)
            if not _parents:
                atexit.register(_remove_own_parents)
            _parents[key] = parent
        return _parents[key]


def _write_limits(
    hierarchy: Hierarchy, directory: Path, max_processes: int, memory_bytes: int | None
) -> None:
    if "pids" in hierarchy.controllers:
        (directory / "pids.max").write_text(str(max_processes))
    if "memory" in hierarchy.controllers and memory_bytes is not None:
        # Swap counts too where the kernel accounts it, so a run cannot page its way past the cap.
        if hierarchy.version == 1:
            files = ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes")
            values = (str(memory_bytes), str(memory_bytes))
        else:
            files, values = ("memory.max", "memory.swap.max"), (str(memory_bytes), "0")
        for file_name, value in zip(files, values, strict=True):
            if (directory / file_name).exists():
                (directory / file_name).write_text(value)


def _enable_controllers(directory: Path, controllers: frozenset[str]) -> None:
    """cgroup v2 only hands a controller to child groups that the parent enabled it for."""
    enabled = set((directory / "cgroup.subtree_control").read_text().split())
    missing = " ".join(f"+{name}" for name in sorted(controllers - enabled))
    if missing:
        (directory / "cgroup.subtree_control").write_text(missing)


def _groups_under(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return [directory] + [
        Path(root) / name for root, names, _ in os.walk(directory) for name in names
    ]


def _pids_in(directories: Iterable[Path]) -> Iterator[int]:
    for directory in directories:
        for group in _groups_under(directory):
            try:
                text = (group / "cgroup.procs").read_text()
            except FileNotFoundError:
                continue
            yield from (int(pid) for pid in text.split())


def _remove_group(group: Path) -> None:
    for _ in range(20):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.EBUSY:
                raise
            RunCgroup([group], []).kill_all()  # exiting processes leave the group a moment later
            time.sleep(0.005)
    raise OSError(errno.EBUSY, f"cgroup {group} still has processes after they were killed")


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
