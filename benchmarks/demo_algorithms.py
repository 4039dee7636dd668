"""RAFT against GRPO on the demo: held-out pass@1 over seeds, each change with its paired noise.

    .venv/bin/python benchmarks/demo_algorithms.py --output /tmp/demo-algorithms --seeds 0,1,2

Per seed, in one run directory: `halo-forge demo --seed S` (RAFT), then the same command with
`--algorithm grpo`, which reuses the run's data, SFT model and baseline benchmark, so both
algorithms start from the same model on the same split and are benchmarked on the same held-out
prompts with the same sampling. GRPO generates as many completions as RAFT's cycles (the
preset's `grpo_steps`). Seeds run one after another (`--parallel` runs them at once); a rerun
resumes. Prints a Markdown table: per seed, held-out pass@1 of the baseline, RAFT and GRPO, each
algorithm's change with its paired standard error over the held-out prompts, GRPO minus RAFT
(paired too), and each run's wall time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from halo_forge.benchmark.paired import PairedDifference, paired_difference, prompt_outcomes
from halo_forge.benchmark.results import load_result

CLI = Path(sys.executable).with_name("halo-forge")


def run_seed(output: Path, seed: int) -> dict[str, float]:
    """RAFT then GRPO in one run directory; the wall seconds of each."""
    walls = {}
    for algorithm in ("raft", "grpo"):
        command = [str(CLI), "demo", "--seed", str(seed), "--output", str(output)]
        command += ["--algorithm", algorithm]
        start = time.perf_counter()
        with (output.parent / f"seed_{seed}_{algorithm}.log").open("w") as log:
            subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)
        walls[algorithm] = time.perf_counter() - start
    return walls


def _result(output: Path, prefix: str) -> Path:
    """The final benchmark of one algorithm (`raft_cycle_N.json`, `grpo_step_N.json`)."""
    (found,) = [
        path
        for path in (output / "benchmarks").glob(f"{prefix}_*.json")
        if path.name.count(".") == 1  # not the `.fingerprint.json` beside it
    ]
    return found


def _change(difference: PairedDifference | None) -> str:
    if difference is None or difference.standard_error is None:
        return "n/a"
    return f"{100 * difference.mean:+.1f} ({100 * difference.standard_error:.1f})"


def table(outputs: dict[int, Path], walls: dict[int, dict[str, float]]) -> list[str]:
    """The Markdown table of the seeds and a closing line with the median changes."""
    lines = [
        "| seed | baseline pass@1 | RAFT pass@1 | GRPO pass@1 | RAFT change (paired SE) "
        "| GRPO change (paired SE) | GRPO - RAFT (paired SE) | wall RAFT / GRPO run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    changes: dict[str, list[float]] = {"raft": [], "grpo": [], "grpo - raft": []}
    for seed, output in outputs.items():
        paths = {
            "baseline": output / "benchmarks" / "baseline.json",
            "raft": _result(output, "raft_cycle"),
            "grpo": _result(output, "grpo_step"),
        }
        outcomes = {name: prompt_outcomes(path) for name, path in paths.items()}
        rates = {name: load_result(path).pass_at_k["pass@1"] for name, path in paths.items()}
        raft = paired_difference(outcomes["baseline"], outcomes["raft"], 1)
        grpo = paired_difference(outcomes["baseline"], outcomes["grpo"], 1)
        versus = paired_difference(outcomes["raft"], outcomes["grpo"], 1)
        for name, difference in (("raft", raft), ("grpo", grpo), ("grpo - raft", versus)):
            if difference is not None:
                changes[name].append(difference.mean)
        wall = walls.get(seed, {})
        shown_wall = " / ".join(
            f"{wall[name] / 60:.1f} min" if name in wall else "-" for name in ("raft", "grpo")
        )
        lines.append(
            f"| {seed} | {100 * rates['baseline']:.1f}% | {100 * rates['raft']:.1f}% "
            f"| {100 * rates['grpo']:.1f}% | {_change(raft)} | {_change(grpo)} "
            f"| {_change(versus)} | {shown_wall} |"
        )
    medians = ", ".join(
        f"{name} {100 * statistics.median(values):+.1f}"
        for name, values in changes.items()
        if values
    )
    lines.append(f"\nmedian pass@1 change in points: {medians}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="One run directory per seed.")
    parser.add_argument("--seeds", default="0,1,2", help="Comma-separated seeds.")
    parser.add_argument("--parallel", action="store_true", help="Run the seeds at the same time.")
    arguments = parser.parse_args()
    seeds = [int(text) for text in arguments.seeds.split(",")]
    outputs = {seed: arguments.output / f"seed_{seed}" for seed in seeds}
    arguments.output.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(seeds) if arguments.parallel else 1) as pool:
        walls = dict(zip(seeds, pool.map(run_seed, outputs.values(), seeds), strict=True))
    print("\n".join(table(outputs, walls)))


if __name__ == "__main__":
    main()
