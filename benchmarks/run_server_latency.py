"""Latency of each run on a warm run server, by its place after a compile.

The demo's samples compile once and then run 3-5 test cases on the same run server
(`halo_forge/verifiers/sandbox/run_server.py`). Per sample here: write a built-in C task's
program, compile it on the server (gcc -O2, as the verifier does), then run the binary
`--runs` times, or `/bin/true` with `--true`. Reported: the server's own wall time of each run
(fork or standby to exit, output collected), median and p90 per place, over `--samples` samples.
Where a cgroup v1 cpuacct hierarchy is writable (as root), also the CPU time of the runs, every
process counted (`cpu_accounting`), per sample: its compile and its runs (standbys are made
beside the compile).

    .venv/bin/python benchmarks/run_server_latency.py --samples 30
    .venv/bin/python benchmarks/run_server_latency.py --samples 30 --true
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_accounting  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--runs", type=int, default=4, help="runs after each compile")
    parser.add_argument("--true", action="store_true", help="run /bin/true, not the program")
    args = parser.parse_args()

    from halo_forge.data.builtin_tasks import generate_tasks
    from halo_forge.verifiers.build.toolchain import COMPILER_ENVIRONMENT
    from halo_forge.verifiers.sandbox import SandboxLimits
    from halo_forge.verifiers.sandbox.run_pool import RunServerPool

    run_limits = SandboxLimits(wall_timeout_s=10, memory_limit_mb=512)
    build_limits = SandboxLimits(wall_timeout_s=30, memory_limit_mb=2048, max_file_size_mb=512)
    tasks = generate_tasks("builtin_c", args.samples, seed=0)
    compile_argv = [
        shutil.which("gcc") or "gcc",
        "-O2",
        "-pipe",
        "-std=gnu17",
        "-Wall",
        "prog.c",
        "-o",
        "prog",
    ]
    by_place: list[list[float]] = [[] for _ in range(args.runs)]
    sample_cpu_ns = 0
    counting = cpu_accounting.counted() if cpu_accounting.available() else contextlib.nullcontext()
    with counting as used_ns:
        pool = RunServerPool(1, run_limits, build_limits=build_limits)
        try:
            with pool.session({}) as session:
                for task in tasks:
                    before = used_ns() if used_ns is not None else 0
                    session.write("prog.c", task["solution"] + "\n" + task["tests"])
                    built = session.run(
                        compile_argv, limits=build_limits, env=COMPILER_ENVIRONMENT, keep=["prog"]
                    )
                    if not built.ok:
                        raise SystemExit(f"{task['task_id']} did not compile: {built.stderr}")
                    stdin = task["test_cases"][0]["stdin"]
                    for place in range(args.runs):
                        argv = ["/bin/true"] if args.true else ["./prog"]
                        run = session.run(argv, stdin=stdin)
                        by_place[place].append(run.wall_time_s * 1000)
                    if used_ns is not None:
                        sample_cpu_ns += used_ns() - before
        finally:
            pool.close()
    what = "/bin/true" if args.true else "the program"
    print(f"{args.samples} samples, runs of {what} after each compile, server wall time (ms)\n")
    print("| run after the compile | median | p90 |\n|---|---|---|")
    for place, times in enumerate(by_place, start=1):
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"| {place} | {statistics.median(times):.2f} | {p90:.2f} |")
    if sample_cpu_ns:
        per_sample = sample_cpu_ns / args.samples / 1e6
        print(
            f"\nCPU per sample (its compile and {args.runs} runs), every process: {per_sample:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
