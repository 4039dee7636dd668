"""`halo-forge raft train`: a real tiny run, options over YAML, resume, and option errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli import raft_cmd
from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import read_jsonl, write_jsonl
from halo_forge.errors import ConfigError, DataError

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


def test_prompts_without_tests_fail_before_any_model_file_is_read(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [{"prompt": "Write add(a, b).", "task_id": "add"}])
    output = tmp_path / "run"
    arguments = [
        "train", "--model", str(tmp_path / "no-such-model"), "--prompts", str(prompts),
        "--verifier", "mbpp", "--output", str(output),
    ]  # fmt: skip
    result = runner.invoke(raft_cmd.app, arguments)
    # The verifier's error, not the missing model's: it came first, before anything loaded.
    assert isinstance(result.exception, DataError), result.exception
    assert "line 1 (task add)" in str(result.exception)
    assert "verifier 'mbpp'" in str(result.exception)
    assert not output.exists()


FAIL_FAST_SCRIPT = """
import sys
from halo_forge.cli.main import app

for arguments in sys.argv[1:]:
    try:
        app(arguments.split(), standalone_mode=False)
    except Exception as error:
        print(type(error).__name__, error)
print("torch loaded:", "torch" in sys.modules)
"""


def test_misspelt_verifier_names_and_options_fail_before_torch_loads(tmp_path):
    common = f"raft train --model builtin:tiny-coder --prompts {_prompts(tmp_path)}"
    cycles = tmp_path / "cycles.yaml"
    cycles.write_text("raft:\n  num_cycles: 2\ncycles:\n  - {}\n  - verifier: {type: clagn}\n")
    result = subprocess.run(
        [
            sys.executable, "-c", FAIL_FAST_SCRIPT,
            f"{common} --verifier gcx",
            f"{common} --verifier gcc --verifier-option run_timout=2",
            f"{common} --config {cycles}",
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    lines = result.stdout
    assert "unknown verifier 'gcx'; available verifiers:" in lines
    assert "did you mean 'gcc'?" in lines
    assert "unknown option 'run_timout' (allowed:" in lines
    assert "did you mean 'run_timeout'?" in lines
    assert "cycles[1].verifier: unknown verifier 'clagn'" in lines
    assert "did you mean 'clang'?" in lines
    assert lines.count("ConfigError") == 3
    assert "torch loaded: False" in lines
