"""Filtering: threshold, keep fraction, fair ties, deduplication and the min_samples fallback."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from halo_forge.raft.filtering import filter_samples, unique_samples

TIERS = [0.0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0]


def _record(prompt: int, completion: str, reward: float) -> dict[str, object]:
    return {"prompt_key": f"p{prompt}", "completion": completion, "reward": reward}


records_strategy = st.lists(
    st.builds(
        _record,
        st.integers(0, 5),
        st.text(alphabet="abc", min_size=1, max_size=3),
        st.sampled_from(TIERS),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(
    records_strategy,
    st.sampled_from(TIERS),
    st.floats(0.01, 1.0),
    st.integers(0, 20),
    st.integers(0, 1000),
)
def test_filter_respects_threshold_and_never_keeps_reward_zero(
    records, threshold, keep, min_samples, seed
):
    result = filter_samples(records, threshold, keep, min_samples=min_samples, seed=seed)
    assert all(record["reward"] > 0 for record in result.kept)
    assert all(record["reward"] >= result.effective_threshold for record in result.kept)
    assert result.effective_threshold <= threshold
    if min_samples == 0:
        assert result.effective_threshold == threshold


@settings(max_examples=200, deadline=None)
@given(records_strategy, st.sampled_from(TIERS), st.floats(0.01, 1.0), st.integers(0, 1000))
def test_filter_obeys_keep_fraction_and_keeps_the_best(records, threshold, keep, seed):
    result = filter_samples(records, threshold, keep, seed=seed)
    unique = unique_samples(records)
    candidates = [r for r in unique if r["reward"] > 0 and r["reward"] >= threshold]
    assert result.candidates == len(candidates)
    assert len(result.kept) == math.ceil(len(candidates) * keep)
    kept_pairs = {(r["prompt_key"], r["completion"]) for r in result.kept}
    lowest_kept = min((r["reward"] for r in result.kept), default=math.inf)
    left_out = [r for r in candidates if (r["prompt_key"], r["completion"]) not in kept_pairs]
    assert all(r["reward"] <= lowest_kept for r in left_out)


@settings(max_examples=100, deadline=None)
@given(records_strategy, st.integers(0, 1000))
def test_identical_completions_of_a_prompt_are_kept_once(records, seed):
    result = filter_samples(records + records, 0.1, 1.0, seed=seed)
    pairs = [(r["prompt_key"], r["completion"]) for r in result.kept]
    assert len(pairs) == len(set(pairs))


def test_ties_are_broken_fairly_across_prompts_not_by_file_order():
    # 40 prompts, all with the same reward: keeping half must not mean the first 20 prompts.
    records = [_record(index, "same answer", 1.0) for index in range(40)]
    kept_first_half = 0
    kept_per_prompt: Counter[str] = Counter()
    for seed in range(200):
        kept = filter_samples(records, 0.5, 0.5, seed=seed).kept
        kept_first_half += sum(int(str(r["prompt_key"])[1:]) < 20 for r in kept)
        kept_per_prompt.update(str(r["prompt_key"]) for r in kept)
    assert 0.4 < kept_first_half / (200 * 20) < 0.6
    # every prompt is kept in about half of the seeds
    assert all(60 < kept_per_prompt[f"p{index}"] < 140 for index in range(40))


def test_tie_breaking_is_reproducible_for_a_seed():
    records = [_record(index, "x", 0.7) for index in range(30)]
    first = filter_samples(records, 0.5, 0.3, seed=7).kept
    again = filter_samples(records, 0.5, 0.3, seed=7).kept
    other = filter_samples(records, 0.5, 0.3, seed=8).kept
    assert first == again
    assert first != other


def test_min_samples_lowers_the_threshold_tier_by_tier_but_never_to_zero():
    records = [
        _record(0, "a", 1.0),
        _record(1, "b", 0.7),
        _record(2, "c", 0.5),
        _record(3, "d", 0.3),
        _record(4, "e", 0.0),
        _record(5, "f", 0.0),
    ]
    two = filter_samples(records, 1.0, 1.0, min_samples=2)
    assert two.effective_threshold == 0.7
    assert sorted(r["reward"] for r in two.kept) == [0.7, 1.0]
    everything = filter_samples(records, 1.0, 1.0, min_samples=10)
    assert everything.effective_threshold == 0.3
    assert len(everything.kept) == 4
    assert all(r["reward"] > 0 for r in everything.kept)


def test_nothing_is_kept_when_every_sample_fails():
    records = [_record(index, "bad", 0.0) for index in range(5)]
    result = filter_samples(records, 0.5, 1.0, min_samples=3)
    assert result.kept == []
    assert result.effective_threshold == 0.5
