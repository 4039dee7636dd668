"""What the Ray executor costs per sample against the local thread pool, and the chunk size that hides it.

Workload: `--samples` distinct C++ programs (compile + run, one expected output each; a third
print the wrong number, so both verdicts occur), `gcc` with the result cache off. In one
process, on one machine: a local Ray instance with one CPU per core (no dashboard, loopback
only), one warm-up pass on Ray (worker processes start and build their verifier once; its time
is reported apart), then `--repeats` rounds; each round times the local pool (`max_workers` =
cores) and the Ray executor at each `--chunk-sizes` (`num_cpus_per_task` 1), back to back, so
all see the same load. Reported per configuration: the median seconds per sample, the overhead
per sample against the local median of the same run, and Ray/local.

    .venv/bin/python benchmarks/verify_ray.py --samples 48 --repeats 3 --chunk-sizes 1,4,16
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# Keep every Ray service on 127.0.0.1 (see tests/verifiers/executors/conftest.py); read at import.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def programs(count: int) -> tuple[list[str], list[dict[str, str]]]:
    """Distinct programs and their expected outputs; every third prints one too many."""
    codes, contexts = [], []
    for index in range(count):
        printed = index + 1 if index % 3 == 2 else index
        codes.append(
            "#include <cstdio>\n"
            f"int square(int x) {{ return x * x; }}\n"
            f'int main() {{ std::printf("%d\\n", square({printed}) - {printed} * {printed} + {printed}); }}\n'
        )
        contexts.append({"expected_output": f"{index}\n"})
    return codes, contexts


def seconds_per_sample(verifier: object, codes: list[str], contexts: list[dict[str, str]]) -> float:
    started = time.perf_counter()
    results = verifier.verify_batch(codes, contexts=contexts)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert sum(result.success for result in results) == len(codes) - len(codes) // 3
    return elapsed / len(codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-sizes", default="1,4,16")
    args = parser.parse_args()
    chunk_sizes = [int(size) for size in args.chunk_sizes.split(",")]

    import ray

    from halo_forge.verifiers.registry import build_verifier

    cores = os.cpu_count() or 1
    ray.init(address="local", num_cpus=cores, include_dashboard=False, logging_level="WARNING")
    options = {"run_after_compile": True, "use_cache": False}
    local = build_verifier("gcc", max_workers=cores, **options)
    remote = {
        size: build_verifier("gcc", executor={"type": "ray", "chunk_size": size}, **options)
        for size in chunk_sizes
    }
    codes, contexts = programs(args.samples)
    started = time.perf_counter()
    seconds_per_sample(remote[chunk_sizes[0]], codes, contexts)
    print(
        f"warm-up pass on Ray (workers start, verifiers built): {time.perf_counter() - started:.1f} s"
    )

    timings: dict[str, list[float]] = {"local": []} | {f"ray chunk {s}": [] for s in chunk_sizes}
    for _ in range(args.repeats):
        timings["local"].append(seconds_per_sample(local, codes, contexts))
        for size in chunk_sizes:
            timings[f"ray chunk {size}"].append(seconds_per_sample(remote[size], codes, contexts))

    base = statistics.median(timings["local"])
    print(f"{cores} cores, {args.samples} samples, {args.repeats} rounds, medians:")
    print("| executor | ms/sample | overhead ms/sample | Ray/local |")
    print("|---|---|---|---|")
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median * 1e3:.1f} | {(median - base) * 1e3:+.1f} | {median / base:.2f} |"
        )
    ray.shutdown()


if __name__ == "__main__":
    main()
