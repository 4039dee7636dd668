"""`halo-forge raft train`: a real tiny run, options over YAML, resume, and option errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli import raft_cmd
from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import read_jsonl, write_jsonl
from halo_forge.errors import ConfigError

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """Each invocation prints to its own captured stdout, not a console bound to an older one."""
    ui.set_quiet(False)
    yield
    ui.set_quiet(False)


def _prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    write_jsonl(path, generate_tasks("builtin_c", 1, 0))
    return path


def _yaml(tmp_path: Path) -> Path:
    config = tmp_path / "raft.yaml"
    config.write_text(
        f"model: builtin:tiny-coder\noutput_dir: {tmp_path / 'from-yaml'}\n"
        "raft:\n  num_cycles: 3\n  samples_per_prompt: 4\n  min_samples: 1\n"
        "generation:\n  temperature: 0.9\n  max_new_tokens: 64\n"
        "training:\n  gradient_accumulation_steps: 1\n  learning_rate: 1.0e-3\n"
        "verifier:\n  type: gcc\n  run_after_compile: true\n",
        encoding="utf-8",
    )
    return config


@pytest.mark.slow
def test_train_runs_a_cycle_with_options_over_yaml_and_resumes(tmp_path, log_dir):
    output = tmp_path / "run"
    arguments = [
        "train",
        "--config", str(_yaml(tmp_path)),
        "--prompts", str(_prompts(tmp_path)),
        "--output", str(output),
        "--cycles", "1",
        "--samples-per-prompt", "2",
        "--max-new-tokens", "16",
        "--seed", "3",
    ]  # fmt: skip
    result = runner.invoke(raft_cmd.app, arguments)
    assert result.exit_code == 0, result.output
    assert "RAFT cycle 1" in result.output
    assert not (tmp_path / "from-yaml").exists()
    used = json.loads((output / "raft_config.json").read_text())
    assert used["raft"]["samples_per_prompt"] == 2  # command line
    assert used["raft"]["num_cycles"] == 1
    assert used["generation"]["max_new_tokens"] == 16
    assert used["generation"]["temperature"] == 0.9  # YAML
    assert used["verifier"] == {"type": "gcc", "run_after_compile": True}
    assert len(read_jsonl(output / "cycle_1" / "verified.jsonl")) == 2
    assert (output / "cycle_1_final" / "adapter_config.json").is_file()
    assert any(path.name.startswith("raft_train_") for path in Path(log_dir).iterdir())

    resumed = runner.invoke(raft_cmd.app, arguments)
    assert resumed.exit_code == 0, resumed.output
    assert "finished earlier, skipped" in resumed.output

    changed = runner.invoke(raft_cmd.app, [*arguments, "--temperature", "0.2"])
    assert isinstance(changed.exception, ConfigError)
    assert "generation.temperature" in str(changed.exception)


def test_model_and_checkpoint_together_are_refused(tmp_path):
    result = runner.invoke(
        raft_cmd.app,
        ["train", "--model", "a", "--checkpoint", "b", "--prompts", str(_prompts(tmp_path))],
    )
    assert isinstance(result.exception, ConfigError)
    assert "--model or --checkpoint" in str(result.exception)


def test_missing_prompts_are_reported_with_the_option_to_use(tmp_path):
    result = runner.invoke(raft_cmd.app, ["train", "--model", "builtin:tiny-coder"])
    assert isinstance(result.exception, ConfigError)
    assert "--prompts" in str(result.exception)


def test_bad_curriculum_names_the_allowed_values(tmp_path):
    result = runner.invoke(
        raft_cmd.app,
        [
            "train", "--model", "builtin:tiny-coder", "--prompts", str(_prompts(tmp_path)),
            "--curriculum", "random",
        ],
    )  # fmt: skip
    assert isinstance(result.exception, ConfigError)
    assert "progressive" in str(result.exception)
