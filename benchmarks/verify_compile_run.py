"""Compile-and-run verification: GCCVerifier against a naive runner, on the demo's C tasks.

Samples: the reference solutions of the first `--tasks` built-in C tasks (the demo's RAFT
workload, `generate_tasks("builtin_c", n, seed=0)`), each an answer in a ```c block, plus per
task three variants made here so that every verdict tier occurs:
- wrong output: the entry point renamed `<name>_impl` and wrapped by a function of the old
  signature that returns `impl + 1` (int), `!impl` (bool), or flips `out[0]` (void): it
  compiles for every task and prints something else (tier 0.7 or 0.8);
- compile error: the first `;` of the entry point's body dropped (tier 0.0);
- crash: `*(volatile int *)0 = 0;` at the start of the body (compiles, SIGSEGV; tier 0.6).
`--references-only` keeps the references alone: the "correct programs" case, where every
test case runs and passes.

Measured in the same run, each the median of `--repeats` runs, with `--workers` threads:
- naive baseline, no isolation at all: per sample, prog.c = solution + tests in a temp dir,
  `gcc -O0 prog.c -o prog`, then one `./prog` per test case (stdin in, 5 s timeout); pass =
  every case exits 0 and prints the expected output, trailing whitespace per line ignored
  (`normalise_output`). Every case runs, as the verifier runs every case to score partials;
- GCCVerifier, cold: a fresh verifier per repeat, `language="c", run_after_compile=True,
  use_cache=False`, on an empty cache directory: sandboxed compile (-O2 -Wall, or the
  `--optimization` given: -O0 does the naive loop's work) and sandboxed runs; verdict =
  `result.success`.
Where a cgroup v1 cpuacct hierarchy is writable (as root), each pass's CPU time is counted too,
every process included (`cpu_accounting`): on a shared machine samples/s move with the load,
CPU ms per sample much less.
Verdicts must be identical per sample, else the script lists the disagreements and exits 1.
References that fail and variants that pass are reported (for the naive side) as a check
of the workload itself.

    .venv/bin/python benchmarks/verify_compile_run.py --workers 2 --repeats 3
    .venv/bin/python benchmarks/verify_compile_run.py --references-only --repeats 3
    .venv/bin/python benchmarks/verify_compile_run.py --optimization=-O0 --repeats 3
    .venv/bin/python benchmarks/verify_compile_run.py --tasks 40 --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cpu_accounting

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RUN_TIMEOUT_S = 5.0
CRASH = "*(volatile int *)0 = 0;"


@dataclass
class Sample:
    """One answer to one task: `kind` is "reference" or the variant's name."""

    task_id: str
    kind: str
    solution: str
    context: dict[str, Any]

    @property
    def answer(self) -> str:
        """The text handed to the verifier: a model-style fenced C block."""
        return f"```c\n{self.solution}\n```"


def _signature(code: str, name: str) -> re.Match[str]:
    match = re.search(rf"^(\w+)\s+{name}\s*\(([^)]*)\)\s*\{{", code, re.M)
    if match is None:
        raise SystemExit(f"no definition of {name} found in:\n{code}")
    return match


def wrong_output(code: str, name: str) -> str:
    """The entry point wrapped so that it returns (or writes) something else; the original
    body stays intact (recursive calls go to `_impl`), so it compiles wherever the reference
    does. Every parameter's name is the last identifier of its declaration."""
    match = _signature(code, name)
    kind, params = match.group(1), match.group(2)
    args = ", ".join(re.findall(r"(\w+)\s*(?:\[\s*\])?\s*$", p)[0] for p in params.split(","))
    renamed = re.sub(rf"\b{name}\s*\(", f"{name}_impl(", code)
    body = {
        "int": f"return {name}_impl({args}) + 1;",
        "bool": f"return !{name}_impl({args});",
        "void": f"{name}_impl({args}); out[0] ^= 1;",  # every void entry point writes `out`
    }[kind]
    return f"{renamed}\n\n{kind} {name}({params}) {{\n    {body}\n}}\n"


def compile_error(code: str, name: str) -> str:
    """The first `;` of the entry point's body dropped: a syntax error in every task."""
    position = code.index(";", _signature(code, name).end())
    return code[:position] + code[position + 1 :]


def crash(code: str, name: str) -> str:
    """A null-pointer write as the body's first statement: compiles, then dies on SIGSEGV."""
    end = _signature(code, name).end()
    return f"{code[:end]}\n    {CRASH}{code[end:]}"


VARIANTS = {"wrong output": wrong_output, "compile error": compile_error, "crash": crash}


def load_samples(tasks: int, references_only: bool) -> list[Sample]:
    from halo_forge.data.builtin_tasks import generate_tasks

    samples: list[Sample] = []
    for task in generate_tasks("builtin_c", tasks, seed=0):
        context = {"tests": task["tests"], "test_cases": task["test_cases"], "language": "c"}
        samples.append(Sample(task["task_id"], "reference", task["solution"], context))
        if not references_only:
            for kind, make in VARIANTS.items():
                code = make(task["solution"], task["entry_point"])
                samples.append(Sample(task["task_id"], kind, code, context))
    return samples


def naive_check(sample: Sample, gcc: str) -> bool:
    """No isolation: compile solution + tests at -O0, run the binary once per test case."""
    from halo_forge.verifiers.build.testcases import normalise_output

    with tempfile.TemporaryDirectory(prefix="naive-c-") as directory:
        source = Path(directory) / "prog.c"
        source.write_text(sample.solution + "\n" + sample.context["tests"])
        built = subprocess.run(
            [gcc, "-O0", "prog.c", "-o", "prog"], cwd=directory, capture_output=True, check=False
        )
        if built.returncode != 0:
            return False
        passed = True
        for case in sample.context["test_cases"]:  # every case runs, as in the verifier
            try:
                ran = subprocess.run(
                    ["./prog"], cwd=directory, input=case["stdin"], capture_output=True,
                    text=True, timeout=RUN_TIMEOUT_S, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                passed = False
                continue
            expected = normalise_output(case["expected_output"])
            passed &= ran.returncode == 0 and normalise_output(ran.stdout) == expected
        return passed


def naive_pass(samples: list[Sample], workers: int) -> tuple[float, list[bool]]:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise SystemExit("gcc not found on PATH")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        verdicts = list(executor.map(lambda sample: naive_check(sample, gcc), samples))
    return time.perf_counter() - started, verdicts


def verifier_pass(
    samples: list[Sample], workers: int, optimization: str
) -> tuple[float, list[bool], list[float]]:
    """A fresh GCCVerifier on an empty cache directory; its construction is inside the timing."""
    from halo_forge.verifiers.cpp.compile import GCCVerifier

    with tempfile.TemporaryDirectory(prefix="verify-cache-") as cache_dir:
        os.environ["HALO_FORGE_CACHE_DIR"] = cache_dir
        started = time.perf_counter()
        with GCCVerifier(
            language="c",
            run_after_compile=True,
            use_cache=False,
            max_workers=workers,
            optimization=optimization,
        ) as verifier:
            results = verifier.verify_batch(
                [s.answer for s in samples], contexts=[s.context for s in samples]
            )
        seconds = time.perf_counter() - started
    return seconds, [r.success for r in results], [r.reward for r in results]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=150, help="built-in C tasks (seed 0)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use the first N samples only")
    parser.add_argument("--references-only", action="store_true", help="no broken variants")
    parser.add_argument("--output", type=Path, default=None, help="also write the numbers as JSON")
    parser.add_argument(
        "--optimization",
        default="-O2",
        help="the verifier's `optimization` (default -O2, its default; -O0 builds as the naive "
        "loop does)",
    )
    args = parser.parse_args()

    samples = load_samples(args.tasks, args.references_only)[: args.limit]
    count = len(samples)
    naive_seconds: list[float] = []
    verifier_seconds: list[float] = []
    cpu_ms: dict[str, list[float]] = {"naive": [], "verifier": []}
    disagreements: set[int] = set()
    with contextlib.ExitStack() as stack:
        used_ns = (
            stack.enter_context(cpu_accounting.counted()) if cpu_accounting.available() else None
        )
        for repeat in range(args.repeats):
            before = used_ns() if used_ns else 0
            seconds, naive = naive_pass(samples, args.workers)
            middle = used_ns() if used_ns else 0
            cold, ours, rewards = verifier_pass(samples, args.workers, args.optimization)
            if used_ns:
                cpu_ms["naive"].append((middle - before) / count / 1e6)
                cpu_ms["verifier"].append((used_ns() - middle) / count / 1e6)
            naive_seconds.append(seconds)
            verifier_seconds.append(cold)
            disagreements |= {i for i, (a, b) in enumerate(zip(naive, ours, strict=True)) if a != b}
            print(
                f"repeat {repeat + 1}/{args.repeats}: naive {seconds:.2f} s, verifier cold {cold:.2f} s",
                file=sys.stderr,
            )
    naive_rate = count / statistics.median(naive_seconds)
    verifier_rate = count / statistics.median(verifier_seconds)
    tiers: dict[str, collections.Counter[float]] = collections.defaultdict(collections.Counter)
    for sample, reward in zip(samples, rewards, strict=True):
        tiers[sample.kind][reward] += 1
    judged = list(zip(samples, naive, strict=True))  # the naive verdicts check the workload
    summary = {
        "samples": count,
        "kinds": dict(collections.Counter(s.kind for s in samples)),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "verifier_optimization": args.optimization,
        "naive_samples_per_s": naive_rate,
        "verifier_cold_samples_per_s": verifier_rate,
        "verifier_over_naive": verifier_rate / naive_rate,
        "naive_passing": sum(naive),
        "verifier_passing": sum(ours),
        "naive_seconds": naive_seconds,
        "verifier_cold_seconds": verifier_seconds,
        "naive_cpu_ms_per_sample": cpu_ms["naive"],
        "verifier_cpu_ms_per_sample": cpu_ms["verifier"],
        "verifier_rewards_by_kind": {k: dict(sorted(v.items())) for k, v in tiers.items()},
        "references_failing": [s.task_id for s, ok in judged if s.kind == "reference" and not ok],
        "variants_passing": [f"{s.task_id} ({s.kind})" for s, ok in judged if s.kind != "reference" and ok],
        "verdict_disagreements": [
            f"{samples[i].task_id} ({samples[i].kind}): naive {naive[i]}, verifier {ours[i]}"
            for i in sorted(disagreements)
        ],
    }  # fmt: skip
    print(
        f"{count} samples, {args.workers} workers, {os.cpu_count()} CPUs, "
        f"median of {args.repeats} run(s)\n"
    )
    print(
        "| samples | naive samples/s | GCCVerifier cold samples/s | verifier/naive "
        "| passing (naive / verifier) | verdicts identical |"
    )
    print("|---|---|---|---|---|---|")
    identical = "yes" if not disagreements else f"NO ({len(disagreements)})"
    print(
        f"| {count} | {naive_rate:.2f} | {verifier_rate:.2f} | {verifier_rate / naive_rate:.2f}x "
        f"| {sum(naive)} / {sum(ours)} | {identical} |\n"
    )
    if cpu_ms["naive"]:
        naive_cpu, ours_cpu = (statistics.median(cpu_ms[side]) for side in ("naive", "verifier"))
        print(
            f"CPU ms per sample, every process: naive {naive_cpu:.2f}, verifier {ours_cpu:.2f} "
            f"(naive / verifier {naive_cpu / ours_cpu:.2f}x)\n"
        )
    print(json.dumps(summary, indent=2))
    if args.output is not None:
        args.output.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
