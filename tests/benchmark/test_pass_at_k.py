"""pass@k against the exact combinatorial value, and stable at sizes where the naive form breaks."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from halo_forge.benchmark.pass_at_k import mean_pass_at_k, pass_at_k


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20, 57, 100])
def test_matches_exact_value_over_a_grid(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12)


def test_large_n_neither_overflows_nor_returns_nan() -> None:
    for c in (0, 1, 3, 250, 999, 1000):
        value = pass_at_k(1000, c, 500)
        assert math.isfinite(value)
        assert value == pytest.approx(float(exact_pass_at_k(1000, c, 500)), abs=1e-12)


def test_known_values() -> None:
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(2, 1, 2) == 1.0


def test_k_larger_than_n_is_refused() -> None:
    with pytest.raises(ValueError, match="needs at least k=5 samples"):
        pass_at_k(3, 1, 5)


def test_invalid_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_mean_uses_only_prompts_with_enough_samples() -> None:
    counts = [(10, 5), (10, 0), (3, 3)]
    assert mean_pass_at_k(counts, 1) == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    assert mean_pass_at_k(counts, 5) == pytest.approx(
        (pass_at_k(10, 5, 5) + pass_at_k(10, 0, 5)) / 2
    )
    assert mean_pass_at_k(counts, 20) is None
