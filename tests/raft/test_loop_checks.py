"""What `RAFTTrainer` checks before it loads a tokenizer or model: every cycle's verifier, and
that every prompt carries what that verifier needs. The start model never exists here, so a
check that came after loading would fail with the model's error instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import DataError, VerifierError
from halo_forge.raft.loop import RAFTTrainer
from halo_forge.verifiers.base import Verifier, VerifyResult

WITH_TESTS = {"prompt": "Write add(a, b).", "task_id": "add", "tests": "assert add(1, 2) == 3"}
WITHOUT_TESTS = {"prompt": "Write sub(a, b).", "task_id": "sub"}


def _trainer(tmp_path: Path, config: dict[str, Any], **options: Any) -> RAFTTrainer:
    return RAFTTrainer(
        model=str(tmp_path / "no-such-model"),
        config=RAFTConfig.model_validate(config),
        output_dir=tmp_path / "run",
        **options,
    )


def test_prompts_without_tests_fail_with_their_lines_before_the_model_loads(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [WITH_TESTS, WITHOUT_TESTS])
    trainer = _trainer(tmp_path, {"verifier": {"type": "mbpp"}})
    with pytest.raises(DataError) as caught:
        trainer.run(prompts)
    message = str(caught.value)
    assert message.startswith(f"{prompts}: 1 of 2 prompt(s) lack what verifier 'mbpp' needs")
    assert "line 2 (task sub)" in message
    assert not (tmp_path / "run").exists()


def test_a_cycle_override_verifier_is_built_and_checked_before_the_model_loads(tmp_path):
    config = {
        "raft": {"num_cycles": 3},
        "verifier": {"type": "gcc"},
        "cycles": [{}, {"verifier": {"type": "mbpp"}}],
    }
    with pytest.raises(
        DataError, match=r"(?s)verifier 'mbpp' of cycle 2 needs.*record 2 \(task sub\)"
    ):
        _trainer(tmp_path, config).check_prompts([WITH_TESTS, WITHOUT_TESTS])
    config["cycles"] = [{}, {"verifier": {"type": "gcc", "run_timout": 2}}]
    with pytest.raises(VerifierError, match="did you mean 'run_timeout'"):
        _trainer(tmp_path, config).run([WITH_TESTS])


class NeedsExpectedOutput(Verifier):
    """A user's verifier that scores only samples with an expected output."""

    def verify(self, code: str, **context: Any) -> VerifyResult:
        return VerifyResult(success=False, reward=0.0)

    def missing_context(self, context: dict[str, Any]) -> str | None:
        return None if "expected_output" in context else "no `expected_output`"


def test_a_passed_in_verifier_is_asked_too(tmp_path):
    trainer = _trainer(tmp_path, {}, verifier=NeedsExpectedOutput())
    with pytest.raises(DataError, match=r"(?s)NeedsExpectedOutput needs.*no `expected_output`"):
        trainer.run([{**WITH_TESTS, "expected_output": "3\n"}, WITHOUT_TESTS])
