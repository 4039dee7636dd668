"""The end-of-cycle table, the degradation warning and the TensorBoard scalars."""

from __future__ import annotations

import io

from rich.console import Console
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from halo_forge.paths import TENSORBOARD_DIR
from halo_forge.raft.report import NOTHING_KEPT, cycle_table, degradation_warning, write_scalars
from halo_forge.raft.stats import CycleStats


def _stats(cycle: int, pass_rate: float, **extra: object) -> CycleStats:
    values: dict[str, object] = {
        "cycle": cycle,
        "prompts": 3,
        "samples": 12,
        "pass_rate": pass_rate,
        "compile_rate": 0.75,
        "mean_reward": 0.5,
        "reward_histogram": {"1": 3, "0.5": 6, "0": 3},
        "correct_samples": 3,
        "unique_samples": 10,
        "candidates": 9,
        "kept": 5,
        "effective_threshold": 0.5,
        "reward_threshold": 1.0,
        "keep_top_percent": 0.5,
        "learning_rate": 5e-5,
        "checkpoint": f"run/cycle_{cycle}_final",
        "train_loss": 1.25,
        "grad_norm": 0.5,
        "generation_seconds": 2.0,
        "generation_tokens_per_second": 100.0,
    }
    return CycleStats.from_json(values | extra)


def _render(stats: CycleStats) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(cycle_table(stats))
    return console.export_text()


def test_table_shows_every_cycle_number():
    text = _render(_stats(2, 0.25))
    for expected in (
        "RAFT cycle 2",
        "25.0%",
        "75.0%",
        "1: 3  0.5: 6  0: 3",
        "5 of 10 unique",
        "0.5 (configured 1)",
        "5.00e-05",
        "1.2500",
        "2.0s, 100.0 tokens/s",
        "resumed (done earlier)",
    ):
        assert expected in text


def test_a_cycle_that_kept_nothing_says_training_was_skipped_not_resumed():
    stats = _stats(1, 0.0, kept=0, train_loss=None, verification_seconds=1.0)
    training_row = next(line for line in _render(stats).splitlines() if "training " in line)
    assert NOTHING_KEPT in training_row
    assert "resumed" not in _render(stats)


def test_degradation_warning_only_when_pass_rate_falls():
    assert degradation_warning(None, _stats(1, 0.5)) is None
    assert degradation_warning(_stats(1, 0.5), _stats(2, 0.5)) is None
    warning = degradation_warning(_stats(1, 0.5), _stats(2, 0.25))
    assert warning is not None and "50.0%" in warning and "25.0%" in warning


def test_scalars_are_written_per_cycle_and_skip_missing_numbers(tmp_path):
    write_scalars(tmp_path, _stats(1, 0.25))
    write_scalars(tmp_path, _stats(2, 0.5))
    events = EventAccumulator(str(tmp_path / TENSORBOARD_DIR))  # SFT's folder too: logs/
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("raft/pass_rate")] == [(1, 0.25), (2, 0.5)]
    assert "raft/training_seconds" not in events.Tags()["scalars"]
