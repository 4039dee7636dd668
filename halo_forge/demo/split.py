"""The demo's task split: SFT pairs, RAFT prompts and held-out prompts, with no prompt shared.

The tasks are split by prompt text within each task family, so no held-out prompt appears in
SFT or RAFT data, and every held-out prompt is a family SFT taught, with new constants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from halo_forge.errors import ConfigError

#: Fewest distinct prompts a family needs to have some in every part of the split.
MIN_PROMPTS_TO_SPLIT = 3


@dataclass(frozen=True)
class TaskSplit:
    """The three disjoint parts of the task suite (task dicts with their solutions)."""

    sft: list[dict[str, Any]]
    raft: list[dict[str, Any]]
    heldout: list[dict[str, Any]]


def split_by_prompt(
    tasks: list[dict[str, Any]], heldout_tasks: int, raft_tasks: int, seed: int
) -> TaskSplit:
    """Held-out, RAFT and SFT parts with one task per distinct prompt text, each in one part.

    Some task families repeat a prompt with new tests; a repeat would let a held-out prompt be
    trained on, or weigh one problem many times, so each prompt keeps its first task only.
    Each family is dealt on its own, in a seeded order, and always keeps prompts for SFT: a
    held-out or RAFT prompt asks for a kind of function SFT taught, with new constants, never
    for a problem no stage taught. A family with fewer than `MIN_PROMPTS_TO_SPLIT` distinct
    prompts (a fixed problem) goes to SFT whole. The held-out and RAFT parts get
    `heldout_tasks` and `raft_tasks` prompts, dealt in proportion to each family's prompts.
    """
    families: dict[str, dict[str, dict[str, Any]]] = {}
    for task in tasks:
        families.setdefault(task["entry_point"], {}).setdefault(task["prompt"], task)
    splittable = sum(
        len(prompts) for prompts in families.values() if len(prompts) >= MIN_PROMPTS_TO_SPLIT
    )
    if splittable <= heldout_tasks + raft_tasks:
        raise ConfigError(
            f"{len(tasks)} tasks give {splittable} distinct prompts in families with "
            f"{MIN_PROMPTS_TO_SPLIT} or more of them: too few for {heldout_tasks} held-out and "
            f"{raft_tasks} RAFT prompts plus SFT ones; raise task_count or lower heldout_tasks "
            "/ raft_tasks in the demo settings"
        )
    heldout_share, raft_share = heldout_tasks / splittable, raft_tasks / splittable
    rng = random.Random(seed)
    order = sorted(families)
    rng.shuffle(order)
    split = TaskSplit(sft=[], raft=[], heldout=[])
    # Running totals rounded once per family: the parts get their shares of every family and,
    # summed, their asked sizes, even where one family's share is a fraction of a prompt.
    dealt = {"heldout": 0.0, "raft": 0.0}
    for family in order:
        by_prompt = families[family]
        prompts = sorted(by_prompt)
        rng.shuffle(prompts)
        heldout_count = raft_count = 0
        if len(prompts) >= MIN_PROMPTS_TO_SPLIT:
            heldout_count = _share(dealt, "heldout", len(prompts) * heldout_share)
            raft_count = _share(dealt, "raft", len(prompts) * raft_share)
            heldout_count = min(heldout_count, len(prompts) - 2)
            raft_count = min(raft_count, len(prompts) - 1 - heldout_count)
        split.heldout.extend(by_prompt[prompt] for prompt in prompts[:heldout_count])
        split.raft.extend(
            by_prompt[prompt] for prompt in prompts[heldout_count : heldout_count + raft_count]
        )
        split.sft.extend(by_prompt[prompt] for prompt in prompts[heldout_count + raft_count :])
    return split


def _share(dealt: dict[str, float], part: str, amount: float) -> int:
    """Whole prompts for `part` such that the rounded running total of its shares stays exact."""
    before = round(dealt[part])
    dealt[part] += amount
    return round(dealt[part]) - before
