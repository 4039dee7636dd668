"""The demo: the whole pipeline (data -> SFT -> baseline -> RAFT -> final benchmark) in one call.

    settings = load_preset(quick=True)
    outcome = run_demo(DemoRun(output=Path("runs/demo"), settings=settings))

The demo prepares its data and trains SFT, then hands over to `run_pipeline`, the orchestrator
`benchmark full` runs too, with its preset's benchmark settings (`settings`). Every stage
calls the library a user would call (`run_sft`, `run_benchmark`, `RAFTTrainer`), with the model
given (the embedded `builtin:tiny-coder` by default, any Hugging Face id otherwise), so the
demo is the GPU path at a laptop's scale. Stages leave files under `output/`; a stage whose
files exist is skipped, so running the same command again resumes:

    output/
      fingerprint.json        the settings the run was started with; other ones are refused
      data/sft.jsonl          prompt + reference solution pairs
      data/raft_prompts.jsonl prompts with tests and no solution
      data/heldout.jsonl      prompts only the benchmarks see
      sft/final_model/        the SFT model
      raft/cycle_N_final/     the RAFT adapter of each cycle
      benchmarks/*.json       held-out results (baseline, after RAFT, after GRPO)
      summary.json, summary.png
      grpo/                   `--algorithm grpo`: the GRPO run (final_model/, checkpoints,
                              training_log.png) and its own summary.json, summary.png

The split (`split`) keeps every prompt text in one part. `--algorithm grpo` trains GRPO in
RAFT's place on the same RAFT prompts, from the same SFT model, against the same baseline, with
as many generated samples as RAFT's cycles (`DemoSettings.grpo_steps`); run both in one output
directory and the two final benchmarks are a paired comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from halo_forge import ui
from halo_forge.benchmark.full import FullRunResult, PipelineFiles, StageNames, run_pipeline
from halo_forge.benchmark.stages import stage_table
from halo_forge.config.fingerprint import compare_fingerprint, flatten_settings, store_fingerprint
from halo_forge.config.grpo import (
    GRPOConfig,
    GRPOGenerationSection,
    GRPOSection,
    GRPOTrainingSection,
)
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
from halo_forge.data.jsonl import read_jsonl, write_jsonl
from halo_forge.demo.report import describe_change
from halo_forge.demo.settings import DemoSettings, cpu_threads, training_threads, uses_lora
from halo_forge.demo.split import split_by_prompt
from halo_forge.training.sft import FINAL_MODEL_DIR, run_sft

SUITE_OF_LANGUAGE = {"c": "builtin_c", "python": "builtin_python"}
FINGERPRINT_FILE = "fingerprint.json"
MAX_SEQ_LENGTH = 512
#: What the summary calls the stages: its rates are all held-out, so cycle rows show none.
DEMO_STAGES = StageNames(
    baseline="SFT (baseline)",
    cycle="RAFT cycle {cycle}",
    final="RAFT x{cycles} (final)",
    cycle_rates=False,
)
#: The same for GRPO in RAFT's place: `{cycles}` counts its optimizer steps.
GRPO_DEMO_STAGES = StageNames(baseline="SFT (baseline)", final="GRPO x{cycles} steps (final)")


@dataclass(frozen=True)
class DemoRun:
    """What to run: where, and with which settings (a preset of `configs/`, `load_preset`)."""

    output: Path
    settings: DemoSettings
    force: bool = False

    @property
    def suite(self) -> str:
        """The built-in task suite of the language."""
        return SUITE_OF_LANGUAGE[self.settings.language]

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

    def pipeline(self, cycles: int) -> PipelineFiles:
        """The files of the baseline -> RAFT -> final stages; a longer rerun gets its own final
        result (`raft_cycle_N.json`)."""
        benchmarks = self.output / "benchmarks"
        return PipelineFiles(
            summary_dir=self.output,
            baseline=benchmarks / "baseline.json",
            final=benchmarks / f"raft_cycle_{cycles}.json",
            raft_dir=self.output / "raft",
        )

    def grpo_pipeline(self, steps: int) -> PipelineFiles:
        """The files of baseline -> GRPO -> final: the RAFT run's baseline, GRPO's own final
        result (`grpo_step_N.json`) and directory, and its own summary (`grpo/summary.json`)."""
        return PipelineFiles(
            summary_dir=self.output / "grpo",
            baseline=self.output / "benchmarks" / "baseline.json",
            final=self.output / "benchmarks" / f"grpo_step_{steps}.json",
            raft_dir=self.output / "grpo",
        )


def prepare_data(run: DemoRun, paths: DemoPaths) -> None:
    """Generate the suite, split it and write the three files (skipped when they exist)."""
    if paths.heldout.is_file():
        ui.echo(f"data: finished earlier, skipped ({paths.heldout.parent})")
        return
    settings = run.settings
    tasks = generate_tasks(run.suite, settings.task_count, settings.seed)
    split = split_by_prompt(tasks, settings.heldout_tasks, settings.raft_tasks, settings.seed)
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
        model=ModelSection(name=settings.model),
        data=SFTDataSection(
            train_file=str(paths.sft_data), max_seq_length=MAX_SEQ_LENGTH, validation_split=0.05
        ),
        training=SFTTrainingSection(
            num_train_epochs=settings.sft_epochs,
            per_device_train_batch_size=settings.sft_batch_size,
            gradient_accumulation_steps=1,
            learning_rate=settings.sft_learning_rate,
            seed=settings.seed,
            cpu_threads=training_threads(settings.model),
        ),
        lora=LoRASection(enabled=uses_lora(settings.model)),
        output=SFTOutputSection(dir=str(paths.sft_dir), save_steps=10_000, logging_steps=10),
        early_stopping=EarlyStoppingSection(patience=None),
    )


def train_sft(run: DemoRun, paths: DemoPaths) -> None:
    """Fine-tune the model on the SFT pairs (skipped when `sft/final_model` exists)."""
    if paths.sft_model.is_dir():
        ui.echo(f"sft: finished earlier, skipped ({paths.sft_model})")
        return
    ui.echo(f"sft: {run.settings.model} on {paths.sft_data}")
    run_sft(sft_config(run, paths))


def raft_config(run: DemoRun, paths: DemoPaths) -> RAFTConfig:
    """The RAFT stage's config: the same `RAFTConfig` that `halo-forge raft train` loads."""
    settings = run.settings
    return RAFTConfig(
        sft_checkpoint=str(paths.sft_model),
        prompts=str(paths.raft_prompts),
        raft=RAFTLoopSection(
            num_cycles=settings.cycles,
            samples_per_prompt=settings.raft_samples_per_prompt,
            reward_threshold=settings.raft_reward_threshold,
            keep_top_percent=1.0,
            seed=settings.seed,
        ),
        generation=GenerationSection(
            backend=settings.backend,
            max_new_tokens=settings.max_new_tokens,
            temperature=settings.raft_temperature,
            batch_size=settings.generation_batch_size,
        ),
        training=RAFTTrainingSection(
            num_train_epochs=settings.raft_epochs,
            per_device_train_batch_size=settings.raft_batch_size,
            gradient_accumulation_steps=1,
            learning_rate=settings.raft_learning_rate,
            cpu_threads=training_threads(settings.model),
        ),
        verifier=run.verifier(),
    )


def grpo_config(run: DemoRun, paths: DemoPaths) -> GRPOConfig:
    """GRPO in RAFT's place: the `GRPOConfig` that `halo-forge grpo train` loads, on RAFT's
    prompts, start model and verifier, with as many generated completions (`grpo_steps`)."""
    settings = run.settings
    return GRPOConfig(
        sft_checkpoint=str(paths.sft_model),
        prompts=str(paths.raft_prompts),
        grpo=GRPOSection(
            num_generations=settings.grpo_num_generations,
            loss_type=settings.grpo_loss_type,
            max_completion_length=settings.max_new_tokens,
            temperature=settings.raft_temperature,
            seed=settings.seed,
        ),
        generation=GRPOGenerationSection(backend=settings.backend),
        training=GRPOTrainingSection(
            per_device_train_batch_size=settings.grpo_completions_per_step,
            learning_rate=settings.grpo_learning_rate,
            max_steps=settings.grpo_steps(),
            save_steps=50,
        ),
        verifier=run.verifier(),
    )


def evaluation(run: DemoRun, paths: DemoPaths) -> BenchmarkConfig:
    """How baseline and final are benchmarked: held-out prompts, the preset's sampling."""
    settings = run.settings
    return BenchmarkConfig(
        prompts=str(paths.heldout),
        verifier=run.verifier(),
        samples=settings.benchmark_samples,
        k=list(settings.benchmark_k),
        temperature=settings.benchmark_temperature,
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.generation_batch_size,
        backend=settings.backend,
    )


def training_budget(settings: DemoSettings) -> dict[str, int | str]:
    """What the run's algorithm spends: completions generated (and verified), and for GRPO
    its optimizer steps (RAFT's depend on how many samples pass; its training log has them)."""
    if settings.algorithm == "grpo":
        steps = settings.grpo_steps()
        return {
            "generated_samples": steps * settings.grpo_completions_per_step,
            "optimizer_steps": steps,
        }
    samples = settings.cycles * settings.raft_tasks * settings.raft_samples_per_prompt
    return {
        "generated_samples": samples,
        "optimizer_steps": "kept samples x raft_epochs / raft_batch_size, per cycle",
    }


def check_settings(run: DemoRun) -> None:
    """Record the run's settings; refuse to resume a run started with other ones, unless forced.

    With `force`, the finished stages are reused as they are (the benchmarks of other settings
    run again by themselves).
    """
    fingerprint = flatten_settings(run.settings.fingerprint_settings())
    path = run.output / FINGERPRINT_FILE
    compare_fingerprint(
        path,
        fingerprint,
        force=run.force,
        holder=f"{run.output} holds a demo run",
        force_effect="reuse its finished stages anyway",
    )
    store_fingerprint(path, fingerprint)


def run_demo(run: DemoRun) -> FullRunResult:
    """Run (or resume) every stage and write the summary; see the module docstring."""
    paths = DemoPaths(run.output)
    settings = run.settings
    paths.output.mkdir(parents=True, exist_ok=True)
    check_settings(run)
    threads = cpu_threads(settings.model)
    if threads is not None:
        torch.set_num_threads(threads)
    ui.echo(
        "RAFT learns from prompts that have tests but no reference solution: the SFT stage "
        "sees solutions, the RAFT prompts do not, and the held-out prompts are seen by neither."
    )
    prepare_data(run, paths)
    train_sft(run, paths)
    grpo = settings.algorithm == "grpo"
    files = paths.grpo_pipeline(settings.grpo_steps()) if grpo else paths.pipeline(settings.cycles)
    outcome = run_pipeline(
        grpo_config(run, paths) if grpo else raft_config(run, paths),
        evaluation(run, paths),
        files,
        seed=settings.seed,
        names=GRPO_DEMO_STAGES if grpo else DEMO_STAGES,
        force=run.force,
        title=f"halo-forge demo: {settings.model}, {run.suite}, held-out prompts",
        extra={
            "algorithm": settings.algorithm,
            "budget": training_budget(settings),
            "model": settings.model,
            "suite": run.suite,
            "seed": settings.seed,
            "heldout_prompts": len(read_jsonl(paths.heldout)),
            "raft_prompts": len(read_jsonl(paths.raft_prompts)),
            "raft_prompts_have_solutions": False,
            "settings": settings.model_dump(mode="json"),
        },
    )
    ui.echo(stage_table(outcome.stages))
    for line in describe_change(files.baseline, files.final):
        ui.echo(line)
    ui.echo(f"summary: {outcome.summary}, plot: {outcome.summary_plot}")
    return outcome
