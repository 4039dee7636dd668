"""Where the verifier's own CPU goes on compile-and-run samples: its process, run servers, factories.

The workload of `verify_compile_run.py` (`--tasks` built-in C tasks: references plus wrong-output,
compile-error and crash variants) on one warm `GCCVerifier` (servers started by a first batch
of 20 samples). Then one batch of all the samples, and per sample: the CPU time of the
verifier's process (every thread: extraction, requests, scoring) and of the run servers and
their standby factories (read from /proc before and after). The compilers and programs are
not counted here: `verify_compile_run.py` counts every process.

    .venv/bin/python benchmarks/run_server_cpu.py --optimization=-O0
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from verify_compile_run import load_samples

_TICKS = os.sysconf("SC_CLK_TCK")


def processes(matches: Callable[[list[bytes]], bool]) -> list[int]:
    """Pids whose argv `matches`."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                    argv = cmdline.read().split(b"\0")
            except OSError:
                continue
            if matches(argv):
                found.append(int(name))
    return found


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command: state, ppid, pgrp, ..."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=75)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--optimization", default="-O2")
    args = parser.parse_args()
    from halo_forge.verifiers.cpp.compile import GCCVerifier

    samples = load_samples(args.tasks, references_only=False)
    answers, contexts = [s.answer for s in samples], [s.context for s in samples]
    with GCCVerifier(
        language="c",
        run_after_compile=True,
        use_cache=False,
        max_workers=args.workers,
        optimization=args.optimization,
    ) as verifier:
        verifier.verify_batch(answers[:20], contexts=contexts[:20])
        servers = processes(
            lambda argv: (
                argv[0] == os.fsencode(sys.executable)
                and any(b"run_server import serve" in word for word in argv[1:])
            )
        )
        # The factories; their standbys (forks of them, in process groups of their own) wait.
        factories = [
            pid
            for pid in processes(lambda argv: argv[0].endswith(b"standby-factory"))
            if stat_fields(pid)[2] != str(pid)
        ]
        before = {pid: cpu_seconds(pid) for pid in servers + factories}
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        verifier.verify_batch(answers, contexts=contexts)
        wall = time.perf_counter() - started
        after = {pid: cpu_seconds(pid) for pid in servers + factories}
        own_after = resource.getrusage(resource.RUSAGE_SELF)
    count = len(samples)
    own = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    print(f"{count} samples in {wall:.2f} s, {args.workers} workers, {args.optimization}")
    print("CPU ms per sample:")
    print(f"  verifier process: {own / count * 1000:.2f}")
    print(
        f"  run servers ({len(servers)}): {sum(after[p] - before[p] for p in servers) / count * 1000:.2f}"
    )
    print(
        f"  standby factories ({len(factories)}): "
        f"{sum(after[p] - before[p] for p in factories) / count * 1000:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
