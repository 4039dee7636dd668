"""`halo-forge benchmark run|compare|eval`: options over YAML, the files written, the table, logs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.benchmark.results import load_result
from halo_forge.cli import benchmark_cmd
from halo_forge.cli.benchmark_cmd import parse_k_values
from halo_forge.data.jsonl import read_jsonl, write_jsonl
from halo_forge.errors import ConfigError

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """Each invocation prints to its own captured stdout, not a console bound to an older one."""
    ui.set_quiet(False)
    yield
    ui.set_quiet(False)


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A `benchmark run` (YAML + options) and a `benchmark eval`, both through the CLI."""
    directory = tmp_path_factory.mktemp("benchmark_cli")
    prompts = directory / "prompts.jsonl"
    write_jsonl(
        prompts,
        [
            {
                "prompt": "Write a C++ program that prints 42.",
                "expected_output": "42\n",
                "language": "cpp",
            },
            {"prompt": "Write a C++ program that prints 7.", "expected_output": "7\n"},
            {"prompt": "Write a C++ program that prints 9.", "expected_output": "9\n"},
        ],
    )
    config = directory / "benchmark.yaml"
    config.write_text(
        "model: builtin:tiny-coder\n"
        f"prompts: {prompts}\n"
        "verifier:\n  type: gcc\n  run_after_compile: true\n"
        "samples: 5\nk: [1, 5]\nmax_new_tokens: 10\n"
        f"output: {directory / 'from-yaml.json'}\n",
        encoding="utf-8",
    )
    run_output = directory / "run.json"
    ui.set_quiet(False)
    run = runner.invoke(
        benchmark_cmd.app,
        [
            "run",
            "--config",
            str(config),
            "--samples",
            "2",
            "--k",
            "1,2",
            "--max-prompts",
            "2",
            "--output",
            str(run_output),
            "--hardware-metrics",
        ],
    )
    humaneval = directory / "HumanEval.jsonl"
    humaneval.write_text(
        json.dumps(
            {
                "task_id": "HumanEval/0",
                "prompt": 'def add(a, b):\n    """Return a + b."""\n',
                "canonical_solution": "    return a + b\n",
                "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
                "entry_point": "add",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    eval_output = directory / "eval.json"
    evaluation = runner.invoke(
        benchmark_cmd.app,
        [
            "eval",
            "--model",
            "builtin:tiny-coder",
            "--benchmark",
            "humaneval",
            "--from",
            str(humaneval),
            "--samples-per-prompt",
            "2",
            "--max-new-tokens",
            "10",
            "--output",
            str(eval_output),
        ],
    )
    assert run.exit_code == 0, run.output
    assert evaluation.exit_code == 0, evaluation.output
    (directory / "run.txt").write_text(run.output, encoding="utf-8")
    (directory / "eval.txt").write_text(evaluation.output, encoding="utf-8")
    return {
        "directory": directory,
        "run": run_output,
        "run_printed": directory / "run.txt",
        "eval": eval_output,
        "eval_printed": directory / "eval.txt",
    }


def test_run_options_override_the_yaml(produced: dict[str, Path]) -> None:
    result = load_result(produced["run"])

    assert not (produced["directory"] / "from-yaml.json").exists()
    assert (result.prompts, result.samples_per_prompt, result.total) == (2, 2, 4)
    assert set(result.pass_at_k) == {"pass@1", "pass@2"}
    assert result.config["max_new_tokens"] == 10  # from the YAML
    assert result.config["verifier"] == {"type": "gcc", "run_after_compile": True}
    assert result.hardware is not None
    assert (produced["directory"] / "run.samples.jsonl").is_file()
    # One record says cpp; gcc records the language it compiled the other one as (C++ too).
    assert {name: counts.total for name, counts in result.by_language.items()} == {"cpp": 4}


def test_run_prints_the_metrics_and_logs_the_command(
    produced: dict[str, Path], log_dir: str
) -> None:
    printed = produced["run_printed"].read_text(encoding="utf-8")

    assert "pass@2" in printed and "compile rate" in printed and "pass rate" in printed
    assert "language cpp" in printed and "language unknown" not in printed
    assert "peak memory" in printed
    assert any(Path(log_dir).glob("benchmark_run_*.log"))
    assert any(Path(log_dir).glob("benchmark_eval_*.log"))


def test_eval_reports_the_prompt_format_it_used(produced: dict[str, Path]) -> None:
    result = load_result(produced["eval"])

    assert (result.verifier, result.total) == ("humaneval", 2)
    assert "HumanEval" in produced["eval_printed"].read_text(encoding="utf-8")
    assert "raw prompt" in result.prompt_format


def test_compare_prints_both_runs_and_writes_the_plot(
    produced: dict[str, Path], tmp_path: Path, log_dir: str
) -> None:
    plot = tmp_path / "compare.png"

    result = runner.invoke(
        benchmark_cmd.app,
        ["compare", str(produced["run"]), str(produced["eval"]), "--plot", str(plot)],
    )

    assert result.exit_code == 0, result.output
    assert "run" in result.output and "eval" in result.output
    assert "pass@2" in result.output and "compile_rate" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(Path(log_dir).glob("benchmark_compare_*.log"))


def test_compare_prints_the_paired_change_of_each_pass_at_k(
    produced: dict[str, Path], tmp_path: Path
) -> None:
    again = tmp_path / "again.json"
    shutil.copy(produced["run"], again)
    shutil.copy(produced["directory"] / "run.samples.jsonl", tmp_path / "run.samples.jsonl")

    result = runner.invoke(benchmark_cmd.app, ["compare", str(produced["run"]), str(again)])

    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())  # the terminal wraps long lines
    for k in (1, 2):
        assert (
            f"again vs run: pass@{k} +0.0 points, standard error 0.0 "
            "(paired over 2 shared prompts); within 2 standard errors: noise"
        ) in printed


def test_compare_without_the_baseline_samples_says_so_and_still_shows_the_table(
    produced: dict[str, Path], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    shutil.copy(produced["run"], baseline)  # its samples file stays behind

    result = runner.invoke(benchmark_cmd.app, ["compare", str(baseline), str(produced["run"])])

    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())  # the terminal wraps long lines
    assert "Benchmark comparison" in printed
    assert "baseline: no paired differences" in printed and "not found" in printed
    assert "vs baseline" not in printed


def test_k_larger_than_samples_is_a_config_error(produced: dict[str, Path]) -> None:
    result = runner.invoke(
        benchmark_cmd.app,
        [
            "run",
            "--model",
            "builtin:tiny-coder",
            "--prompts",
            str(produced["directory"] / "prompts.jsonl"),
            "--samples",
            "2",
            "--k",
            "1,10",
        ],
    )

    assert isinstance(result.exception, ConfigError)
    assert "--samples" in str(result.exception)


@pytest.mark.parametrize("text", ["1,five", ","])
def test_bad_k_values_say_the_expected_form(text: str) -> None:
    with pytest.raises(ConfigError, match="1,5,10"):
        parse_k_values(text)


def test_k_values_are_parsed_from_a_comma_list() -> None:
    assert parse_k_values("1, 5,10") == [1, 5, 10]


@pytest.mark.slow
def test_ctrl_c_keeps_the_finished_batches_says_how_to_resume_and_exits_130(
    tmp_path: Path,
) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(
        prompts,
        [
            {"prompt": f"Write a C program that prints {n}.", "expected_output": f"{n}\n"}
            for n in range(64)  # one batch each: the run is far from done at the first
        ],
    )
    output = tmp_path / "run.json"
    completions = output.with_name("run.completions.jsonl")
    command = [sys.executable, "-c", "from halo_forge.cli.main import main; main()"]
    command += ["benchmark", "run", "--model", "builtin:tiny-coder", "--prompts", str(prompts)]
    command += ["--verifier", "gcc", "--samples", "1", "--k", "1", "--max-new-tokens", "48"]
    command += ["--set", "batch_size=1", "--output", str(output)]
    wide = {**os.environ, "COLUMNS": "500"}  # paths printed on one line
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=wide
    )
    deadline = time.monotonic() + 240
    while not (completions.is_file() and completions.stat().st_size):
        if child.poll() is not None:
            pytest.fail(f"the run ended before a batch was kept:\n{child.communicate()[0][-3000:]}")
        assert time.monotonic() < deadline, "no generation batch finished in time"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGINT)  # Ctrl-C while a later batch is generated
    printed, _ = child.communicate(timeout=240)

    assert child.returncode == 130, printed[-3000:]
    assert f"finished work is kept in {completions}" in printed
    assert "run the same command again to resume" in printed
    assert 1 <= len(read_jsonl(completions)) < 64
    assert not output.exists()


@pytest.mark.parametrize("command", ["run", "eval"])
def test_an_unknown_backend_lists_the_allowed_ones(command: str) -> None:
    arguments = [command, "--model", "builtin:tiny-coder", "--backend", "tgi"]
    arguments += ["--benchmark", "mbpp"] if command == "eval" else ["--prompts", "p.jsonl"]

    result = runner.invoke(benchmark_cmd.app, arguments)

    assert isinstance(result.exception, ConfigError)
    assert all(name in str(result.exception) for name in ("backend", "transformers", "openai"))
