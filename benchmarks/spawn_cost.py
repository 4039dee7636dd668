"""CPU time of starting one process, by how it is started: why run servers use a standby factory.

Per way, `--processes` times: start `/bin/true` and reap it, from this process after it has
imported the run server's modules (a process of a run server's size). CPU time of this process
and of its reaped children, per process:

- `posix_spawn` of the program: what a naive runner pays (vfork, one exec);
- `posix_spawn` of `/bin/sh -c 'exec PROGRAM'`: a waiting shell per run, two execs;
- fork of this process, then exec: a forked copy of a Python server;
- fork, drop to nobody, then the shell: a forked copy waiting as the server's user (root only);
- the standby factory (`halo_forge/verifiers/sandbox/standby_factory.c`): a fork of a small C
  process, one exec, reaped here as a run server reaps its standbys.

    .venv/bin/python benchmarks/spawn_cost.py --processes 400
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import halo_forge.verifiers.sandbox.run_server  # noqa: E402,F401 - a run server's modules
from halo_forge.verifiers.sandbox.limits import NOBODY_UID  # noqa: E402
from halo_forge.verifiers.sandbox.standby import StandbyFactory, command_bytes  # noqa: E402
from halo_forge.verifiers.sandbox.standby_factory import build_standby_factory  # noqa: E402

PROGRAM = "/bin/true"


def spawn_program() -> int:
    return os.posix_spawn(PROGRAM, [PROGRAM], {})


def spawn_shell() -> int:
    return os.posix_spawn("/bin/sh", ["/bin/sh", "-c", f"exec {PROGRAM}"], {})


def fork_then_exec() -> int:
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(PROGRAM, [PROGRAM])
        finally:
            os._exit(127)
    return pid


def fork_nobody_shell() -> int:
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY_UID)
            os.setuid(NOBODY_UID)
            os.execv("/bin/sh", ["/bin/sh", "-c", f"exec {PROGRAM}"])
        finally:
            os._exit(127)
    return pid


def from_factory(factory: StandbyFactory) -> Callable[[], int]:
    command = command_bytes([PROGRAM], {}, "/")

    def start() -> int:
        null = os.open(os.devnull, os.O_RDWR)
        go_read, go_write = os.pipe()
        pid = factory.make((null, null, null, go_read), False)
        os.write(go_write, command)
        for descriptor in (null, go_read, go_write):
            os.close(descriptor)
        return pid

    return start


def cpu_per_process(start: Callable[[], int], count: int) -> float:
    """CPU ms of this process and its reaped children per started and reaped process."""
    before = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    for _ in range(count):
        os.waitpid(start(), 0)
    after = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    used = sum(
        (end.ru_utime + end.ru_stime) - (begin.ru_utime + begin.ru_stime)
        for begin, end in zip(before, after, strict=True)
    )
    return used / count * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gc.disable()
    gc.freeze()  # as the servers do: forks do not make the collector touch every page
    factory = StandbyFactory(str(build_standby_factory()))
    ways: dict[str, Callable[[], int]] = {
        "posix_spawn of the program": spawn_program,
        "posix_spawn of sh, which execs it": spawn_shell,
        "fork of this process, exec": fork_then_exec,
        "standby factory: fork of a small process, exec": from_factory(factory),
    }
    if os.geteuid() == 0:
        ways["fork, nobody, sh, exec"] = fork_nobody_shell
    try:
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, start in ways.items():
                times[name].append(cpu_per_process(start, args.processes))
    finally:
        factory.close()
    print(f"{PROGRAM}, {args.processes} processes x {args.rounds} rounds, CPU ms per process")
    print("\n| started by | median | rounds |\n|---|---|---|")
    for name, values in times.items():
        rounds = ", ".join(f"{value:.3f}" for value in values)
        print(f"| {name} | {statistics.median(values):.3f} | {rounds} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
