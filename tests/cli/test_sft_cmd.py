"""`halo-forge sft train|datasets`: options over YAML, dry run, command log, dataset table,
a finished output kept unless --force, and Ctrl-C that saves a checkpoint to resume."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli import sft_cmd
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import ConfigError
from halo_forge.paths import TRAINING_LOG_FILE

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """Each invocation prints to its own captured stdout, not a console bound to an older one."""
    ui.set_quiet(False)
    yield
    ui.set_quiet(False)


def _data(tmp_path: Path, count: int = 8) -> Path:
    path = tmp_path / "train.jsonl"
    write_jsonl(
        path,
        [
            {"prompt": f"Print {value}.", "completion": f'puts("{value}");'}
            for value in range(count)
        ],
    )
    return path


def _yaml(tmp_path: Path, data: Path) -> Path:
    config = tmp_path / "sft.yaml"
    config.write_text(
        "model:\n  name: builtin:tiny-coder\n"
        f"data:\n  train_file: {data}\n  validation_split: 0.0\n  max_seq_length: 48\n"
        "training:\n  num_train_epochs: 3\n  per_device_train_batch_size: 4\n"
        "  gradient_accumulation_steps: 1\n  learning_rate: 1.0e-3\n"
        f"output:\n  dir: {tmp_path / 'from-yaml'}\n  save_steps: 100\n  logging_steps: 1\n",
        encoding="utf-8",
    )
    return config


@pytest.mark.slow
def test_train_options_override_the_yaml_and_write_final_model(
    tmp_path: Path, log_dir: str
) -> None:
    config = _yaml(tmp_path, _data(tmp_path))
    output = tmp_path / "from-cli"

    result = runner.invoke(
        sft_cmd.app,
        [
            "train",
            "--config",
            str(config),
            "--output",
            str(output),
            "--epochs",
            "1",
            "--lora-r",
            "4",
        ],
    )

    assert result.exit_code == 0, result.output
    assert (output / "final_model" / "adapter_config.json").is_file()
    assert not (tmp_path / "from-yaml").exists()
    saved = json.loads((output / "sft_config.json").read_text(encoding="utf-8"))
    assert saved["training"]["num_train_epochs"] == 1  # CLI beats YAML
    assert saved["lora"]["r"] == 4
    assert saved["training"]["learning_rate"] == 1.0e-3  # YAML beats the default
    adapter = json.loads(
        (output / "final_model" / "adapter_config.json").read_text(encoding="utf-8")
    )
    assert adapter["r"] == 4
    assert any(Path(log_dir).glob("sft_train_*.log"))


def test_dry_run_prints_the_plan_and_trains_nothing(tmp_path: Path) -> None:
    data = _data(tmp_path, count=10)

    result = runner.invoke(
        sft_cmd.app,
        [
            "train",
            "--model",
            "builtin:tiny-coder",
            "--data",
            str(data),
            "--output",
            str(tmp_path / "out"),
            "--no-lora",
            "--batch-size",
            "2",
            "--dry-run",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "full fine-tune" in result.output
    assert "records" in result.output and "10" in result.output
    assert not (tmp_path / "out").exists()


def test_missing_data_source_is_a_config_error(tmp_path: Path) -> None:
    result = runner.invoke(
        sft_cmd.app,
        ["train", "--model", "builtin:tiny-coder", "--output", str(tmp_path), "--dry-run"],
    )

    assert isinstance(result.exception, ConfigError)
    assert "--data FILE" in str(result.exception)


def test_datasets_lists_the_registry_entries_with_solutions() -> None:
    result = runner.invoke(sft_cmd.app, ["datasets"], env={"COLUMNS": "240"})

    assert result.exit_code == 0, result.output
    assert "codealpaca" in result.output and "sahil2801/CodeAlpaca-20k" in result.output
    assert "mbpp" in result.output
    assert "codeforces_rust" not in result.output  # statements only: nothing to imitate


def test_set_reaches_a_key_that_has_no_flag(tmp_path: Path) -> None:
    data = _data(tmp_path, count=10)
    common = ["train", "--model", "builtin:tiny-coder", "--data", str(data), "--dry-run"]

    result = runner.invoke(
        sft_cmd.app, [*common, "--set", "data.max_samples=4", "--set", "data.validation_split=0"]
    )

    assert result.exit_code == 0, result.output
    assert "4 / 0" in result.output  # train / validation examples


def test_set_with_a_mistyped_key_names_the_key_it_meant(tmp_path: Path) -> None:
    data = _data(tmp_path)

    result = runner.invoke(
        sft_cmd.app,
        ["train", "--data", str(data), "--dry-run", "--set", "output.save_stepz=5"],
    )

    assert isinstance(result.exception, ConfigError)
    assert "output.save_stepz" in str(result.exception)
    assert "Did you mean 'save_steps'" in str(result.exception)


def test_missing_data_fails_before_the_default_model_is_downloaded(tmp_path: Path) -> None:
    # No --model: the default hub model, not in the cache of this offline suite.
    result = runner.invoke(sft_cmd.app, ["train", "--output", str(tmp_path / "out")])

    assert isinstance(result.exception, ConfigError), result.output
    assert "--data FILE" in str(result.exception)


@pytest.mark.slow
def test_a_finished_output_is_kept_unless_force_retrains_over_it(tmp_path: Path) -> None:
    output = tmp_path / "out"
    (output / "final_model").mkdir(parents=True)
    (output / "final_model" / "weights-of-the-old-run").touch()
    (output / "checkpoint-999").mkdir()
    command = ["train", "--model", "builtin:tiny-coder", "--data", str(_data(tmp_path, count=4))]
    command += ["--output", str(output), "--epochs", "1", "--batch-size", "2"]
    command += ["--set", "data.validation_split=0"]

    refused = runner.invoke(sft_cmd.app, command)
    forced = runner.invoke(sft_cmd.app, [*command, "--force"])

    assert isinstance(refused.exception, ConfigError)
    assert "--force" in str(refused.exception)
    assert forced.exit_code == 0, forced.output
    assert (output / "final_model" / "adapter_config.json").is_file()
    assert not (output / "final_model" / "weights-of-the-old-run").exists()
    assert not (output / "checkpoint-999").exists()  # `--resume latest` must not pick it


def _cli(*arguments: str) -> list[str]:
    """`halo-forge ARGUMENTS` as a real process, with its Ctrl-C handling (`main`)."""
    return [sys.executable, "-c", "from halo_forge.cli.main import main; main()", *arguments]


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_prints_the_command_that_resumes_it(
    tmp_path: Path,
) -> None:
    output = tmp_path / "out"
    command = _cli("sft", "train", "--model", "builtin:tiny-coder")
    command += ["--data", str(_data(tmp_path)), "--output", str(output), "--epochs", "3"]
    command += ["--batch-size", "1", "--gradient-accumulation-steps", "1"]
    command += ["--max-seq-length", "32", "--set", "data.validation_split=0"]
    command += ["--set", "output.save_steps=1000", "--set", "output.logging_steps=1"]
    wide = {**os.environ, "COLUMNS": "500"}  # paths and the command printed on one line
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=wide
    )
    deadline = time.monotonic() + 240
    while not (output / TRAINING_LOG_FILE).is_file() and child.poll() is None:
        assert time.monotonic() < deadline, "training logged no step in time"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGINT)  # Ctrl-C a few steps into 24, far before the first save
    printed, _ = child.communicate(timeout=240)

    assert child.returncode == 130, printed[-3000:]
    stopped = re.search(
        r"interrupted at step (\d+): checkpoint saved in (\S+); resume with: (.+)", printed
    )
    assert stopped, printed[-3000:]
    step, checkpoint, resume_command = int(stopped[1]), Path(stopped[2]), stopped[3].strip()
    assert step < 24 and checkpoint == output / f"checkpoint-{step}"
    assert (checkpoint / "optimizer.pt").is_file()
    assert not (output / "final_model").exists()
    assert resume_command.startswith("halo-forge sft train ")
    assert "--resume latest" in resume_command

    resumed = subprocess.run(
        _cli(*shlex.split(resume_command)[1:]),
        capture_output=True,
        text=True,
        env=wide,
        timeout=300,
    )

    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert (output / "final_model" / "adapter_config.json").is_file()
    logged_steps = [int(found) for found in re.findall(r"^step (\d+) ", resumed.stdout, re.M)]
    assert logged_steps == list(range(step + 1, 25))  # continued after the checkpoint


def test_data_in_another_models_chat_template_gets_a_warning(tmp_path: Path) -> None:
    llama3_turn = (
        "<|start_header_id|>user<|end_header_id|>\n\nPrint 7.<|eot_id|>"
        '<|start_header_id|>assistant<|end_header_id|>\n\nputs("7");<|eot_id|>'
    )
    data = tmp_path / "llama3.jsonl"
    write_jsonl(data, [{"text": llama3_turn}] * 4)

    result = runner.invoke(
        sft_cmd.app,
        ["train", "--model", "builtin:tiny-coder", "--data", str(data), "--dry-run"],
        env={"COLUMNS": "240"},
    )

    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "Llama" in result.output
