"""`run_full` checks every prompt against its verifier before the baseline samples anything.

The start model does not exist here: a check that came after the baseline began would fail
with the model's error instead of the prompts'."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.benchmark.full import run_full
from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import DataError

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
