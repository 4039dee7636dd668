"""CPU time of this process and every process it starts, counted by a cgroup v1 cpuacct group.

Samples/s on a shared machine move with the load; CPU time per sample much less. `counted()`
puts this process in a fresh cpuacct group (as root, where the v1 hierarchy is writable), so
the count covers the verifier, its sandboxed servers and everything they start:

    with counted() as used_ns:
        before = used_ns()
        ...
        cpu_ms = (used_ns() - before) / 1e6
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

CPUACCT = Path("/sys/fs/cgroup/cpuacct")


def available() -> bool:
    return os.access(CPUACCT, os.W_OK)


@contextlib.contextmanager
def counted() -> Iterator[Callable[[], int]]:
    """A function that returns the CPU nanoseconds used so far by every process that has been
    in this process's new group; the group is removed afterwards."""
    group = CPUACCT / f"halo-forge-benchmark-{os.getpid()}"
    group.mkdir()
    try:
        (group / "cgroup.procs").write_text(str(os.getpid()))
        yield lambda: int((group / "cpuacct.usage").read_text())
    finally:
        (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
        _remove_when_empty(group)


def _remove_when_empty(group: Path) -> None:
    """Remove `group` once the processes that were in it have been reaped."""
    for _ in range(100):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.05)
    print(f"could not remove {group}: a process is still in it", file=sys.stderr)
