"""Verification throughput: GCCVerifier against the naive reference, on real CodeForces programs.

Samples: the 500 C++17 solutions of ../shared/data/codeforces_cpp/solutions.jsonl plus broken
variants of them (`tests.verifiers.mutations`), so both verdicts occur.

Measured in the same run, each the median of `--repeats` runs, with `--workers` threads:
- naive baseline: what the reference implementation does, one `g++ -std=c++17 -O2 prog.cpp
  -o prog` per sample in a thread pool, no deduplication, no cache (and for compile+run, one
  run of the binary with empty stdin);
- GCCVerifier, cold: an empty cache directory (no results, no precompiled headers), so the
  PCH builds are paid inside the timing;
- GCCVerifier, warm: the same samples again on the cache the cold run filled.
Both modes are measured: compile-only (the verdict a compile reward needs) and compile+run.
The same samples are also checked with `link=False` (`-fsyntax-only`), for comparison only: its
verdict is the translation unit's, so programs that compile but do not link differ by design.
"Compiles" verdicts must equal the baseline's (exit status of g++) on every sample, else the
script exits 1. In compile+run mode the script also counts how often "ran to completion"
agrees; programs that read uninitialised variables when stdin is empty crash or not by chance
(and the sandbox's memory limit stops huge allocations), so that count is reported, not required.

    .venv/bin/python benchmarks/verify_throughput.py --workers 2 --repeats 3
    .venv/bin/python benchmarks/verify_throughput.py --limit 40 --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared/data/codeforces_cpp/solutions.jsonl"
RUN_TIMEOUT_S = 2.0


@dataclass
class Verdict:
    """What a sample's check concluded: it compiled (and linked); it ran to completion."""

    compiles: bool
    runs: bool | None = None


def load_samples(path: Path, limit: int | None, variants_per_program: int) -> list[str]:
    from halo_forge.data.jsonl import read_jsonl
    from tests.verifiers.mutations import broken_variant

    solutions = [record["solution"] for record in read_jsonl(path)][:limit]
    samples = list(solutions)
    for round_number in range(variants_per_program):
        for index, code in enumerate(solutions):
            samples.append(broken_variant(code, index + round_number)[1])
    return samples


def naive_check(code: str, run: bool) -> Verdict:
    """The reference: a full -O2 compile and link per sample, optionally one run."""
    with tempfile.TemporaryDirectory(prefix="naive-verify-") as directory:
        source = Path(directory) / "prog.cpp"
        source.write_text(code)
        binary = Path(directory) / "prog"
        compiled = subprocess.run(
            ["g++", "-std=c++17", "-O2", str(source), "-o", str(binary)],
            capture_output=True,
            timeout=600,
            check=False,
        )
        if compiled.returncode != 0:
            return Verdict(compiles=False)
        if not run:
            return Verdict(compiles=True)
        try:
            ran = subprocess.run(
                [str(binary)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=RUN_TIMEOUT_S,
                check=False,
            )
            return Verdict(compiles=True, runs=ran.returncode == 0)
        except subprocess.TimeoutExpired:
            return Verdict(compiles=True, runs=False)


def naive_pass(samples: list[str], workers: int, run: bool) -> tuple[float, list[Verdict]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        verdicts = list(executor.map(lambda code: naive_check(code, run), samples))
    return time.perf_counter() - started, verdicts


def verifier_passes(
    samples: list[str], workers: int, run: bool, link: bool = True
) -> tuple[float, float, list[Verdict], dict[str, int]]:
    """One cold and one warm pass of GCCVerifier on a fresh cache directory."""
    from halo_forge.verifiers.cpp.compile import GCCVerifier

    with tempfile.TemporaryDirectory(prefix="verify-cache-") as cache_dir:
        os.environ["HALO_FORGE_CACHE_DIR"] = cache_dir
        verifier = GCCVerifier(
            run_after_compile=run,
            run_timeout=RUN_TIMEOUT_S,
            stdin_input="",
            max_workers=workers,
            link=link,
        )
        started = time.perf_counter()
        cold = verifier.verify_batch(samples)
        cold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        warm = verifier.verify_batch(samples)
        warm_seconds = time.perf_counter() - started
    if not all(result.metadata.get("cached") for result in warm):
        raise SystemExit("warm pass was not served from the cache")
    verdicts = [
        Verdict(
            compiles=result.metadata.get("stage") == "run" or (not run and result.success),
            runs=result.success if run and result.metadata.get("stage") == "run" else None,
        )
        for result in cold
    ]
    stats = {
        "precompiled_header": sum(bool(r.metadata.get("precompiled_header")) for r in cold),
        "compiles": sum(verdict.compiles for verdict in verdicts),
    }
    return cold_seconds, warm_seconds, verdicts, stats


def compile_mismatches(reference: list[Verdict], measured: list[Verdict]) -> list[int]:
    """Indices whose "compiles" verdicts differ."""
    return [
        index
        for index, (want, got) in enumerate(zip(reference, measured, strict=True))
        if want.compiles != got.compiles
    ]


def run_disagreements(reference: list[Verdict], measured: list[Verdict]) -> list[int]:
    """Indices of programs that compiled where "ran to completion" differs."""
    return [
        index
        for index, (want, got) in enumerate(zip(reference, measured, strict=True))
        if want.compiles and got.compiles and want.runs != got.runs
    ]


def benchmark_mode(samples: list[str], workers: int, repeats: int, run: bool) -> dict:
    mode = "compile+run" if run else "compile-only"
    naive_seconds, verifier_cold, verifier_warm, unit_cold = [], [], [], []
    mismatches: list[int] = []
    disagreements: list[int] = []
    unit_differences: list[int] = []
    stats: dict[str, int] = {}
    for repeat in range(repeats):
        seconds, reference = naive_pass(samples, workers, run)
        naive_seconds.append(seconds)
        cold, warm, verdicts, stats = verifier_passes(samples, workers, run)
        verifier_cold.append(cold)
        verifier_warm.append(warm)
        mismatches = sorted(set(mismatches) | set(compile_mismatches(reference, verdicts)))
        if run:
            disagreements = sorted(set(disagreements) | set(run_disagreements(reference, verdicts)))
        else:  # the same check without linking (link=False, -fsyntax-only), for comparison
            unit_seconds, _, unit_verdicts, _ = verifier_passes(samples, workers, run, link=False)
            unit_cold.append(unit_seconds)
            unit_differences = compile_mismatches(reference, unit_verdicts)
        print(
            f"[{mode}] repeat {repeat + 1}/{repeats}: naive {seconds:.1f} s, "
            f"cold {cold:.1f} s, warm {warm:.3f} s"
            + (f", link=False cold {unit_cold[-1]:.1f} s" if unit_cold else ""),
            file=sys.stderr,
        )
    count = len(samples)
    naive = statistics.median(naive_seconds)
    cold = statistics.median(verifier_cold)
    warm = statistics.median(verifier_warm)
    return {
        "mode": mode,
        "samples": count,
        "naive_samples_per_s": count / naive,
        "cold_samples_per_s": count / cold,
        "warm_samples_per_s": count / warm,
        "cold_speedup": naive / cold,
        "warm_speedup": naive / warm,
        "naive_seconds": naive_seconds,
        "cold_seconds": verifier_cold,
        "warm_seconds": verifier_warm,
        "verdict_mismatches": mismatches,
        "run_verdict_disagreements": disagreements,
        "link_false_cold_seconds": unit_cold,
        "link_false_cold_speedup": naive / statistics.median(unit_cold) if unit_cold else None,
        "link_false_verdict_differences": unit_differences,
        **stats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use the first N programs only")
    parser.add_argument("--variants", type=int, default=1, help="broken variants per program")
    parser.add_argument("--modes", default="compile-only,compile+run")
    parser.add_argument("--output", type=Path, default=None, help="also write the numbers as JSON")
    args = parser.parse_args()

    samples = load_samples(args.data, args.limit, args.variants)
    rows = [
        benchmark_mode(samples, args.workers, args.repeats, run=mode == "compile+run")
        for mode in args.modes.split(",")
    ]
    print(
        f"{len(samples)} samples, {args.workers} workers, {os.cpu_count()} CPUs, "
        f"median of {args.repeats} run(s)\n"
    )
    print(
        "| mode | naive samples/s | cold samples/s | warm samples/s | cold speed-up "
        "| warm speed-up | compile verdicts identical | run verdicts differing |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        identical = (
            "yes" if not row["verdict_mismatches"] else f"NO ({len(row['verdict_mismatches'])})"
        )
        differing = len(row["run_verdict_disagreements"]) if row["mode"] == "compile+run" else "-"
        print(
            f"| {row['mode']} | {row['naive_samples_per_s']:.2f} | {row['cold_samples_per_s']:.2f} "
            f"| {row['warm_samples_per_s']:.0f} | {row['cold_speedup']:.1f}x "
            f"| {row['warm_speedup']:.0f}x | {identical} | {differing} |"
        )
    for row in rows:
        if row["link_false_cold_speedup"] is not None:
            print(
                f"\n{row['mode']} with link=False (-fsyntax-only, no link check): cold "
                f"{row['samples'] / statistics.median(row['link_false_cold_seconds']):.2f} "
                f"samples/s, {row['link_false_cold_speedup']:.1f}x the baseline; its verdict "
                f"differs from the compile-and-link reference on "
                f"{len(row['link_false_verdict_differences'])} samples (they compile but do not link)"
            )
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if any(row["verdict_mismatches"] for row in rows) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
