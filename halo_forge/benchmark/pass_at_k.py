"""The unbiased pass@k estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on Code".

pass@k = 1 - C(n - c, k) / C(n, k) for n samples of which c pass. Computing the binomials directly
overflows floats (C(1000, 500) has 300 digits), so we use the product form
    C(n - c, k) / C(n, k) = prod_{i = n - c + 1}^{n} (1 - k / i),
whose factors all lie in [0, 1]: no overflow, no NaN, for any n.
"""

from __future__ import annotations

from collections.abc import Iterable


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c correct) is correct.

    Requires 0 <= c <= n and 1 <= k <= n: with fewer samples than k there is no unbiased estimate,
    and callers must not report one.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs at least k={k} samples per prompt, got n={n}")
    if n - c < k:
        return 1.0
    probability_all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        probability_all_fail *= 1.0 - k / i
    return 1.0 - probability_all_fail


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float | None:
    """Mean pass@k over prompts given as (n, c) pairs, using only prompts with n >= k.

    Returns None when no prompt has k samples, so a report shows "n/a" rather than a made-up number.
    """
    values = [pass_at_k(n, c, k) for n, c in counts if n >= k]
    return sum(values) / len(values) if values else None
