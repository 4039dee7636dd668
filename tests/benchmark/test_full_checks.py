"""`run_full` checks every prompt against its verifier before the baseline samples anything,
and a summary names its cycle rows as its caller asks.

The start model does not exist here: a check that came after the baseline began would fail
with the model's error instead of the prompts'."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.benchmark.full import StageNames, run_full
from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import DataError
from halo_forge.raft.stats import CycleStats

WITH_TESTS = {"prompt": "Write add(a, b).", "task_id": "add", "tests": "assert add(1, 2) == 3"}
WITHOUT_TESTS = {"prompt": "Write sub(a, b).", "task_id": "sub"}


def _config(tmp_path: Path, prompts: list[dict[str, str]]) -> RAFTConfig:
    path = tmp_path / "train.jsonl"
    write_jsonl(path, prompts)
    return RAFTConfig.model_validate(
        {
            "model": str(tmp_path / "no-such-model"),
            "prompts": str(path),
            "raft": {"num_cycles": 1},
            "verifier": {"type": "mbpp"},
        }
    )


def test_training_prompts_without_tests_fail_before_the_baseline(tmp_path: Path) -> None:
    output = tmp_path / "full"
    with pytest.raises(DataError, match=r"(?s)train\.jsonl: 1 of 2 .*line 2 \(task sub\)"):
        run_full(_config(tmp_path, [WITH_TESTS, WITHOUT_TESTS]), output, samples=1)
    assert not (output / "baseline.json").exists()


def test_held_out_prompts_without_tests_fail_before_the_baseline(tmp_path: Path) -> None:
    held_out = tmp_path / "test.jsonl"
    write_jsonl(held_out, [WITHOUT_TESTS])
    output = tmp_path / "full"
    with pytest.raises(DataError, match=r"(?s)test\.jsonl: 1 of 1 .*record 1 \(task sub\)"):
        run_full(_config(tmp_path, [WITH_TESTS]), output, eval_prompts=str(held_out), samples=1)
    assert not (output / "baseline.json").exists()


def _cycle(cycle: int, **timings: float) -> CycleStats:
    return CycleStats(
        cycle=cycle, prompts=2, samples=4, pass_rate=0.5, compile_rate=0.75, mean_reward=0.6,
        reward_histogram={"1": 2, "0": 2}, correct_samples=2, unique_samples=4, candidates=2,
        kept=2, effective_threshold=1.0, reward_threshold=1.0, keep_top_percent=1.0,
        learning_rate=1e-4, checkpoint=f"raft/cycle_{cycle}_final", train_loss=0.5, **timings,
    )  # fmt: skip


def test_cycle_rows_show_rafts_rates_unless_the_summary_is_held_out_only() -> None:
    timed = _cycle(1, generation_seconds=3.0, training_seconds=2.0)
    resumed = _cycle(2)

    full = [StageNames().cycle_row(stats) for stats in (timed, resumed)]
    demo = StageNames(cycle="RAFT cycle {cycle}", cycle_rates=False).cycle_row(timed)

    assert [(row.stage, row.pass_rate, row.kept, row.seconds) for row in full] == [
        ("raft cycle 1", 0.5, 2, 5.0),
        ("raft cycle 2", 0.5, 2, None),
    ]
    assert (demo.stage, demo.pass_rate, demo.compile_rate, demo.train_loss) == (
        "RAFT cycle 1",
        None,
        None,
        0.5,
    )
