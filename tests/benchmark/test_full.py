"""`benchmark full` end to end: the tiny model on CPU, real gcc, two builtin C tasks, one cycle."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.benchmark.full import (
    BASELINE_RESULT,
    FINAL_RESULT,
    RAFT_DIR,
    SAME_PROMPTS_NOTE,
    FullRunResult,
    run_full,
)
from halo_forge.benchmark.results import load_result
from halo_forge.cli.benchmark_cmd import app
from halo_forge.config.models import RAFTConfig
from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import ConfigError
from halo_forge.raft.training_log import read_training_log

pytestmark = pytest.mark.slow

MODEL = "builtin:tiny-coder"
TASKS = generate_tasks("builtin_c", 3, 0)


def _config(prompts: Path) -> RAFTConfig:
    return RAFTConfig.model_validate(
        {
            "model": MODEL,
            "prompts": str(prompts),
            "raft": {
                "num_cycles": 1,
                "samples_per_prompt": 2,
                "reward_threshold": 0.5,
                "keep_top_percent": 1.0,
                "min_samples": 1,
            },
            "generation": {"max_new_tokens": 32, "batch_size": 2},
            "training": {"batch_size": 2, "gradient_accumulation_steps": 1, "learning_rate": 1e-3},
            "verifier": {"type": "gcc", "run_after_compile": True},
        }
    )


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RAFTConfig, FullRunResult]:
    directory = tmp_path_factory.mktemp("full")
    prompts = directory / "prompts.jsonl"
    write_jsonl(prompts, TASKS[:2])
    config = _config(prompts)
    output = directory / "run"
    return output, config, run_full(config, output, samples=2, k=[1, 2])


def test_summary_has_baseline_each_cycle_and_final(finished) -> None:
    output, _, result = finished
    summary = json.loads((output / "summary.json").read_text())

    assert [row["stage"] for row in summary["stages"]] == ["baseline", "raft cycle 1", "final"]
    baseline = load_result(output / BASELINE_RESULT)
    final = load_result(output / FINAL_RESULT)
    assert baseline.model == MODEL
    assert final.model == str(output / RAFT_DIR / "cycle_1_final")
    assert summary["final_checkpoint"] == final.model == str(result.final_checkpoint)
    for row, benchmark in ((summary["stages"][0], baseline), (summary["stages"][2], final)):
        assert row["pass_rate"] == benchmark.pass_rate
        assert row["compile_rate"] == benchmark.compile_rate
        assert row["pass_at_k"] == benchmark.pass_at_k
        assert set(row["pass_at_k"]) == {"pass@1", "pass@2"}
        assert benchmark.total == 2 * 2
    cycle = read_training_log(output / RAFT_DIR)[0]
    assert summary["stages"][1]["kept"] == cycle.kept
    assert summary["stages"][1]["pass_rate"] == cycle.pass_rate
    assert summary["stages"][1]["train_loss"] == cycle.train_loss
    assert summary["results"] == {"baseline": BASELINE_RESULT, "final": FINAL_RESULT}


def test_summary_flags_evaluation_on_the_training_prompts(finished) -> None:
    output, config, _ = finished
    summary = json.loads((output / "summary.json").read_text())

    assert summary["eval_prompts_are_train_prompts"] is True
    assert summary["eval_prompts"] == summary["train_prompts"] == config.prompts
    assert SAME_PROMPTS_NOTE in summary["notes"]


def test_summary_and_training_plots_are_valid_pngs(finished) -> None:
    _, _, result = finished
    for path in (result.summary_plot, result.training_plot):
        width, height = _png_size(path)
        assert width > 100 and height > 100


def test_rerun_from_the_cli_skips_every_finished_stage(finished, tmp_path: Path) -> None:
    output, config, _ = finished
    ui.set_quiet(False)  # bind the console to this invocation's captured stdout
    before = {name: (output / name).stat().st_mtime_ns for name in (BASELINE_RESULT, FINAL_RESULT)}
    config_file = tmp_path / "raft.yaml"
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json")))

    arguments = ["full", "--config", str(config_file), "--output", str(output)]
    outcome = CliRunner().invoke(app, [*arguments, "--samples", "2", "--k", "1,2"])

    assert outcome.exit_code == 0, outcome.output
    assert "baseline: finished earlier" in outcome.output
    assert "cycle 1: finished earlier, skipped" in outcome.output
    assert "final: finished earlier" in outcome.output
    assert "Pipeline summary" in outcome.output  # the stage table
    after = {name: (output / name).stat().st_mtime_ns for name in (BASELINE_RESULT, FINAL_RESULT)}
    assert after == before


def test_held_out_prompts_are_benchmarked_instead_and_not_flagged(finished, tmp_path) -> None:
    output, config, _ = finished
    copy = tmp_path / "run"
    shutil.copytree(output, copy)
    held_out = tmp_path / "held_out.jsonl"
    write_jsonl(held_out, TASKS[2:])

    result = run_full(config, copy, eval_prompts=str(held_out), samples=2, k=[1, 2])

    summary = json.loads(result.summary.read_text())
    assert summary["eval_prompts_are_train_prompts"] is False
    assert SAME_PROMPTS_NOTE not in summary["notes"]
    for name in (BASELINE_RESULT, FINAL_RESULT):
        benchmark = load_result(copy / name)
        assert benchmark.config["prompts"] == str(held_out)
        assert benchmark.prompts == 1


def test_k_above_samples_fails_before_any_model_runs(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, TASKS[:1])

    with pytest.raises(ConfigError, match="raise --samples"):
        run_full(_config(prompts), tmp_path / "run", samples=2, k=[5])
    assert not (tmp_path / "run").exists()
