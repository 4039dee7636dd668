"""Benchmarking: unbiased pass@k, runs, comparisons and reports."""

from halo_forge.benchmark.pass_at_k import mean_pass_at_k, pass_at_k

__all__ = ["mean_pass_at_k", "pass_at_k"]
