"""`halo-forge grpo train`: YAML plus flags and `--set`, a log file, a model `benchmark run` loads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli import grpo_cmd
from halo_forge.cli.main import app as main_app
from halo_forge.config import GRPOConfig
from halo_forge.errors import ConfigError

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """Each invocation prints to its own captured stdout, not a console bound to an older one."""
    ui.set_quiet(False)
    yield
    ui.set_quiet(False)


def test_every_flag_names_a_key_of_the_config() -> None:
    for key in grpo_cmd.GRPO_OPTION_KEYS.values():
        section, _, name = key.rpartition(".")
        model = GRPOConfig if not section else type(getattr(GRPOConfig(), section))
        assert name in model.model_fields, key


@pytest.mark.slow
def test_train_from_yaml_with_flags_logs_to_a_file_and_benchmark_loads_the_model(
    c_prompts: Path, tmp_path: Path, log_dir: str
) -> None:
    config = tmp_path / "grpo.yaml"
    config.write_text(
        "model: builtin:tiny-coder\n"
        "grpo: {num_generations: 2, max_completion_length: 32}\n"
        "training: {batch_size: 4, max_steps: 5, save_steps: 1}\n"
        "verifier: {type: gcc, language: c, run_after_compile: true}\n"
    )
    output = tmp_path / "run"
    arguments = ["train", "--config", str(config), "--prompts", str(c_prompts)]
    arguments += [
        "--output",
        str(output),
        "--max-steps",
        "2",
        "--set",
        "grpo.max_completion_length=12",
    ]

    result = runner.invoke(grpo_cmd.app, arguments)

    assert result.exit_code == 0, result.output
    used = json.loads((output / "grpo_config.json").read_text())
    assert used["training"]["max_steps"] == 2  # the flag beats the YAML
    assert used["grpo"]["max_completion_length"] == 12  # --set reaches any key
    assert (output / "training_log.png").is_file()
    logs = sorted(Path(log_dir).glob("grpo_train_*.log"))
    assert logs and "step 2" in logs[-1].read_text()

    benchmark = subprocess.run(
        [sys.executable, "-m", "halo_forge.cli.main", "benchmark", "run", "--model",
         str(output / "final_model"), "--prompts", str(c_prompts), "--verifier", "gcc",
         "--samples", "1", "--k", "1", "--max-new-tokens", "12",
         "--output", str(tmp_path / "bench.json")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert benchmark.returncode == 0, benchmark.stderr[-2000:]
    assert json.loads((tmp_path / "bench.json").read_text())["model"] == str(output / "final_model")


def test_bad_values_are_refused_before_a_model_loads(c_prompts: Path, tmp_path: Path) -> None:
    base = ["grpo", "train", "--model", "builtin:tiny-coder", "--prompts", str(c_prompts)]

    result = runner.invoke(main_app, [*base, "--loss-type", "ppo", "--output", str(tmp_path)])
    assert isinstance(result.exception, ConfigError)
    assert "grpo.loss_type = 'ppo'" in str(result.exception)

    result = runner.invoke(main_app, [*base, "--verifier-option", "colour=red"])
    assert isinstance(result.exception, ConfigError)
    assert "unknown option 'colour'" in str(result.exception)

    result = runner.invoke(main_app, [*base, "--checkpoint", "x"])
    assert "either --model or --checkpoint" in str(result.exception)
