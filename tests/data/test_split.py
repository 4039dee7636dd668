"""Train/test split: nothing lost or duplicated, deterministic, proportional per stratum."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from halo_forge.data.records import read_records
from halo_forge.data.split import split_file, split_indices, split_records, train_size
from halo_forge.errors import ConfigError

ratios = st.floats(min_value=0.01, max_value=0.99)
seeds = st.integers(min_value=0, max_value=2**32)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(st.integers(0, 5)), ratio=ratios, seed=seeds)
def test_every_record_lands_in_exactly_one_half(
    records: list[int], ratio: float, seed: int
) -> None:
    train, test = split_records(records, ratio, seed)
    assert Counter(train) + Counter(test) == Counter(records)
    train_positions, test_positions = split_indices([None] * len(records), ratio, seed)
    assert sorted(train_positions + test_positions) == list(range(len(records)))
    assert len(train) == train_size(len(records), ratio)


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(st.sampled_from("abcd"), min_size=1), ratio=ratios, seed=seeds)
def test_stratified_split_gives_each_group_its_share(
    groups: list[str], ratio: float, seed: int
) -> None:
    train, test = split_indices(groups, ratio, seed)
    assert sorted(train + test) == list(range(len(groups)))
    target = train_size(len(groups), ratio)
    assert len(train) == target
    sizes = Counter(groups)
    in_train = Counter(groups[index] for index in train)
    for group, size in sizes.items():
        assert abs(in_train[group] - size * target / len(groups)) < 1


@given(records=st.lists(st.integers(), max_size=50), ratio=ratios, seed=seeds)
def test_same_seed_gives_the_same_split(records: list[int], ratio: float, seed: int) -> None:
    assert split_records(records, ratio, seed) == split_records(records, ratio, seed)


def test_different_seeds_give_different_splits() -> None:
    records = list(range(100))
    assert split_records(records, 0.5, seed=0) != split_records(records, 0.5, seed=1)


def test_halves_keep_the_input_order() -> None:
    train, test = split_records(list(range(30)), 0.7, seed=3)
    assert train == sorted(train)
    assert test == sorted(test)


def test_train_size_follows_the_ratio_and_leaves_both_halves_non_empty() -> None:
    assert train_size(10, 0.9) == 9
    assert train_size(10, 0.95) == 9  # rounding would give 10 and an empty test half
    assert train_size(10, 0.01) == 1
    assert train_size(1, 0.5) == 1
    assert train_size(0, 0.5) == 0


@pytest.mark.parametrize("ratio", [0.0, 1.0, 1.5, -0.1])
def test_ratio_outside_zero_one_is_rejected(ratio: float) -> None:
    with pytest.raises(ConfigError, match="between 0 and 1"):
        train_size(10, ratio)


def test_split_file_writes_both_halves_stratified_by_a_field(tmp_path: Path) -> None:
    categories = ["loops"] * 10 + ["strings"] * 6 + ["recursion"] * 4
    source = tmp_path / "prompts.jsonl"
    lines = [
        {"prompt": f"task {index}", "category": category, "metadata": {"tier": index % 2}}
        for index, category in enumerate(categories)
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    summary = split_file(
        source, tmp_path / "train.jsonl", tmp_path / "test.jsonl", 0.5, 0, "category"
    )

    train = [record.to_dict() for record in read_records(tmp_path / "train.jsonl")]
    test = [record.to_dict() for record in read_records(tmp_path / "test.jsonl")]
    assert sorted(train + test, key=lambda line: line["prompt"]) == sorted(
        lines, key=lambda line: line["prompt"]
    )
    assert summary.groups == {"loops": (5, 5), "recursion": (2, 2), "strings": (3, 3)}
    assert (summary.train_count, summary.test_count) == (10, 10)


def test_split_file_stratifies_by_a_nested_field(tmp_path: Path) -> None:
    source = tmp_path / "sft.jsonl"
    lines = [
        {"prompt": f"p{index}", "completion": "c", "metadata": {"source": "ab"[index % 2]}}
        for index in range(8)
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    summary = split_file(
        source, tmp_path / "a.jsonl", tmp_path / "b.jsonl", 0.75, 1, "metadata.source"
    )
    assert summary.groups == {"a": (3, 1), "b": (3, 1)}
