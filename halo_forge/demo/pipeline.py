"""The demo: the whole pipeline (data -> SFT -> baseline -> RAFT -> final benchmark) in one call.

    outcome = run_demo(DemoRun(output=Path("runs/demo"), language="c", cycles=3))

Every stage calls the library a user would call (`run_sft`, `run_benchmark`, `RAFTTrainer`),
with the model given (the embedded `builtin:tiny-coder` by default, any Hugging Face id
otherwise), so the demo is the GPU path at a laptop's scale. Stages leave files under
`output/`; a stage whose files exist is skipped, so running the same command again resumes:

    output/
      demo_settings.json      what the run was started with; a rerun with other settings stops
      data/sft.jsonl          prompt + reference solution pairs
      data/raft_prompts.jsonl prompts with tests and no solution
      data/heldout.jsonl      prompts only the benchmarks see
      sft/final_model/        the SFT model
      raft/cycle_N_final/     the RAFT adapter of each cycle
      benchmarks/*.json       held-out results (baseline, after RAFT)
      summary.json, summary.png

The tasks are split by prompt text within each task family, so no held-out prompt appears in
SFT or RAFT data, and every held-out prompt is a family SFT taught, with new constants.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from halo_forge import ui
from halo_forge.benchmark.results import BenchmarkResult, load_result
from halo_forge.benchmark.run import run_benchmark
from halo_forge.benchmark.stages import StageMetrics, stage_table, write_stage_summary
from halo_forge.config.models import (
    BenchmarkConfig,
    EarlyStoppingSection,
    GenerationSection,
    LoRASection,
    ModelSection,
    RAFTConfig,
    RAFTLoopSection,
    RAFTTrainingSection,
    SFTConfig,
    SFTDataSection,
    SFTOutputSection,
    SFTTrainingSection,
    VerifierConfig,
)
from halo_forge.data.builtin_tasks import BUILTIN_SUITES, generate_tasks
from halo_forge.data.converters import builtin_task
from halo_forge.data.jsonl import read_jsonl, write_json, write_jsonl
from halo_forge.demo.report import cycle_stages, describe_change
from halo_forge.demo.settings import FULL, DemoSettings, cpu_threads, uses_lora
from halo_forge.errors import ConfigError
from halo_forge.models.tiny import TINY_MODEL_NAME
from halo_forge.raft.trainer import RAFTTrainer
from halo_forge.training.sft import FINAL_MODEL_DIR, run_sft

SUITE_OF_LANGUAGE = {"c": "builtin_c", "python": "builtin_python"}
SETTINGS_FILE = "demo_settings.json"
MAX_SEQ_LENGTH = 512
#: Fewest distinct prompts a family needs to have some in every part of the split.
MIN_PROMPTS_TO_SPLIT = 3


@dataclass(frozen=True)
class DemoRun:
    """What to run: where, in which language, how many RAFT cycles, with which model."""

    output: Path
    language: str = "c"
    cycles: int = 3
    seed: int = 0
    model: str = TINY_MODEL_NAME
    settings: DemoSettings = FULL

    @property
    def suite(self) -> str:
        """The built-in task suite of the language; an unknown language is a ConfigError."""
        if self.language not in SUITE_OF_LANGUAGE:
            raise ConfigError(
                f"unknown demo language {self.language!r}; choose one of: "
                f"{', '.join(SUITE_OF_LANGUAGE)}"
            )
        return SUITE_OF_LANGUAGE[self.language]

    def verifier(self) -> VerifierConfig:
        """The suite's real verifier (gcc compile + run, or the Python test runner)."""
        info = BUILTIN_SUITES[self.suite]
        return VerifierConfig(type=info.verifier, **info.verifier_options)


@dataclass(frozen=True)
class DemoPaths:
    """Where each stage of a run keeps its files."""

    output: Path

    @property
    def sft_data(self) -> Path:
        return self.output / "data" / "sft.jsonl"

    @property
    def raft_prompts(self) -> Path:
        return self.output / "data" / "raft_prompts.jsonl"

    @property
    def heldout(self) -> Path:
        return self.output / "data" / "heldout.jsonl"

    @property
    def sft_dir(self) -> Path:
        return self.output / "sft"

    @property
    def sft_model(self) -> Path:
        return self.sft_dir / FINAL_MODEL_DIR

    @property
    def raft_dir(self) -> Path:
        return self.output / "raft"

    @property
    def baseline(self) -> Path:
        return self.output / "benchmarks" / "baseline.json"

    def after_raft(self, cycles: int) -> Path:
        """The held-out result after `cycles` RAFT cycles (a longer rerun gets its own file)."""
        return self.output / "benchmarks" / f"raft_cycle_{cycles}.json"


@dataclass(frozen=True)
class TaskSplit:
    """The three disjoint parts of the task suite (task dicts with their solutions)."""

    sft: list[dict[str, Any]]
    raft: list[dict[str, Any]]
    heldout: list[dict[str, Any]]


@dataclass(frozen=True)
class DemoOutcome:
    """The stage rows, the two held-out results and the summary files of a finished run."""

    stages: list[StageMetrics]
    baseline: BenchmarkResult
    final: BenchmarkResult
    summary_json: Path
    summary_png: Path


def split_by_prompt(
    tasks: list[dict[str, Any]], heldout_tasks: int, raft_tasks: int, seed: int
) -> TaskSplit:
    """Held-out, RAFT and SFT parts with one task per distinct prompt text, each in one part.

    Some task families repeat a prompt with new tests; a repeat would let a held-out prompt be
    trained on, or weigh one problem many times, so each prompt keeps its first task only.
    Each family is dealt on its own, in a seeded order, and always keeps prompts for SFT: a
    held-out or RAFT prompt asks for a kind of function SFT taught, with new constants, never
    for a problem no stage taught. A family with fewer than `MIN_PROMPTS_TO_SPLIT` distinct
    prompts (a fixed problem) goes to SFT whole. The held-out and RAFT parts get
    `heldout_tasks` and `raft_tasks` prompts, dealt in proportion to each family's prompts.
    """
    families: dict[str, dict[str, dict[str, Any]]] = {}
    for task in tasks:
        families.setdefault(task["entry_point"], {}).setdefault(task["prompt"], task)
    splittable = sum(
        len(prompts) for prompts in families.values() if len(prompts) >= MIN_PROMPTS_TO_SPLIT
    )
    if splittable <= heldout_tasks + raft_tasks:
        raise ConfigError(
            f"{len(tasks)} tasks give {splittable} distinct prompts in families with "
            f"{MIN_PROMPTS_TO_SPLIT} or more of them: too few for {heldout_tasks} held-out and "
            f"{raft_tasks} RAFT prompts plus SFT ones; raise task_count or lower heldout_tasks "
            "/ raft_tasks in the demo settings"
        )
    heldout_share, raft_share = heldout_tasks / splittable, raft_tasks / splittable
    rng = random.Random(seed)
    order = sorted(families)
    rng.shuffle(order)
    split = TaskSplit(sft=[], raft=[], heldout=[])
    # Running totals rounded once per family: the parts get their shares of every family and,
    # summed, their asked sizes, even where one family's share is a fraction of a prompt.
    dealt = {"heldout": 0.0, "raft": 0.0}
    for family in order:
        by_prompt = families[family]
        prompts = sorted(by_prompt)
        rng.shuffle(prompts)
        heldout_count = raft_count = 0
        if len(prompts) >= MIN_PROMPTS_TO_SPLIT:
            heldout_count = _share(dealt, "heldout", len(prompts) * heldout_share)
            raft_count = _share(dealt, "raft", len(prompts) * raft_share)
            heldout_count = min(heldout_count, len(prompts) - 2)
            raft_count = min(raft_count, len(prompts) - 1 - heldout_count)
        split.heldout.extend(by_prompt[prompt] for prompt in prompts[:heldout_count])
        split.raft.extend(
            by_prompt[prompt] for prompt in prompts[heldout_count : heldout_count + raft_count]
        )
        split.sft.extend(by_prompt[prompt] for prompt in prompts[heldout_count + raft_count :])
    return split


def _share(dealt: dict[str, float], part: str, amount: float) -> int:
    """Whole prompts for `part` such that the rounded running total of its shares stays exact."""
    before = round(dealt[part])
    dealt[part] += amount
    return round(dealt[part]) - before


def prepare_data(run: DemoRun, paths: DemoPaths) -> None:
    """Generate the suite, split it and write the three files (skipped when they exist)."""
    if paths.heldout.is_file():
        ui.echo(f"data: finished earlier, skipped ({paths.heldout.parent})")
        return
    settings = run.settings
    tasks = generate_tasks(run.suite, settings.task_count, run.seed)
    split = split_by_prompt(tasks, settings.heldout_tasks, settings.raft_tasks, run.seed)
    converted = {name: [builtin_task(task) for task in part] for name, part in vars(split).items()}
    write_jsonl(
        paths.sft_data,
        (
            {"prompt": task.prompt.prompt, "completion": task.completion}
            for task in converted["sft"]
        ),
    )
    # `builtin_task` leaves the solution out of the prompt record: RAFT learns from tests alone.
    write_jsonl(paths.raft_prompts, (task.prompt.to_dict() for task in converted["raft"]))
    # Written last: its presence marks the data stage as finished.
    write_jsonl(paths.heldout, (task.prompt.to_dict() for task in converted["heldout"]))
    ui.echo(
        f"data: {run.suite}: {len(split.sft)} SFT pairs (prompt + solution), "
        f"{len(split.raft)} RAFT prompts (tests, no solution), {len(split.heldout)} held-out "
        "prompts; no prompt text is shared between the parts"
    )


def sft_config(run: DemoRun, paths: DemoPaths) -> SFTConfig:
    """The SFT stage's config: the same `SFTConfig` that `halo-forge sft train` loads."""
    settings = run.settings
    return SFTConfig(
        model=ModelSection(name=run.model),
        data=SFTDataSection(
            train_file=str(paths.sft_data), max_seq_length=MAX_SEQ_LENGTH, validation_split=0.05
        ),
        training=SFTTrainingSection(
            num_train_epochs=settings.sft_epochs,
            per_device_train_batch_size=settings.sft_batch_size,
            gradient_accumulation_steps=1,
            learning_rate=settings.sft_learning_rate,
            seed=run.seed,
        ),
        lora=LoRASection(enabled=uses_lora(run.model)),
        output=SFTOutputSection(dir=str(paths.sft_dir), save_steps=10_000, logging_steps=10),
        early_stopping=EarlyStoppingSection(patience=None),
    )


def train_sft(run: DemoRun, paths: DemoPaths) -> None:
    """Fine-tune the model on the SFT pairs (skipped when `sft/final_model` exists)."""
    if paths.sft_model.is_dir():
        ui.echo(f"sft: finished earlier, skipped ({paths.sft_model})")
        return
    ui.echo(f"sft: {run.model} on {paths.sft_data}")
    run_sft(sft_config(run, paths))


def benchmark(
    run: DemoRun, model: Path, prompts: Path, output: Path, stage: str
) -> BenchmarkResult:
    """Sample and verify on the held-out prompts (skipped when the result file exists)."""
    if output.is_file():
        ui.echo(f"{stage}: finished earlier, skipped ({output})")
        return load_result(output)
    settings = run.settings
    ui.echo(f"{stage}: held-out benchmark of {model}")
    config = BenchmarkConfig(
        model=str(model),
        prompts=str(prompts),
        verifier=run.verifier(),
        samples=settings.benchmark_samples,
        k=list(settings.benchmark_k),
        temperature=settings.benchmark_temperature,
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.generation_batch_size,
        output=str(output),
    )
    return run_benchmark(config, seed=run.seed)


def raft_config(run: DemoRun, paths: DemoPaths) -> RAFTConfig:
    """The RAFT stage's config: the same `RAFTConfig` that `halo-forge raft train` loads."""
    settings = run.settings
    return RAFTConfig(
        sft_checkpoint=str(paths.sft_model),
        output_dir=str(paths.raft_dir),
        prompts=str(paths.raft_prompts),
        raft=RAFTLoopSection(
            num_cycles=run.cycles,
            samples_per_prompt=settings.raft_samples_per_prompt,
            reward_threshold=settings.raft_reward_threshold,
            keep_top_percent=1.0,
            seed=run.seed,
        ),
        generation=GenerationSection(
            max_new_tokens=settings.max_new_tokens,
            temperature=settings.raft_temperature,
            batch_size=settings.generation_batch_size,
        ),
        training=RAFTTrainingSection(
            epochs=settings.raft_epochs,
            batch_size=settings.raft_batch_size,
            gradient_accumulation_steps=1,
            learning_rate=settings.raft_learning_rate,
        ),
        verifier=run.verifier(),
    )


def check_settings(run: DemoRun, paths: DemoPaths) -> None:
    """Record the run's settings; refuse to resume a run that was started with other ones."""
    recorded = {
        "language": run.language,
        "seed": run.seed,
        "model": run.model,
        "settings": run.settings.to_json(),
    }
    settings_path = paths.output / SETTINGS_FILE
    if settings_path.is_file():
        earlier = json.loads(settings_path.read_text(encoding="utf-8"))
        if earlier != recorded:
            changed = sorted(key for key in recorded if earlier.get(key) != recorded[key])
            raise ConfigError(
                f"{paths.output} holds a demo run with other settings ({', '.join(changed)}); "
                "rerun with the same options to resume it, or pick another --output"
            )
        return
    write_json(settings_path, recorded)


def run_demo(run: DemoRun) -> DemoOutcome:
    """Run (or resume) every stage and write the summary; see the module docstring."""
    paths = DemoPaths(run.output)
    suite = run.suite  # an unknown language fails before anything is written
    paths.output.mkdir(parents=True, exist_ok=True)
    check_settings(run, paths)
    threads = cpu_threads(run.model)
    if threads is not None:
        torch.set_num_threads(threads)
    ui.echo(
        "RAFT learns from prompts that have tests but no reference solution: the SFT stage "
        "sees solutions, the RAFT prompts do not, and the held-out prompts are seen by neither."
    )
    prepare_data(run, paths)
    train_sft(run, paths)
    baseline = benchmark(run, paths.sft_model, paths.heldout, paths.baseline, "baseline")
    ui.echo(f"raft: {run.cycles} cycle(s) on {paths.raft_prompts}")
    raft = RAFTTrainer(config=raft_config(run, paths)).run(paths.raft_prompts, run.cycles)
    final = benchmark(
        run, raft.final_checkpoint, paths.heldout, paths.after_raft(run.cycles), "final"
    )
    stages = [
        StageMetrics.from_result("SFT (baseline)", baseline, baseline.timing.total),
        *cycle_stages(raft.cycles),
        StageMetrics.from_result(f"RAFT x{run.cycles} (final)", final, final.timing.total),
    ]
    summary_json, summary_png = write_stage_summary(
        stages,
        paths.output,
        title=f"halo-forge demo: {run.model}, {suite}, held-out prompts",
        extra={
            "model": run.model,
            "suite": suite,
            "seed": run.seed,
            "cycles": run.cycles,
            "heldout_prompts": baseline.prompts,
            "raft_prompts": len(read_jsonl(paths.raft_prompts)),
            "raft_prompts_have_solutions": False,
            "settings": run.settings.to_json(),
        },
    )
    ui.echo(stage_table(stages))
    for line in describe_change(paths.baseline, paths.after_raft(run.cycles)):
        ui.echo(line)
    ui.echo(f"summary: {summary_json}, plot: {summary_png}")
    return DemoOutcome(stages, baseline, final, summary_json, summary_png)
