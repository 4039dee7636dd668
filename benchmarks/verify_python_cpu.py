"""CPU time per sample of Python test verification, every process counted, against the naive baseline.

Samples/s on a shared machine move with the load; CPU time per sample does not. This script
puts itself in a fresh cpuacct cgroup (cgroup v1, as root), so the count covers the verifier
process, its sandboxed fork servers and every child they fork, then verifies the samples of
`verify_python.py` (reference solutions plus wrong-body variants) on warm servers `--repeats`
times, runs the naive baseline (one `python3` per sample) once, and the floor: the same program
and tests executed with a bare in-process `exec` (no isolation at all; a wrong sample's
exception caught), whose CPU per sample the isolation's cost is measured against:

    .venv/bin/python benchmarks/verify_python_cpu.py --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_accounting
from verify_python import DEFAULT_DATA, TIMEOUT_S, load, naive_pass


def bare_exec_ms(codes: list[str], tests: list[str]) -> float:
    """CPU ms per sample of `exec(program + tests + test_solution())` in this process: the
    floor, on the data set's own solutions and their variants (never on model output)."""
    started = time.process_time()
    for code, test in zip(codes, tests, strict=True):
        namespace: dict[str, object] = {"__name__": "__main__"}
        with contextlib.suppress(Exception):  # a wrong sample fails its asserts: its verdict
            exec(compile(f"{code}\n{test}\ntest_solution()\n", "<sample>", "exec"), namespace)
    return (time.process_time() - started) / len(codes) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use the first N tasks only")
    args = parser.parse_args()
    if not cpu_accounting.available():
        print(f"needs a writable cgroup v1 cpuacct hierarchy at {cpu_accounting.CPUACCT} (root)")
        return 2

    from halo_forge.verifiers.python.verifiers import MBPPVerifier

    tasks, solutions, wrong, _ = load(args.data, args.limit)
    codes = solutions + wrong
    task_ids = [task.task_id for task in tasks] * 2
    tests = [task.test_source for task in tasks] * 2
    with cpu_accounting.counted() as used_ns:
        warm = []
        with MBPPVerifier(
            str(args.data), max_workers=args.workers, use_cache=False, timeout=TIMEOUT_S
        ) as verifier:
            verifier.verify_batch(codes, task_ids=task_ids)  # start and warm the servers
            for _ in range(args.repeats):
                before = used_ns()
                verifier.verify_batch(codes, task_ids=task_ids)
                warm.append((used_ns() - before) / len(codes) / 1e6)
        before = used_ns()
        naive_pass(codes, tests, args.workers)
        naive = (used_ns() - before) / len(codes) / 1e6
    bare = statistics.median(bare_exec_ms(codes, tests) for _ in range(args.repeats))
    median = statistics.median(warm)
    print(f"{len(codes)} samples, {args.workers} workers")
    print(f"warm servers: {median:.2f} ms CPU per sample (median of {[round(w, 2) for w in warm]})")
    print(f"naive:        {naive:.2f} ms CPU per sample")
    print(f"ratio:        {naive / median:.1f}x")
    print(f"bare exec:    {bare:.2f} ms CPU per sample (no isolation)")
    print(f"isolation:    {median - bare:.2f} ms CPU per sample above bare exec")
    return 0


if __name__ == "__main__":
    sys.exit(main())
