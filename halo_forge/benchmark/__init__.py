"""Benchmarking: unbiased pass@k, runs, comparisons and evaluations on HumanEval and MBPP.

    from halo_forge.benchmark import run_benchmark, load_result
    result = run_benchmark(BenchmarkConfig(model=..., prompts=..., output="results/x.json"))

Names are imported on first use, so reading or comparing results never loads torch; only
`run_benchmark` and `run_eval` (which sample from a model) do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Eager: the function shares its module's name, and binding it here keeps the package attribute
# the function even after a sibling module imports `halo_forge.benchmark.pass_at_k`.
from halo_forge.benchmark.pass_at_k import mean_pass_at_k, pass_at_k
from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.benchmark.compare import comparison_table, load_runs, plot_comparison
    from halo_forge.benchmark.eval import run_eval
    from halo_forge.benchmark.results import (
        BenchmarkResult,
        SampleOutcome,
        aggregate,
        load_result,
        write_result,
    )
    from halo_forge.benchmark.run import run_benchmark

_EXPORTS = {
    "comparison_table": "compare",
    "load_runs": "compare",
    "plot_comparison": "compare",
    "run_eval": "eval",
    "BenchmarkResult": "results",
    "SampleOutcome": "results",
    "aggregate": "results",
    "load_result": "results",
    "write_result": "results",
    "run_benchmark": "run",
}

__all__ = [
    "BenchmarkResult",
    "SampleOutcome",
    "aggregate",
    "comparison_table",
    "load_result",
    "load_runs",
    "mean_pass_at_k",
    "pass_at_k",
    "plot_comparison",
    "run_benchmark",
    "run_eval",
    "write_result",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
