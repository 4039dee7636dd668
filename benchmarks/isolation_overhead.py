"""What the file-system view and the disk limit cost: this checkout against an older commit.

Four workloads, each timed in a fresh worker process with the result cache off:
- compile-only: distinct C++ programs, `GCCVerifier(run_after_compile=False)`;
- compile+run C and compile+run C++: distinct programs that read two numbers and print their
  sum, checked against one test case;
- Python: MBPP on warm servers, the reference solutions and wrong-body variants of
  `--data` (the first `--python-samples` tasks), as in `verify_python.py`.

The older code runs from a temporary `git worktree` of `--before` (removed at the end) with
this checkout's environment; each repeat runs every workload on the old code, then on this
checkout, back to back, so both see the same load. Reported: median samples/s of
`--repeats`, and after/before.

    .venv/bin/python benchmarks/isolation_overhead.py --before HEAD --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared/data/mbpp/train.jsonl"
WORKLOADS = ("compile-only C++", "compile+run C", "compile+run C++", "Python (MBPP, warm)")

#: Runs in a worker whose PYTHONPATH picks the code under test; prints samples/s as JSON.
WORKER = r"""
import json, sys, time
import halo_forge
workload, count, workers, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
C = '#include <stdio.h>\nint main(void) { int a, b; scanf("%%d %%d", &a, &b); printf("%%d\\n", a + b + %d - %d); return 0; }\n'
CPP = "#include <iostream>\nint main() { int a, b; std::cin >> a >> b; std::cout << a + b + %d - %d << '\\n'; }\n"
if workload.startswith("Python"):
    import ast
    from halo_forge.verifiers.python.benchmark_tasks import TaskSet
    from halo_forge.verifiers.python.verifiers import MBPPVerifier
    tasks = list(TaskSet.load(data))[:count]
    def wrong(task):
        module = ast.parse(task.reference_solution)
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef) and node.name == task.entry_point:
                node.body = [ast.parse("raise NotImplementedError").body[0]]
        return ast.unparse(module)
    codes = [t.reference_solution for t in tasks] + [wrong(t) for t in tasks]
    ids = [t.task_id for t in tasks] * 2
    with MBPPVerifier(data, max_workers=workers, use_cache=False, timeout=5.0) as verifier:
        verifier.verify_batch(codes, task_ids=ids)  # warm the servers
        started = time.perf_counter()
        results = verifier.verify_batch(codes, task_ids=ids)
        seconds = time.perf_counter() - started
    passed = sum(result.success for result in results)
else:
    from halo_forge.verifiers import GCCVerifier
    language = "c" if workload.endswith(" C") else "cpp"
    source = C if language == "c" else CPP
    codes = [f"```{language}\n{source % (n, n)}```" for n in range(count)]
    runs = workload.startswith("compile+run")
    options = {} if runs else {"run_after_compile": False}
    contexts = [{"stdin": "2 3\n", "expected_output": "5\n"} if runs else {}] * count
    with GCCVerifier(max_workers=workers, use_cache=False, **options) as verifier:
        verifier.verify_batch(codes[:workers], contexts=contexts[:workers])  # warm the PCH
        started = time.perf_counter()
        results = verifier.verify_batch(codes, contexts=contexts)
        seconds = time.perf_counter() - started
    passed = sum(result.success for result in results)
print(json.dumps({"code": halo_forge.__file__, "rate": len(codes) / seconds, "passed": passed,
                  "total": len(codes)}))
"""


def measure(checkout: Path, workload: str, count: int, workers: int, data: Path) -> dict:
    """One timed run of `workload` on the code of `checkout`."""
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    completed = subprocess.run(
        [sys.executable, "-c", WORKER, workload, str(count), str(workers), str(data)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=checkout,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if not Path(result["code"]).is_relative_to(checkout):
        raise SystemExit(f"the worker imported {result['code']}, not the code of {checkout}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="HEAD", help="commit of the older code")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60, help="C/C++ programs per run")
    parser.add_argument("--python-samples", type=int, default=374, help="MBPP tasks per run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    arguments = parser.parse_args()
    old = Path(tempfile.mkdtemp(prefix="halo-forge-before-")) / "checkout"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(old), arguments.before],
        check=True,
        capture_output=True,
    )
    rates: dict[tuple[str, str], list[float]] = {}
    try:
        for repeat in range(arguments.repeats):
            for workload in WORKLOADS:
                python = workload.startswith("Python")
                count = arguments.python_samples if python else arguments.samples
                workers = 2 * arguments.workers if python else arguments.workers
                for code, checkout in (("before", old), ("after", REPO)):
                    result = measure(checkout, workload, count, workers, arguments.data)
                    rates.setdefault((workload, code), []).append(result["rate"])
                    print(
                        f"repeat {repeat + 1} {workload:<22} {code:<6} "
                        f"{result['rate']:8.1f} samples/s ({result['passed']}/{result['total']} "
                        "passed)",
                        flush=True,
                    )
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)], check=True
        )
        old.parent.rmdir()
    print("\n| workload | before samples/s | after samples/s | after/before |\n|---|---|---|---|")
    for workload in WORKLOADS:
        before = statistics.median(rates[(workload, "before")])
        after = statistics.median(rates[(workload, "after")])
        print(f"| {workload} | {before:.1f} | {after:.1f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
