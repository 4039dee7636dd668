"""The cgroup filesystem, read and written directly: hierarchies, limits, member pids, kills.

`cgroups` builds a run's groups from these; the Python fork server uses them to give
each of its children a group (`confine`). Standard library only, and none of
threading, logging or subprocess, whose fork hooks would slow down every fork of that server.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Controllers a run's group uses: `pids` bounds the process count, `memory` the run's total.
CONTROLLERS = frozenset({"pids", "memory"})
_KILL_ROUNDS = 200  # a fork bomb refills freed slots; each round kills every listed pid


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


def write_limits(
    hierarchy: Hierarchy, directory: Path, max_processes: int, memory_bytes: int | None
) -> None:
    """Set the process limit and the memory cap (swap included) of the group `directory`."""
    if "pids" in hierarchy.controllers:
        write_process_limit(directory, max_processes)
    if "memory" not in hierarchy.controllers:
        return
    # Swap counts too where the kernel accounts it, so a run cannot page its way past the cap.
    if hierarchy.version == 2:
        _write_existing(directory, ("memory.max", "max" if memory_bytes is None else memory_bytes))
        _write_existing(directory, ("memory.swap.max", "max" if memory_bytes is None else 0))
        return
    value = -1 if memory_bytes is None else memory_bytes  # -1: no limit
    memory, with_swap = ("memory.limit_in_bytes", value), ("memory.memsw.limit_in_bytes", value)
    try:
        _write_existing(directory, memory, with_swap)
    except OSError:  # v1 keeps memory <= memory + swap at every step: raise the second first
        _write_existing(directory, with_swap, memory)


def write_process_limit(directory: Path, max_processes: int) -> None:
    """Set `pids.max` of the group `directory` (of a hierarchy with the pids controller)."""
    (directory / "pids.max").write_text(str(max_processes))


def _write_existing(directory: Path, *settings: tuple[str, object]) -> None:
    """Write each (file, value) in order, skipping files this kernel does not have."""
    for file_name, value in settings:
        path = directory / file_name
        if path.exists():
            path.write_text(str(value))


def enable_controllers(directory: Path, controllers: frozenset[str]) -> None:
    """cgroup v2 only hands a controller to child groups that the parent enabled it for."""
    enabled = set((directory / "cgroup.subtree_control").read_text().split())
    missing = " ".join(f"+{name}" for name in sorted(controllers - enabled))
    if missing:
        (directory / "cgroup.subtree_control").write_text(missing)


def groups_under(directory: Path) -> list[Path]:
    """`directory` and every group nested in it; empty if it does not exist."""
    if not directory.is_dir():
        return []
    return [directory] + [
        Path(root) / name for root, names, _ in os.walk(directory) for name in names
    ]


def pids_in(directories: Iterable[Path]) -> Iterator[int]:
    """The pids listed in the groups and every group nested in them."""
    for directory in directories:
        for group in groups_under(directory):
            try:
                text = (group / "cgroup.procs").read_text()
            except FileNotFoundError:
                continue
            yield from (int(pid) for pid in text.split())


def kill_every_process(directories: Iterable[Path], spare: frozenset[int] = frozenset()) -> None:
    """SIGKILL every process in the groups (and groups nested in them) until none is left.

    `spare`: pids left alive (a caller that is a member itself). A pid namespace lists members
    outside it as 0 (cgroup v2) or not at all (v1); 0 is never signalled.
    """
    directories = tuple(directories)
    for _ in range(_KILL_ROUNDS):
        pids = set(pids_in(directories)) - spare - {0}
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.001)


def remove_group(group: Path) -> None:
    """Remove an empty group, killing what is still in it; OSError if it stays busy."""
    for _ in range(20):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.EBUSY:
                raise
            kill_every_process([group])  # exiting processes leave the group a moment later
            time.sleep(0.005)
    raise OSError(errno.EBUSY, f"cgroup {group} still has processes after they were killed")
