"""Train/test split: deterministic for a seed, optionally stratified, never losing a record.

The split is decided on record positions, not contents, so duplicates are kept as they are
and every input record lands in exactly one half. The train half gets `round(n * ratio)`
records (at least one record in each half when there are two or more). With a stratify field,
each group (e.g. each `category`) gives its proportional share to train; the rounding left over
goes to the groups with the largest remainders, so the total still matches the ratio. Both
halves keep the input order, which makes outputs easy to diff.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from halo_forge.data.jsonl import PathLike
from halo_forge.data.records import Record, RecordKind, read_records, write_records
from halo_forge.errors import ConfigError

T = TypeVar("T")

MISSING_GROUP = "(missing)"


def train_size(total: int, ratio: float) -> int:
    """How many of `total` records go to train for `ratio` (both halves non-empty if possible)."""
    if not 0.0 < ratio < 1.0:
        raise ConfigError(f"split ratio must be between 0 and 1 (exclusive), got {ratio}")
    if total < 2:
        return total
    return min(max(math.floor(total * ratio + 0.5), 1), total - 1)


def split_indices(
    groups: Sequence[Hashable], ratio: float = 0.9, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Train and test positions for items whose stratum is `groups[i]` (all equal: no strata)."""
    members: dict[Hashable, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    ordered = sorted(members, key=repr)  # a fixed group order makes the draw reproducible
    target = train_size(len(groups), ratio)
    shares = {group: len(members[group]) * target / max(len(groups), 1) for group in ordered}
    counts = {group: math.floor(share) for group, share in shares.items()}
    by_remainder = sorted(ordered, key=lambda group: counts[group] - shares[group])
    for group in by_remainder[: target - sum(counts.values())]:
        counts[group] += 1

    rng = random.Random(seed)
    train: list[int] = []
    test: list[int] = []
    for group in ordered:
        positions = list(members[group])
        rng.shuffle(positions)
        train.extend(positions[: counts[group]])
        test.extend(positions[counts[group] :])
    return sorted(train), sorted(test)


def split_records(
    records: Sequence[T],
    ratio: float = 0.9,
    seed: int = 0,
    stratify_by: Callable[[T], Hashable] | None = None,
) -> tuple[list[T], list[T]]:
    """Split `records` into (train, test); `stratify_by` gives each record's group."""
    groups = [stratify_by(record) for record in records] if stratify_by else [None] * len(records)
    train, test = split_indices(groups, ratio, seed)
    return [records[index] for index in train], [records[index] for index in test]


def field_value(record: Record, field_path: str) -> str:
    """A record's value at `field_path` (`category`, `metadata.source`) as a group label."""
    value: Any = record.to_dict()
    for part in field_path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING_GROUP
        value = value[part]
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass
class SplitSummary:
    """What `split_file` wrote, with per-group counts when stratified."""

    train_count: int
    test_count: int
    kind: RecordKind
    groups: dict[str, tuple[int, int]] = field(default_factory=dict)  # group -> (train, test)


def split_file(
    input_path: PathLike,
    train_path: PathLike,
    test_path: PathLike,
    ratio: float = 0.9,
    seed: int = 0,
    stratify: str | None = None,
    kind: RecordKind | str = RecordKind.AUTO,
) -> SplitSummary:
    """Split a JSONL file of records into two files (each written atomically)."""
    reader = read_records(input_path, kind)
    records = list(reader)

    def group_of(record: Record) -> str:
        return field_value(record, stratify) if stratify else ""

    train, test = split_records(records, ratio, seed, group_of if stratify else None)
    write_records(train_path, train)
    write_records(test_path, test)
    summary = SplitSummary(len(train), len(test), reader.kind)
    if stratify:
        train_counts = Counter(map(group_of, train))
        test_counts = Counter(map(group_of, test))
        for group in sorted(train_counts.keys() | test_counts.keys()):
            summary.groups[group] = (train_counts[group], test_counts[group])
    return summary
