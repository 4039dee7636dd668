"""Choose the samples a RAFT cycle trains on, from its verified records.

`filter_samples` is pure and deterministic for a seed:
1. identical completions of the same prompt count once (training on a duplicate only
   multiplies its weight);
2. samples with reward >= threshold are candidates; reward 0 is never a candidate;
3. the top `keep_top_percent` of the candidates (rounded up) are kept, best reward first.
   Equal rewards are ordered by a seeded shuffle, never by file order, so when many samples
   tie, every prompt has the same chance to be kept, not only the first ones in the file;
4. with `min_samples`, if fewer than that would be kept, the threshold drops to the next
   reward tier present among the samples, tier by tier, down to the lowest non-zero tier.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FilterResult:
    """The kept samples (best first) and the threshold that admitted them."""

    kept: list[dict[str, Any]]
    effective_threshold: float
    unique_samples: int
    candidates: int


def unique_samples(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The first record of every (prompt_key, completion) pair, in input order."""
    seen: set[tuple[str, str]] = set()
    unique: list[dict[str, Any]] = []
    for record in records:
        key = (str(record["prompt_key"]), str(record["completion"]))
        if key not in seen:
            seen.add(key)
            unique.append(dict(record))
    return unique


def filter_samples(
    records: Sequence[Mapping[str, Any]],
    reward_threshold: float,
    keep_top_percent: float,
    min_samples: int = 0,
    seed: int = 0,
) -> FilterResult:
    """Keep the best samples; see the module docstring for the rules.

    Records need `prompt_key`, `completion` and `reward`. `keep_top_percent` is a fraction in
    (0, 1]. The result's `effective_threshold` is the threshold actually used (lower than
    `reward_threshold` when `min_samples` lowered it).
    """
    if not 0 < keep_top_percent <= 1:
        raise ValueError(f"keep_top_percent must be in (0, 1], got {keep_top_percent}")
    unique = unique_samples(records)
    ranked = _rank(unique, seed)
    threshold = reward_threshold
    lower_tiers = sorted(
        {float(record["reward"]) for record in unique if 0 < record["reward"] < threshold},
        reverse=True,
    )
    while True:
        candidates = [record for record in ranked if _admitted(record, threshold)]
        kept = candidates[: math.ceil(len(candidates) * keep_top_percent)]
        if len(kept) >= min_samples or not lower_tiers:
            return FilterResult(kept, threshold, len(unique), len(candidates))
        threshold = lower_tiers.pop(0)


def _admitted(record: Mapping[str, Any], threshold: float) -> bool:
    reward = float(record["reward"])
    return reward > 0 and reward >= threshold


def _rank(records: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Best reward first; ties in a seeded random order (a shuffle, then a stable sort)."""
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    return sorted(shuffled, key=lambda record: -float(record["reward"]))
