"""GRPO reward latency: one `VerifierReward` call on a batch of 16 samples, warm pools vs cold.

Why: GRPO (TRL's `GRPOTrainer`, driven by `halo_forge.grpo.trainer.GRPORunner`) calls the reward
function once per training step with a small batch, and the step waits for it. Throughput
benchmarks (verify_throughput.py, verify_python.py) measure big batches, where start-up costs
vanish; here a batch is 16 samples, so whatever a call sets up (servers, threads, sandboxes)
shows in every step unless it stays warm between calls.

Workload, per suite (`builtin_c`: gcc compiles each program and runs it on its 3-5 test cases;
`builtin_python`: the mbpp verifier runs each program's asserts on its warm fork servers):
tasks of `generate_tasks(suite, ...)`, verifier `build_verifier(BUILTIN_SUITES[suite].verifier,
**options, use_cache=False)` (no result cache, so every call really verifies). A batch is 4 prompts
x 4 completions, as TRL builds it with `num_generations=4`: per prompt two reference solutions
(one bare, one with prose around the fence), one wrong answer and one that does not compile or
parse, each fenced as a model writes it and tagged with the call and slot, so within-batch
deduplication merges nothing. Each call brings the next 4 tasks. The reward object is called
exactly as TRL 1.x calls it: `reward(prompts=..., completions=..., completion_ids=...,
verification_context=[...], trainer_state=..., log_extra=..., log_metric=...)`, with
`verification_context` the JSON column `halo_forge.grpo.prompts.prompt_dataset` writes.

Measured, per call, with `time.perf_counter` around the call:
- warm: ONE `VerifierReward` (one verifier) for `--calls` calls, as `GRPORunner` keeps it: the
  first call (pool start-up) is reported alone, p50/p95 and samples/s over the rest;
- cold: `--cold-calls` calls that each build a fresh verifier and `VerifierReward` (the build
  is inside the timing; `cleanup()` after it is not), to show what keeping them warm saves.
The references must score 1.0 and the others less, else the script exits 1.

    .venv/bin/python benchmarks/verify_batch_latency.py                        # both suites
    .venv/bin/python benchmarks/verify_batch_latency.py --suite builtin_c --calls 50
    .venv/bin/python benchmarks/verify_batch_latency.py --calls 10 --cold-calls 3 --output r.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SUITES = ("builtin_c", "builtin_python")
PROMPTS_PER_BATCH = 4
GENERATIONS = 4  # TRL's num_generations: completions per prompt
BATCH = PROMPTS_PER_BATCH * GENERATIONS
PASSING_SLOTS = (0, 1)  # the reference solutions of each prompt's group


def variants(task: dict[str, Any], tag: str) -> list[str]:
    """A prompt's 4 completions as a model writes them: 2 right, 1 wrong, 1 broken.

    `tag` (call and slot) goes into a comment so no two samples share a program: a real
    model's samples differ too, and the batch runner would otherwise verify a duplicate once.
    """
    solution, language = task["solution"].strip(), task["language"]
    comment = "//" if language == "c" else "#"
    if language == "c":
        # Compiles for any signature, prints nothing: wrong output. (Mutating a `return` is
        # not: some early returns are never taken by the tests, some functions return void.)
        body = solution.index("{", solution.index(f"{task['entry_point']}("))
        wrong = f"#include <stdlib.h>\n{solution[: body + 1]}\n    exit(0);{solution[body + 1 :]}"
        broken = solution[: solution.rindex("}")]  # the body never closes: does not compile
    else:
        wrong = f"def {task['entry_point']}(*args, **kwargs):\n    return None"
        broken = solution.replace("def ", "def (", 1)  # does not parse

    def fence(code: str, slot: int) -> str:
        return f"```{language}\n{comment} attempt {tag}.{slot}\n{code}\n```"

    return [
        fence(solution, 0),
        f"Here is my solution.\n\n{fence(solution, 1)}\n\nIt handles every case.",
        fence(wrong, 2),
        fence(broken, 3),
    ]


def trl_batch(tasks: list[dict[str, Any]], call: int) -> dict[str, Any]:
    """The keyword arguments TRL's `_calculate_rewards` passes for one step of 16 completions."""
    from halo_forge.data.converters import builtin_task

    chosen = [tasks[(call * PROMPTS_PER_BATCH + i) % len(tasks)] for i in range(PROMPTS_PER_BATCH)]
    prompts, completions, contexts = [], [], []
    for task in chosen:
        record = builtin_task(task).prompt
        context = json.dumps(record.verification_context(), sort_keys=True)
        for text in variants(task, f"{call}.{task['task_id']}"):
            prompts.append(record.prompt)
            completions.append(text)
            contexts.append(context)  # TRL repeats each prompt's columns per generation
    metrics: dict[str, list[float]] = {}
    return {
        "prompts": prompts,
        "completions": completions,
        "completion_ids": [list(text.encode()[:64]) for text in completions],
        "verification_context": contexts,
        "trainer_state": SimpleNamespace(global_step=call),
        "log_extra": lambda column, values: None,
        "log_metric": lambda name, value: metrics.setdefault(name, []).append(value),
    }


def wrong_verdicts(rewards: list[float]) -> int:
    """Samples scored against expectation: references must get 1.0, the others less."""
    return sum(
        (reward == 1.0) != (index % GENERATIONS in PASSING_SLOTS)
        for index, reward in enumerate(rewards)
    )


def timed(reward: Callable[..., list[float]], batch: dict[str, Any]) -> tuple[float, list[float]]:
    started = time.perf_counter()
    rewards = reward(**batch)
    return time.perf_counter() - started, rewards


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so p95 of few calls is sane."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def build(suite: str, workers: int | None) -> Any:
    """The suite's verifier as the project builds it (`BUILTIN_SUITES` -> `build_verifier`)."""
    from halo_forge.data.builtin_tasks import BUILTIN_SUITES
    from halo_forge.verifiers.registry import build_verifier

    info = BUILTIN_SUITES[suite]
    options: dict[str, Any] = {**info.verifier_options, "use_cache": False}
    if workers is not None:
        options["max_workers"] = workers
    return build_verifier(info.verifier, **options)


def measure(suite: str, calls: int, cold_calls: int, workers: int | None) -> dict[str, Any]:
    """Warm series on one reward object, then cold calls that each build their own."""
    from halo_forge.data.builtin_tasks import generate_tasks
    from halo_forge.verifiers.integrations import VerifierReward

    tasks = generate_tasks(suite, PROMPTS_PER_BATCH * (calls + cold_calls), seed=0)
    batches = [trl_batch(tasks, call) for call in range(calls + cold_calls)]
    mistakes = 0
    started = time.perf_counter()
    verifier = build(suite, workers)
    build_seconds = time.perf_counter() - started
    warm: list[float] = []
    try:
        reward = VerifierReward(verifier)
        for call in range(calls):
            seconds, rewards = timed(reward, batches[call])
            warm.append(seconds)
            mistakes += wrong_verdicts(rewards)
            print(f"{suite} warm call {call + 1}/{calls}: {seconds * 1000:.0f} ms", file=sys.stderr)
        max_workers = verifier.max_workers
    finally:
        verifier.cleanup()
    cold: list[float] = []
    for call in range(calls, calls + cold_calls):
        started = time.perf_counter()
        fresh = build(suite, workers)
        try:
            _, rewards = timed(VerifierReward(fresh), batches[call])
            cold.append(time.perf_counter() - started)
        finally:
            fresh.cleanup()
        mistakes += wrong_verdicts(rewards)
        print(
            f"{suite} cold call {len(cold)}/{cold_calls}: {cold[-1] * 1000:.0f} ms", file=sys.stderr
        )
    rest = warm[1:] or warm
    return {
        "suite": suite,
        "batch": BATCH,
        "calls": calls,
        "workers": max_workers,
        "cpus": os.cpu_count(),
        "build_ms": build_seconds * 1000,
        "first_call_ms": warm[0] * 1000 if warm else None,
        "warm_p50_ms": percentile(rest, 0.50) * 1000 if rest else None,
        "warm_p95_ms": percentile(rest, 0.95) * 1000 if rest else None,
        "warm_samples_per_s": BATCH * len(rest) / sum(rest) if rest else None,
        "cold_p50_ms": statistics.median(cold) * 1000 if cold else None,
        "cold_samples_per_s": BATCH * len(cold) / sum(cold) if cold else None,
        "warm_ms": [round(s * 1000, 1) for s in warm],
        "cold_ms": [round(s * 1000, 1) for s in cold],
        "wrong_verdicts": mistakes,
    }


def cell(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--suite", choices=SUITES, action="append", help="default: both")
    parser.add_argument("--calls", type=int, default=30, help="warm calls on one reward object")
    parser.add_argument("--cold-calls", type=int, default=5, help="calls on a fresh verifier each")
    parser.add_argument(
        "--workers", type=int, default=None, help="verifier max_workers (default: its own)"
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args()
    if args.calls < 1 or args.cold_calls < 0:
        parser.error("--calls must be at least 1 and --cold-calls at least 0")

    # run_batch's progress bar prints a blank line per batch even when hidden: keep it off stdout.
    with contextlib.redirect_stdout(sys.stderr):
        rows = [measure(s, args.calls, args.cold_calls, args.workers) for s in args.suite or SUITES]
    print(
        f"\n{BATCH} samples per call ({PROMPTS_PER_BATCH} prompts x {GENERATIONS}), ms per call\n"
    )
    print(
        "| suite | workers | CPUs | first call | warm p50 | warm p95 | warm samples/s "
        "| cold p50 | cold samples/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['suite']} | {row['workers']} | {row['cpus']} | {cell(row['first_call_ms'])} "
            f"| {cell(row['warm_p50_ms'])} | {cell(row['warm_p95_ms'])} "
            f"| {cell(row['warm_samples_per_s'], 1)} | {cell(row['cold_p50_ms'])} "
            f"| {cell(row['cold_samples_per_s'], 1)} |"
        )
    print(json.dumps(rows, indent=2))
    if args.output is not None:
        args.output.write_text(json.dumps(rows, indent=2) + "\n")
    if any(row["wrong_verdicts"] for row in rows):
        print("VERDICT ERRORS: see wrong_verdicts above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
