"""Python test verification: MBPPVerifier against the naive reference, on the real MBPP tasks.

Samples: the 374 reference solutions of ../shared/data/mbpp/train.jsonl, and per task wrong
variants made here: the entry point's body replaced by `raise NotImplementedError` (wrong),
a lost colon (does not parse), and four forgeries that the reference scores as passes:
`sys.exit(0)`, `os._exit(0)` and `raise KeyboardInterrupt` before the tests run, and a
program that prints a fake pytest summary and exits 0.

Verdicts: 373 of the 374 reference solutions must pass (task 927's is broken in the data
set) and every variant must fail, else the script exits 1.

Speed, measured in the same run, each the median of `--repeats` runs with `--workers` threads,
on the reference solutions plus the wrong-body variants (both verdicts occur):
- naive baseline: what the reference implementation does, one fresh `python3` per sample
  (`sys.executable -c program + tests + "test_solution()"`, pass = exit status 0);
- MBPPVerifier with fresh servers (their start-up is inside the timing), no result cache;
- MBPPVerifier again on its warm servers, still without the result cache.

    .venv/bin/python benchmarks/verify_python.py --repeats 3              # 2 threads per CPU
    .venv/bin/python benchmarks/verify_python.py --workers 2 --repeats 3  # 1 per CPU, 2 CPUs
    .venv/bin/python benchmarks/verify_python.py --limit 50 --repeats 1     # a quick look
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared/data/mbpp/train.jsonl"
TIMEOUT_S = 5.0
KNOWN_BROKEN = {"927"}  # the data set's reference solution raises NameError

FORGERIES = {
    "sys.exit(0)": "import sys\nsys.exit(0)\n",
    "os._exit(0)": "import os\nos._exit(0)\n",
    "KeyboardInterrupt": "raise KeyboardInterrupt\n",
    "fake pytest output": "print('===== 3 passed in 0.01s =====')\nimport sys\nsys.exit(0)\n",
}


def wrong_body(code: str, entry_point: str) -> str:
    """The solution with the entry point's body replaced by `raise NotImplementedError`."""
    module = ast.parse(code)
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            node.body = [ast.parse("raise NotImplementedError").body[0]]
    return ast.unparse(module)


def lost_colon(code: str) -> str:
    """The solution without the colon that ends its first `def` line (a syntax error)."""
    position = code.index(":", code.index("def "))
    return code[:position] + code[position + 1 :]


def load(path: Path, limit: int | None) -> tuple[list, list[str], list[str], dict[str, list[str]]]:
    from halo_forge.verifiers.python.benchmark_tasks import TaskSet

    tasks = list(TaskSet.load(path))[:limit]
    solutions = [task.reference_solution for task in tasks]
    wrong = [wrong_body(task.reference_solution, task.entry_point) for task in tasks]
    failing = {"wrong body": wrong, "lost colon": [lost_colon(code) for code in solutions]}
    for name, prefix in FORGERIES.items():
        failing[name] = [prefix + code for code in solutions]
    return tasks, solutions, wrong, failing


def naive_check(code: str, tests: str) -> bool:
    """The reference: a fresh interpreter runs program + tests; exit status 0 is a pass."""
    try:
        completed = subprocess.run(
            [sys.executable, "-c", f"{code}\n\n{tests}\n\ntest_solution()\n"],
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return completed.returncode == 0


def naive_pass(codes: list[str], tests: list[str], workers: int) -> tuple[float, list[bool]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        verdicts = list(executor.map(naive_check, codes, tests))
    return time.perf_counter() - started, verdicts


def verifier_passes(
    codes: list[str], task_ids: list[str], workers: int, path: Path
) -> tuple[float, float, list[bool]]:
    """(seconds on fresh servers, seconds on warm servers, verdicts)."""
    from halo_forge.verifiers.python.verifiers import MBPPVerifier

    started = time.perf_counter()
    with MBPPVerifier(
        str(path), max_workers=workers, use_cache=False, timeout=TIMEOUT_S
    ) as verifier:
        fresh = verifier.verify_batch(codes, task_ids=task_ids)
        fresh_seconds = time.perf_counter() - started
        started = time.perf_counter()
        verifier.verify_batch(codes, task_ids=task_ids)
        warm_seconds = time.perf_counter() - started
    return fresh_seconds, warm_seconds, [result.success for result in fresh]


def check_verdicts(tasks: list, failing: dict[str, list[str]], workers: int, path: Path) -> dict:
    """Reference solutions pass (but the known broken one); every variant fails."""
    from halo_forge.verifiers.python.verifiers import MBPPVerifier

    ids = [task.task_id for task in tasks]
    report: dict = {}
    with MBPPVerifier(
        str(path), max_workers=workers, use_cache=False, timeout=TIMEOUT_S
    ) as verifier:
        results = verifier.verify_batch([task.reference_solution for task in tasks], task_ids=ids)
        report["reference_failing"] = [
            i for i, r in zip(ids, results, strict=True) if not r.success
        ]
        for name, codes in failing.items():
            results = verifier.verify_batch(codes, task_ids=ids)
            report[f"{name} passing"] = [i for i, r in zip(ids, results, strict=True) if r.success]
    naive_forgery = {}
    for name in FORGERIES:
        _, verdicts = naive_pass(failing[name], [task.test_source for task in tasks], workers)
        naive_forgery[name] = sum(verdicts)
    report["naive_scores_forgeries_as_passes"] = naive_forgery
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="threads of both the baseline and the verifier (default: the verifier's own default)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use the first N tasks only")
    parser.add_argument("--output", type=Path, default=None, help="also write the numbers as JSON")
    args = parser.parse_args()

    tasks, solutions, wrong, failing = load(args.data, args.limit)
    verdicts = check_verdicts(tasks, failing, args.workers, args.data)
    codes = solutions + wrong
    tests = [task.test_source for task in tasks] * 2
    task_ids = [task.task_id for task in tasks] * 2
    naive_seconds, fresh_seconds, warm_seconds = [], [], []
    for repeat in range(args.repeats):
        seconds, naive_verdicts = naive_pass(codes, tests, args.workers)
        naive_seconds.append(seconds)
        fresh, warm, ours = verifier_passes(codes, task_ids, args.workers, args.data)
        fresh_seconds.append(fresh)
        warm_seconds.append(warm)
        print(
            f"repeat {repeat + 1}/{args.repeats}: naive {seconds:.2f} s, "
            f"fresh servers {fresh:.2f} s, warm servers {warm:.2f} s",
            file=sys.stderr,
        )
    count = len(codes)
    naive, fresh, warm = (
        statistics.median(values) for values in (naive_seconds, fresh_seconds, warm_seconds)
    )
    row = {
        "samples": count,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "naive_samples_per_s": count / naive,
        "fresh_samples_per_s": count / fresh,
        "warm_samples_per_s": count / warm,
        "fresh_speedup": naive / fresh,
        "warm_speedup": naive / warm,
        "naive_seconds": naive_seconds,
        "fresh_seconds": fresh_seconds,
        "warm_seconds": warm_seconds,
        "verdicts_agree_with_naive": ours == naive_verdicts,
        **verdicts,
    }
    print(
        f"{count} samples, {args.workers} workers, {os.cpu_count()} CPUs, median of {args.repeats} run(s)\n"
    )
    print(
        "| naive samples/s | fresh servers samples/s | warm servers samples/s | fresh speed-up | warm speed-up |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {row['naive_samples_per_s']:.1f} | {row['fresh_samples_per_s']:.1f} "
        f"| {row['warm_samples_per_s']:.1f} | {row['fresh_speedup']:.1f}x | {row['warm_speedup']:.1f}x |"
    )
    print(json.dumps(verdicts, indent=2))
    if args.output is not None:
        args.output.write_text(json.dumps(row, indent=2) + "\n")
    failed_references = set(verdicts["reference_failing"]) - KNOWN_BROKEN
    variants_passing = {
        key: value for key, value in verdicts.items() if key.endswith("passing") and value
    }
    if failed_references or variants_passing:
        print(
            f"VERDICT ERRORS: references failing {sorted(failed_references)}, "
            f"variants passing {variants_passing}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
