"""What changes from one RAFT cycle to the next: learning rate, prompts, threshold, keep fraction.

Every function here is pure: it reads the config and the pass history of earlier cycles and
returns numbers or prompt indices, so each strategy is unit-tested without a model.

Order of application for cycle `c` (`cycle_settings`): the reward-shaping strategy moves the
run's threshold and keep fraction, then an entry `cycles[c-1]` (a hand-written curriculum)
overrides whatever it sets. The learning rate is a manual schedule entry when there is one,
else `learning_rate * lr_decay**(c-1)` floored at `min_lr` (decay 1.0 is a constant rate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from halo_forge.config.models import RAFTConfig, RAFTTrainingSection, VerifierConfig

#: Fraction of the cycles that `warmup` shaping spends with a halved threshold (at least one).
WARMUP_FRACTION = 0.25
#: Pass rate above which `adaptive` shaping and curricula treat a prompt or cycle as mastered.
MASTERED_PASS_RATE = 1.0
#: Difficulty words of datasets that grade prompts by name instead of by number.
DIFFICULTY_NAMES = {"easy": 1, "introductory": 1, "medium": 2, "interview": 2, "hard": 3}

PassHistory = Mapping[str, Sequence[float]]


@dataclass(frozen=True)
class CycleSettings:
    """The values one cycle runs with, after strategies and per-cycle overrides."""

    cycle: int
    reward_threshold: float
    keep_top_percent: float
    temperature: float
    learning_rate: float
    verifier: VerifierConfig


def cycle_learning_rate(training: RAFTTrainingSection, cycle: int) -> float:
    """Learning rate of `cycle` (1-based).

    - manual: `learning_rate_schedule: {cycle_2: 3e-5}` names the rate of a cycle; cycles it
      does not name fall back to the decayed rate;
    - exponential decay: `learning_rate * lr_decay**(cycle-1)`, never below `min_lr`, so later
      cycles refine instead of overwrite (decay 1.0, the default, is a constant rate).
    """
    schedule = training.learning_rate_schedule or {}
    if f"cycle_{cycle}" in schedule:
        return schedule[f"cycle_{cycle}"]
    decayed = training.learning_rate * training.lr_decay ** (cycle - 1)
    return max(decayed, training.min_lr)


def shape_reward(
    mode: str,
    reward_threshold: float,
    keep_top_percent: float,
    cycle: int,
    num_cycles: int,
    previous_pass_rate: float | None,
) -> tuple[float, float]:
    """(threshold, keep fraction) of `cycle` under a reward-shaping strategy.

    - `fixed`: the configured values in every cycle.
    - `annealing`: start lenient and tighten linearly: the threshold rises from half the
      configured value in cycle 1 to the full value in the last cycle, and the keep fraction
      falls from 1.0 to the configured value. Early cycles learn from "almost right" samples
      while few are right; late cycles learn only from the best.
    - `adaptive`: follow the previous cycle's pass rate p. A weak model (p below 0.5) gets
      the threshold scaled by (0.5 + p) so it still has samples to learn from; a strong model
      (p above 0.5) keeps the threshold and a smaller fraction, keep * (1.5 - p), to stay
      selective. Cycle 1 (no history) uses the configured values.
    - `warmup`: the first `WARMUP_FRACTION` of the cycles (at least one) halve the threshold
      and keep every sample above it; then the configured values.
    """
    if mode == "fixed" or (mode == "adaptive" and previous_pass_rate is None):
        return reward_threshold, keep_top_percent
    if mode == "annealing":
        progress = 1.0 if num_cycles <= 1 else (cycle - 1) / (num_cycles - 1)
        threshold = reward_threshold * (0.5 + 0.5 * progress)
        keep = keep_top_percent + (1.0 - keep_top_percent) * (1.0 - progress)
        return threshold, keep
    if mode == "adaptive":
        assert previous_pass_rate is not None
        if previous_pass_rate < 0.5:
            return reward_threshold * (0.5 + previous_pass_rate), keep_top_percent
        return reward_threshold, keep_top_percent * (1.5 - previous_pass_rate)
    if mode == "warmup":
        warmup_cycles = max(1, math.floor(num_cycles * WARMUP_FRACTION))
        if cycle <= warmup_cycles:
            return reward_threshold / 2, 1.0
        return reward_threshold, keep_top_percent
    raise ValueError(
        f"unknown reward shaping {mode!r}; allowed: fixed, annealing, adaptive, warmup"
    )


def cycle_settings(
    config: RAFTConfig, cycle: int, previous_pass_rate: float | None = None
) -> CycleSettings:
    """Everything `cycle` runs with: shaped threshold and keep fraction, then `cycles:` overrides.

    A `cycles:` entry's `run_after_compile` is merged into the verifier options of that cycle.
    """
    loop = config.raft
    threshold, keep = shape_reward(
        loop.reward_shaping,
        loop.reward_threshold,
        loop.keep_top_percent,
        cycle,
        loop.num_cycles,
        previous_pass_rate,
    )
    temperature = config.generation.temperature
    verifier = config.verifier
    if cycle <= len(config.cycles):
        override = config.cycles[cycle - 1]
        threshold = threshold if override.reward_threshold is None else override.reward_threshold
        keep = keep if override.keep_top_percent is None else override.keep_top_percent
        temperature = temperature if override.temperature is None else override.temperature
        verifier = override.verifier or verifier
        if override.run_after_compile is not None:
            verifier = VerifierConfig.model_validate(
                {"type": verifier.type, **verifier.options()}
                | {"run_after_compile": override.run_after_compile}
            )
    return CycleSettings(
        cycle=cycle,
        reward_threshold=threshold,
        keep_top_percent=min(1.0, keep),
        temperature=temperature,
        learning_rate=cycle_learning_rate(config.training, cycle),
        verifier=verifier,
    )


def pass_history(cycles: Sequence[Sequence[Mapping[str, object]]]) -> dict[str, list[float]]:
    """Per-prompt pass rate in each earlier cycle, oldest first, from their verified records.

    A record needs `prompt_key` and `success`. A prompt absent from a cycle (a curriculum left
    it out) has no entry for that cycle, so its list holds only cycles it was sampled in.
    """
    history: dict[str, list[float]] = {}
    for records in cycles:
        passed: dict[str, int] = {}
        total: dict[str, int] = {}
        for record in records:
            key = str(record["prompt_key"])
            total[key] = total.get(key, 0) + 1
            passed[key] = passed.get(key, 0) + bool(record["success"])
        for key, count in total.items():
            history.setdefault(key, []).append(passed[key] / count)
    return history


def difficulty_rank(difficulty: str | int | None) -> float:
    """A sortable difficulty: numbers as they are, known words mapped, unknown in the middle."""
    if difficulty is None:
        return 2.0
    if isinstance(difficulty, int):
        return float(difficulty)
    text = difficulty.strip().lower()
    if text in DIFFICULTY_NAMES:
        return float(DIFFICULTY_NAMES[text])
    try:
        return float(text)
    except ValueError:
        return 2.0


def select_prompts(
    mode: str,
    prompt_keys: Sequence[str],
    difficulties: Sequence[str | int | None],
    cycle: int,
    num_cycles: int,
    history: PassHistory,
) -> list[int]:
    """Indices (in file order) of the prompts `cycle` samples from under a curriculum.

    - `none`: every prompt.
    - `progressive`: the easiest `cycle/num_cycles` of the prompts (by `difficulty`, file order
      among equals, at least one), so the last cycle sees them all.
    - `adaptive`: by the most recent pass rate: prompts the model last solved in every sample
      are dropped (nothing left to learn); unseen prompts stay.
    - `historical`: by the whole pass history: a prompt is dropped when its mean pass rate
      over all earlier cycles reaches `MASTERED_PASS_RATE`, so one lucky cycle does not retire
      a prompt that the model usually fails.
    When a curriculum would drop every prompt, all are kept (an empty cycle teaches nothing).
    """
    everything = list(range(len(prompt_keys)))
    if mode == "none":
        return everything
    if mode == "progressive":
        count = max(1, math.ceil(len(everything) * cycle / num_cycles))
        easiest = sorted(everything, key=lambda index: difficulty_rank(difficulties[index]))
        return sorted(easiest[:count])
    if mode == "adaptive":
        chosen = [
            index
            for index in everything
            if not history.get(prompt_keys[index])
            or history[prompt_keys[index]][-1] < MASTERED_PASS_RATE
        ]
    elif mode == "historical":
        chosen = [
            index
            for index in everything
            if not history.get(prompt_keys[index])
            or _mean(history[prompt_keys[index]]) < MASTERED_PASS_RATE
        ]
    else:
        raise ValueError(
            f"unknown curriculum {mode!r}; allowed: none, progressive, adaptive, historical"
        )
    return chosen or everything


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)
