"""Per-run cost of the sandbox: `true` run many times, plain and under each isolation level.

Usage: python benchmarks/sandbox_overhead.py [--runs 50] [--repeats 5] [--parent-rss-gb 0]

Prints the median over repeats of the mean time per run, next to two baselines measured in the
same process: a plain `subprocess.run` (vfork) and one with a no-op `preexec_fn` (fork, which
copies the caller's page tables). `--parent-rss-gb N` first fills N GB of this process's memory,
as a trainer holding a model would, to show what fork() would cost a verifier running inside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import time
from collections.abc import Callable

from halo_forge.verifiers.sandbox import Sandbox, isolation_report, probe_isolation


def time_per_run(run: Callable[[], object], runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        run()
    return (time.perf_counter() - started) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parent-rss-gb", type=float, default=0.0)
    args = parser.parse_args()

    ballast = bytearray(int(args.parent_rss_gb * (1 << 30)))
    for offset in range(0, len(ballast), 4096):
        ballast[offset] = 1  # touch every page so it is resident
    strongest = isolation_report()
    levels = {
        "bubblewrap + cgroups": strongest,
        "unshare + cgroups": dataclasses.replace(strongest, network="unshare", filesystem="none"),
        "cgroups only": dataclasses.replace(strongest, network="none", filesystem="none"),
        "bubblewrap as nobody (no cgroup)": probe_isolation(use_cgroups=False),
    }
    runners: dict[str, Callable[[], object]] = {
        "plain subprocess (vfork)": lambda: subprocess.run(["/bin/true"], check=True),
        "plain subprocess + preexec_fn (fork)": lambda: subprocess.run(
            ["/bin/true"], check=True, preexec_fn=lambda: None
        ),
    }
    contexts = []
    for name, report in levels.items():
        context = Sandbox(isolation=report).workspace()
        workspace = context.__enter__()
        contexts.append(context)
        runners[name] = lambda workspace=workspace: workspace.run(["true"])
    samples: dict[str, list[float]] = {name: [] for name in runners}
    try:
        for _ in range(args.repeats):
            for name, run in runners.items():
                samples[name].append(time_per_run(run, args.runs))
    finally:
        for context in contexts:
            context.__exit__(None, None, None)
    baseline = statistics.median(samples["plain subprocess (vfork)"])
    print(f"parent RSS filled: {args.parent_rss_gb:g} GB; {args.runs} runs x {args.repeats}")
    print(f"{'how':38} {'ms/run':>8} {'over vfork':>11}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:38} {median * 1000:8.2f} {(median - baseline) * 1000:11.2f}")


if __name__ == "__main__":
    main()
