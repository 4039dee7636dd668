"""The demo pipeline end to end on a reduced preset: real tasks, real gcc, the embedded model."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import read_jsonl
from halo_forge.demo import DemoRun, load_preset, run_demo
from halo_forge.demo.split import split_by_prompt
from halo_forge.errors import ConfigError

# Small enough for a test, with every stage doing real work (a training step, real samples):
# the quick preset with the overrides `--set` would give.
TINY_OVERRIDES = {
    "cycles": 1,
    "task_count": 186,
    "heldout_tasks": 6,
    "raft_tasks": 6,
    "sft_epochs": 1.0,
    "raft_samples_per_prompt": 2,
    "raft_epochs": 1,
    "benchmark_samples": 2,
    "benchmark_k": [1, 2],
    "max_new_tokens": 48,
}
TINY_PRESET = load_preset(quick=True, overrides=TINY_OVERRIDES)


def test_the_presets_are_the_commented_yaml_files_with_quick_on_top() -> None:
    full, quick = load_preset(), load_preset(quick=True)

    assert (full.language, full.model, full.cycles, full.task_count) == (
        "c",
        "builtin:tiny-coder",
        3,
        24800,
    )
    assert (quick.task_count, quick.sft_epochs, quick.raft_samples_per_prompt) == (6200, 2.0, 4)
    assert quick.model_dump(exclude={"task_count", "heldout_tasks", "raft_tasks", "sft_epochs",
                                     "raft_samples_per_prompt", "raft_epochs"}) == full.model_dump(
        exclude={"task_count", "heldout_tasks", "raft_tasks", "sft_epochs",
                 "raft_samples_per_prompt", "raft_epochs"}
    )  # fmt: skip
    assert load_preset(quick=True, overrides={"language": "python", "seed": None}).language == (
        "python"
    )


def test_a_preset_key_the_demo_does_not_know_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    preset = tmp_path / "demo.yaml"
    preset.write_text("task_count: 100\nheldout_task: 5\n")

    with pytest.raises(ConfigError, match="Did you mean 'heldout_tasks'"):
        load_preset(preset)


def test_split_keeps_every_prompt_text_in_one_part_once() -> None:
    tasks = generate_tasks("builtin_c", 400, seed=3)

    split = split_by_prompt(tasks, heldout_tasks=40, raft_tasks=60, seed=3)

    parts = (split.sft, split.raft, split.heldout)
    texts = [{task["prompt"] for task in part} for part in parts]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])
    assert all(len(part) == len(part_texts) for part, part_texts in zip(parts, texts, strict=True))
    assert sum(map(len, parts)) == len({task["prompt"] for task in tasks})
    assert (len(split.heldout), len(split.raft)) == (40, 60)


def test_split_holds_out_new_constants_of_families_that_sft_teaches() -> None:
    tasks = generate_tasks("builtin_c", 400, seed=3)

    split = split_by_prompt(tasks, heldout_tasks=40, raft_tasks=60, seed=3)

    taught = Counter(task["entry_point"] for task in split.sft)
    prompts_per_family = Counter(
        task["entry_point"] for task in {task["prompt"]: task for task in tasks}.values()
    )
    fixed = {family for family, count in prompts_per_family.items() if count < 3}
    for part in (split.raft, split.heldout):
        families = {task["entry_point"] for task in part}
        assert len(families) >= 10
        assert families <= set(taught) and not families & fixed
    assert all(taught[family] == prompts_per_family[family] for family in fixed)


def test_split_that_leaves_no_sft_tasks_is_refused() -> None:
    with pytest.raises(ConfigError, match="task_count"):
        split_by_prompt(generate_tasks("builtin_c", 20, seed=0), 10, 10, seed=0)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, object]:
    run = DemoRun(output=tmp_path_factory.mktemp("demo"), settings=TINY_PRESET)
    return run, run_demo(run)


def test_demo_runs_every_stage_and_writes_the_summary(finished_run) -> None:
    run, outcome = finished_run

    summary = json.loads((run.output / "summary.json").read_text(encoding="utf-8"))
    assert [stage["stage"] for stage in summary["stages"]] == [
        "SFT (baseline)",
        "RAFT cycle 1",
        "RAFT x1 (final)",
    ]
    assert summary["raft_prompts_have_solutions"] is False
    assert (run.output / "summary.png").read_bytes().startswith(b"\x89PNG")
    assert outcome.baseline.samples_per_prompt == 2
    assert outcome.baseline.compile_rate is not None  # gcc judged every sample
    assert outcome.final.prompts == outcome.baseline.prompts == summary["heldout_prompts"]
    assert (run.output / "raft" / "cycle_1_final").is_dir()
    assert summary["settings"] == TINY_PRESET.model_dump(mode="json")
    assert summary["results"] == {
        "baseline": "benchmarks/baseline.json",
        "final": "benchmarks/raft_cycle_1.json",
    }


def test_raft_prompts_carry_tests_but_no_solution(finished_run) -> None:
    run, _ = finished_run
    data = run.output / "data"

    raft_prompts = read_jsonl(data / "raft_prompts.jsonl")
    heldout = {record["prompt"] for record in read_jsonl(data / "heldout.jsonl")}
    trained = {record["prompt"] for record in read_jsonl(data / "sft.jsonl")}

    assert raft_prompts and all("solution" not in record for record in raft_prompts)
    assert all(record["test_cases"] for record in raft_prompts)
    assert not heldout & (trained | {record["prompt"] for record in raft_prompts})


def test_rerun_skips_finished_stages(finished_run, capsys: pytest.CaptureFixture[str]) -> None:
    run, outcome = finished_run
    baseline_file = run.output / "benchmarks" / "baseline.json"
    written = baseline_file.stat().st_mtime_ns

    again = run_demo(run)

    output = capsys.readouterr().out
    for stage in ("data", "sft", "baseline", "final"):
        assert f"{stage}: finished earlier, skipped" in output
    assert "cycle 1: finished earlier, skipped" in output
    assert baseline_file.stat().st_mtime_ns == written
    assert again.final.pass_at_k == outcome.final.pass_at_k


def test_rerun_with_other_settings_is_refused(finished_run) -> None:
    run, _ = finished_run

    other_seed = TINY_PRESET.model_copy(update={"seed": TINY_PRESET.seed + 1})
    with pytest.raises(ConfigError, match=r"other settings \(seed: 0 -> 1\)"):
        run_demo(replace(run, settings=other_seed))


def test_unknown_language_is_refused_when_the_preset_loads() -> None:
    with pytest.raises(ConfigError, match="'c' or 'python'"):
        load_preset(overrides={"language": "rust"})


def test_grpo_in_rafts_place_reuses_the_runs_data_sft_and_baseline(
    finished_run, capsys: pytest.CaptureFixture[str]
) -> None:
    run, raft_outcome = finished_run
    grpo_settings = TINY_PRESET.model_copy(
        update={"algorithm": "grpo", "grpo_completions_per_step": 4}
    )
    assert grpo_settings.grpo_steps() == 3  # 1 cycle x 6 prompts x 2 samples, 4 per step

    outcome = run_demo(replace(run, settings=grpo_settings))

    output = capsys.readouterr().out
    for stage in ("data", "sft", "baseline"):
        assert f"{stage}: finished earlier, skipped" in output
    summary = json.loads((run.output / "grpo" / "summary.json").read_text(encoding="utf-8"))
    assert [stage["stage"] for stage in summary["stages"]] == [
        "SFT (baseline)",
        "GRPO x3 steps (final)",
    ]
    assert summary["budget"] == {"generated_samples": 12, "optimizer_steps": 3}
    assert summary["results"]["final"].endswith("benchmarks/grpo_step_3.json")
    assert outcome.baseline.pass_at_k == raft_outcome.baseline.pass_at_k
    assert (run.output / "grpo" / "final_model" / "adapter_config.json").is_file()
    assert (run.output / "grpo" / "training_log.png").is_file()
    assert (run.output / "summary.json").is_file()  # RAFT's summary is left as it was


def test_the_backend_samples_the_rollouts_and_both_benchmarks(tmp_path: Path) -> None:
    from halo_forge.demo.pipeline import DemoPaths, evaluation, grpo_config, raft_config

    run = DemoRun(output=tmp_path, settings=load_preset(quick=True, overrides={"backend": "vllm"}))
    paths = DemoPaths(tmp_path)

    assert raft_config(run, paths).generation.backend == "vllm"
    assert grpo_config(run, paths).generation.backend == "vllm"
    assert evaluation(run, paths).backend == "vllm"
    with pytest.raises(ConfigError, match="backend"):
        load_preset(quick=True, overrides={"backend": "tgi"})
