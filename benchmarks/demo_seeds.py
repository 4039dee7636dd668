"""The demo's held-out gain over several seeds: is RAFT's gain larger than the seed-to-seed spread?

    .venv/bin/python benchmarks/demo_seeds.py --output /tmp/demo-seeds --seeds 0,1,2 [--quick]

Runs `halo-forge demo --seed S` once per seed, one after another (each in its own run
directory, so a rerun resumes), and prints a Markdown table: per seed the held-out baseline and
final pass@1, pass@5 and compile rate, the pass@1 change, wall time, CPU time (user + system of
the demo process and its children: on a shared machine wall time reads high) and the load
average. The pass@1 change carries its paired standard error over the held-out prompts. The
verdict line applies the demo's bar: the median pass@1 gain over the seeds must exceed the
spread (max - min) of the gains between seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from halo_forge.benchmark.paired import paired_difference, prompt_outcomes

CLI = Path(sys.executable).with_name("halo-forge")


def run_seed(output: Path, seed: int, quick: bool) -> dict:
    """Run (or resume) the demo of one seed; its summary plus wall, CPU and load numbers."""
    command = [str(CLI), "demo", "--seed", str(seed), "--output", str(output)]
    if quick:
        command.append("--quick")
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    baseline, final = sorted((output / "benchmarks").glob("*.json"))  # baseline, raft_cycle_N
    paired = paired_difference(prompt_outcomes(baseline), prompt_outcomes(final), 1)
    return {
        "seed": seed,
        "standard_error": paired.standard_error if paired else None,
        "stages": {stage["stage"]: stage for stage in summary["stages"]},
        "wall": wall,
        "cpu": cpu,
        "load": (load_before + os.getloadavg()[0]) / 2,
    }


def rates(stage: dict) -> tuple[float, float, float]:
    """pass@1, pass@5 and compile rate of a benchmark stage row."""
    return stage["pass_at_k"]["pass@1"], stage["pass_at_k"]["pass@5"], stage["compile_rate"]


def _points(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def table(runs: list[dict]) -> list[str]:
    """The Markdown table of the runs and the verdict line."""
    lines = [
        "| seed | baseline pass@1 / pass@5 / compile | final pass@1 / pass@5 / compile "
        "| pass@1 change (paired SE) | compile change | wall | CPU | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    gains = []
    for run in runs:
        stages = run["stages"]
        final_name = next(name for name in stages if name.endswith("(final)"))
        before, after = rates(stages["SFT (baseline)"]), rates(stages[final_name])
        gains.append(after[0] - before[0])
        shown = [" / ".join(f"{100 * value:.1f}%" for value in row) for row in (before, after)]
        lines.append(
            f"| {run['seed']} | {shown[0]} | {shown[1]} | {100 * (after[0] - before[0]):+.1f} "
            f"({_points(run['standard_error'])}) "
            f"| {100 * (after[2] - before[2]):+.1f} | {run['wall'] / 60:.1f} min "
            f"| {run['cpu'] / 60:.1f} min | {run['load']:.1f} |"
        )
    median, spread = statistics.median(gains), max(gains) - min(gains)
    verdict = "gain beyond noise" if median > spread else "NOT beyond noise"
    lines.append(
        f"\nmedian pass@1 change {100 * median:+.1f} points, spread between seeds "
        f"{100 * spread:.1f} points: {verdict}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="One run directory per seed.")
    parser.add_argument("--seeds", default="0,1,2", help="Comma-separated seeds.")
    parser.add_argument("--quick", action="store_true", help="Run the --quick preset.")
    arguments = parser.parse_args()
    runs = []
    for seed in (int(text) for text in arguments.seeds.split(",")):
        runs.append(run_seed(arguments.output / f"seed_{seed}", seed, arguments.quick))
        print(
            f"seed {seed}: {runs[-1]['wall']:.0f} s wall, {runs[-1]['cpu']:.0f} s CPU", flush=True
        )
    print("\n".join(table(runs)))


if __name__ == "__main__":
    main()
