"""Learning-rate, reward-shaping and curriculum strategies, without a model."""

from __future__ import annotations

import pytest

from halo_forge.config.models import RAFTConfig, RAFTTrainingSection
from halo_forge.raft.strategies import (
    cycle_learning_rate,
    cycle_settings,
    pass_history,
    select_prompts,
    shape_reward,
)


def test_constant_learning_rate_by_default():
    training = RAFTTrainingSection(learning_rate=3e-5)
    assert [cycle_learning_rate(training, c) for c in (1, 2, 5)] == [3e-5, 3e-5, 3e-5]


def test_exponential_decay_is_floored_at_min_lr():
    training = RAFTTrainingSection(learning_rate=1e-4, lr_decay=0.5, min_lr=2e-5)
    rates = [cycle_learning_rate(training, c) for c in (1, 2, 3, 4)]
    assert rates == pytest.approx([1e-4, 5e-5, 2.5e-5, 2e-5])


def test_manual_schedule_overrides_decay_for_the_cycles_it_names():
    training = RAFTTrainingSection(
        learning_rate=1e-4, lr_decay=0.5, learning_rate_schedule={"cycle_2": 7e-5}
    )
    assert cycle_learning_rate(training, 2) == 7e-5
    assert cycle_learning_rate(training, 3) == pytest.approx(2.5e-5)


def test_fixed_shaping_keeps_the_configured_values():
    assert shape_reward("fixed", 0.6, 0.4, 3, 5, 0.9) == (0.6, 0.4)


def test_annealing_tightens_from_lenient_to_configured():
    first = shape_reward("annealing", 0.8, 0.5, 1, 5, None)
    middle = shape_reward("annealing", 0.8, 0.5, 3, 5, None)
    last = shape_reward("annealing", 0.8, 0.5, 5, 5, None)
    assert first == pytest.approx((0.4, 1.0))
    assert first[0] < middle[0] < last[0]
    assert first[1] > middle[1] > last[1]
    assert last == pytest.approx((0.8, 0.5))


def test_adaptive_shaping_follows_the_previous_pass_rate():
    assert shape_reward("adaptive", 0.8, 0.5, 1, 5, None) == (0.8, 0.5)
    weak_threshold, weak_keep = shape_reward("adaptive", 0.8, 0.5, 2, 5, 0.1)
    assert weak_threshold == pytest.approx(0.48) and weak_keep == 0.5
    strong_threshold, strong_keep = shape_reward("adaptive", 0.8, 0.5, 2, 5, 0.9)
    assert strong_threshold == 0.8 and strong_keep == pytest.approx(0.3)


def test_warmup_halves_the_threshold_in_the_first_quarter_of_cycles():
    assert shape_reward("warmup", 0.8, 0.5, 1, 8, None) == (0.4, 1.0)
    assert shape_reward("warmup", 0.8, 0.5, 2, 8, None) == (0.4, 1.0)
    assert shape_reward("warmup", 0.8, 0.5, 3, 8, None) == (0.8, 0.5)
    assert shape_reward("warmup", 0.8, 0.5, 2, 3, None) == (0.8, 0.5)


def test_cycle_overrides_replace_shaped_values_and_merge_run_after_compile():
    config = RAFTConfig.model_validate(
        {
            "raft": {"num_cycles": 3, "reward_threshold": 0.5, "keep_top_percent": 0.5},
            "training": {"learning_rate": 1e-4, "lr_decay": 0.5},
            "verifier": {"type": "gcc", "timeout": 5},
            "cycles": [
                {"reward_threshold": 0.3, "temperature": 1.1, "run_after_compile": False},
                {"keep_top_percent": 0.9, "verifier": {"type": "clang"}},
            ],
        }
    )
    first = cycle_settings(config, 1)
    assert (first.reward_threshold, first.keep_top_percent, first.temperature) == (0.3, 0.5, 1.1)
    assert first.verifier.type == "gcc"
    assert first.verifier.options() == {"timeout": 5, "run_after_compile": False}
    second = cycle_settings(config, 2)
    assert (second.reward_threshold, second.keep_top_percent) == (0.5, 0.9)
    assert second.verifier.type == "clang"
    assert second.learning_rate == pytest.approx(5e-5)
    third = cycle_settings(config, 3)
    assert third.verifier.type == "gcc" and third.temperature == config.generation.temperature


def test_pass_history_counts_real_passes_per_prompt_and_cycle():
    cycle_one = [
        {"prompt_key": "a", "success": True},
        {"prompt_key": "a", "success": False},
        {"prompt_key": "b", "success": False},
    ]
    cycle_two = [{"prompt_key": "a", "success": True}, {"prompt_key": "c", "success": True}]
    assert pass_history([cycle_one, cycle_two]) == {"a": [0.5, 1.0], "b": [0.0], "c": [1.0]}


def test_progressive_curriculum_starts_with_the_easiest_prompts():
    keys = ["p0", "p1", "p2", "p3"]
    difficulties = [3, 1, "hard", "easy"]
    assert select_prompts("progressive", keys, difficulties, 1, 4, {}) == [1]
    assert select_prompts("progressive", keys, difficulties, 2, 4, {}) == [1, 3]
    assert select_prompts("progressive", keys, difficulties, 4, 4, {}) == [0, 1, 2, 3]


def test_adaptive_curriculum_drops_prompts_mastered_last_cycle():
    keys = ["a", "b", "c"]
    history = {"a": [0.0, 1.0], "b": [1.0, 0.5]}
    assert select_prompts("adaptive", keys, [None] * 3, 3, 5, history) == [1, 2]


def test_historical_curriculum_uses_the_whole_history():
    keys = ["a", "b", "c"]
    history = {"a": [0.0, 1.0], "b": [1.0, 1.0]}
    assert select_prompts("historical", keys, [None] * 3, 3, 5, history) == [0, 2]


def test_curriculum_keeps_every_prompt_rather_than_none():
    history = {"a": [1.0], "b": [1.0]}
    assert select_prompts("adaptive", ["a", "b"], [None, None], 2, 3, history) == [0, 1]
