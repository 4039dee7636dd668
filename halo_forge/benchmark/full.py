"""The one baseline -> RAFT -> final orchestrator, behind `benchmark full` and `halo-forge demo`.

    run_full(raft_config, "runs/full", eval_prompts="data/test.jsonl", samples=10)

`run_pipeline` benchmarks the start model, runs RAFT, benchmarks the last cycle's model and
writes the summary; `run_full` is `benchmark full`'s layout and defaults over it, and the demo
calls it after its data and SFT stages with its own preset. The layout of the output is the
state, as in a RAFT run, so running the same call again resumes: a benchmark whose result file
holds a run of the same settings is read back instead of run, and RAFT skips its finished
cycles by itself. `benchmark full` lays its files out as

    output_dir/baseline.json (+ .samples.jsonl)   the start model on the evaluation prompts
    output_dir/raft/                              the RAFT run (cycle_N/, training_log.json, ...)
    output_dir/raft/training_log.png              `raft report` plot of the cycles
    output_dir/final.json (+ .samples.jsonl)      the last cycle's model, same prompts, settings
    output_dir/summary.json, summary.png          one row per stage (`stages`)

Both benchmarks use the run's top-level verifier and the same sampling settings, so baseline
and final differ only in the weights. The cycle rows come from RAFT's own verification of its
training samples (training prompts, RAFT temperature), so they show the trend, not a benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.benchmark.results import BenchmarkResult, load_result
from halo_forge.benchmark.run import DEFAULT_SEED, check_samples_cover_k, run_benchmark
from halo_forge.benchmark.stages import StageMetrics, write_stage_summary
from halo_forge.config.grpo import GRPOConfig
from halo_forge.config.models import BenchmarkConfig, RAFTConfig
from halo_forge.data.jsonl import PathLike
from halo_forge.errors import ConfigError
from halo_forge.raft.cycle_training import release_memory
from halo_forge.raft.loop import RAFTTrainer
from halo_forge.raft.plots import plot_training_log
from halo_forge.raft.stats import CycleStats

BASELINE_RESULT = "baseline.json"
FINAL_RESULT = "final.json"
RAFT_DIR = "raft"
#: pass@k values reported when none are given: those of 1, 5, 10 that `samples` can estimate.
DEFAULT_K = (1, 5, 10)

SAME_PROMPTS_NOTE = (
    "the evaluation prompts are the training prompts: the gain shown is not a held-out gain; "
    "pass --eval-prompts with prompts RAFT did not train on"
)
CYCLE_ROWS_NOTE = (
    "raft cycle rows are RAFT's verification of its own samples (training prompts, RAFT "
    "sampling settings); baseline and final are benchmarks of the evaluation prompts"
)


@dataclass(frozen=True)
class PipelineFiles:
    """Where a pipeline run keeps its benchmark results, its RAFT run and its summary."""

    summary_dir: Path
    baseline: Path
    final: Path
    raft_dir: Path

    @classmethod
    def under(cls, output_dir: PathLike) -> PipelineFiles:
        """`benchmark full`'s layout (module docstring)."""
        output = Path(output_dir)
        return cls(output, output / BASELINE_RESULT, output / FINAL_RESULT, output / RAFT_DIR)


@dataclass(frozen=True)
class StageNames:
    """What the summary calls each stage (`{cycle}`: the cycle's number, `{cycles}`: how many
    ran), and whether a cycle row shows RAFT's own rates.

    A summary of held-out benchmarks (the demo's) leaves the cycle rates out: they are rates on
    the training prompts and would read as held-out numbers in the same plot.
    """

    baseline: str = "baseline"
    cycle: str = "raft cycle {cycle}"
    final: str = "final"
    cycle_rates: bool = True

    def cycle_row(self, stats: CycleStats) -> StageMetrics:
        """The summary row of one RAFT cycle."""
        return StageMetrics(
            stage=self.cycle.format(cycle=stats.cycle),
            pass_rate=stats.pass_rate if self.cycle_rates else None,
            compile_rate=stats.compile_rate if self.cycle_rates else None,
            kept=stats.kept,
            train_loss=stats.train_loss,
            seconds=stats.seconds,
        )


@dataclass(frozen=True)
class FullRunResult:
    """What a pipeline run wrote: the summary files, the RAFT plot, the last model, the stages,
    and the two benchmark results."""

    summary: Path
    summary_plot: Path
    training_plot: Path
    final_checkpoint: Path
    stages: list[StageMetrics]
    baseline: BenchmarkResult
    final: BenchmarkResult


def run_pipeline(
    config: RAFTConfig | GRPOConfig,
    evaluation: BenchmarkConfig,
    files: PipelineFiles,
    *,
    seed: int = DEFAULT_SEED,
    names: StageNames | None = None,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
    device: str | None = None,
    dtype: str | None = None,
    force: bool = False,
) -> FullRunResult:
    """Benchmark the start model, run RAFT, benchmark the last model, and summarize; resumable.

    `config` is the RAFT run (start model, training prompts, verifier, cycles, sampling), or a
    GRPO run in its place (`GRPOConfig`); its `output_dir` is replaced by `files.raft_dir`.
    `evaluation` is how both benchmarks run
    (prompts, verifier, samples, k, sampling), with `seed`; its `model` and `output` are set
    per stage. `title` and `extra` go to the summary (`extra` adds or replaces top-level keys).
    `force` lets RAFT resume a run made with other settings (`RAFTTrainer`). Every verifier is built and every prompt checked before the baseline samples anything.
    """
    start_model = config.sft_checkpoint or config.model
    if start_model is None or config.prompts is None or evaluation.prompts is None:
        raise ConfigError("a pipeline run needs a start model and prompts: --model and --prompts")
    names = names or StageNames()
    same_prompts = Path(evaluation.prompts).resolve() == Path(config.prompts).resolve()
    if same_prompts:
        ui.echo(f"note: {SAME_PROMPTS_NOTE}", style="yellow")

    def benchmark_settings(model: str, output: Path) -> BenchmarkConfig:
        return evaluation.model_copy(update={"model": model, "output": str(output)})

    baseline_settings = benchmark_settings(start_model, files.baseline)
    check_samples_cover_k(baseline_settings)  # before hours of RAFT, not at the final benchmark
    raft_config = config.model_copy(deep=True)
    raft_config.output_dir = str(files.raft_dir)
    if isinstance(raft_config, GRPOConfig):  # GRPO in RAFT's place; trl loads only here
        from halo_forge.grpo.trainer import GRPORunner

        trainer = GRPORunner(config=raft_config, device=device, dtype=dtype, force=force)
    else:
        trainer = RAFTTrainer(config=raft_config, device=device, dtype=dtype, force=force)
    # The baseline checks its held-out prompts itself, before it generates.
    trainer.check_prompts(config.prompts)
    baseline = _benchmark_stage("baseline", baseline_settings, seed)

    if isinstance(trainer, RAFTTrainer):
        ui.echo(f"RAFT: {raft_config.raft.num_cycles} cycle(s) in {raft_config.output_dir}")
        raft = trainer.run(config.prompts)
        training_plot = plot_training_log(raft_config.output_dir)
        cycles, rows = len(raft.cycles), [names.cycle_row(stats) for stats in raft.cycles]
    else:  # `cycles` counts GRPO's optimizer steps; its rows are per step, in its own plot
        ui.echo(f"GRPO: {raft_config.output_dir}")
        raft = trainer.run(config.prompts)
        training_plot, cycles, rows = trainer.plot(), raft.steps, []
    final_settings = benchmark_settings(str(raft.final_checkpoint), files.final)
    final = _benchmark_stage("final", final_settings, seed)

    stages = [
        StageMetrics.from_result(names.baseline, baseline, seconds=baseline.timing.total),
        *rows,
        StageMetrics.from_result(names.final.format(cycles=cycles), final, final.timing.total),
    ]
    notes = [SAME_PROMPTS_NOTE] if same_prompts else []
    summary_extra: dict[str, Any] = {
        "model": start_model,
        "verifier": config.verifier.type,
        "train_prompts": config.prompts,
        "eval_prompts": evaluation.prompts,
        "eval_prompts_are_train_prompts": same_prompts,
        "cycles": cycles,
        "final_checkpoint": str(raft.final_checkpoint),
        "results": {
            "baseline": _relative(files.baseline, files.summary_dir),
            "final": _relative(files.final, files.summary_dir),
        },
        "training_plot": _relative(training_plot, files.summary_dir),
        "notes": [*notes, CYCLE_ROWS_NOTE] if names.cycle_rates else notes,
        **(extra or {}),
    }
    summary, summary_plot = write_stage_summary(
        stages,
        files.summary_dir,
        title=title or f"{start_model}: baseline, {cycles} RAFT cycle(s), final",
        extra=summary_extra,
    )
    return FullRunResult(
        summary, summary_plot, training_plot, raft.final_checkpoint, stages, baseline, final
    )


def run_full(
    config: RAFTConfig,
    output_dir: PathLike,
    *,
    eval_prompts: str | None = None,
    samples: int = 10,
    k: list[int] | None = None,
    device: str | None = None,
    dtype: str | None = None,
) -> FullRunResult:
    """`benchmark full`: `run_pipeline` in `output_dir`'s layout (module docstring).

    `eval_prompts` defaults to the training prompts, which the summary then flags. `samples`
    is n per evaluation prompt and `k` the pass@k values (default: those of 1, 5, 10 not above
    n); both benchmarks sample as RAFT does (backend, top_p, max_new_tokens, batch_size).
    """
    evaluation = BenchmarkConfig(
        prompts=eval_prompts or config.prompts,
        verifier=config.verifier,
        samples=samples,
        k=k or [value for value in DEFAULT_K if value <= samples],
        top_p=config.generation.top_p,
        max_new_tokens=config.generation.max_new_tokens,
        batch_size=config.generation.batch_size,
        backend=config.generation.backend,
        vllm=config.generation.vllm,
        openai=config.generation.openai,
    )
    files = PipelineFiles.under(output_dir)
    return run_pipeline(config, evaluation, files, device=device, dtype=dtype)


def _relative(path: Path, directory: Path) -> str:
    """`path` as the summary names it: relative to the summary's directory when inside it."""
    return str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)


def _benchmark_stage(stage: str, settings: BenchmarkConfig, seed: int) -> BenchmarkResult:
    """Run one benchmark stage, or read it back when its file holds a run of the same settings.

    The settings recorded in the result (model path included) must match: after more cycles the
    final model is another adapter, and its old result must not stand for it.
    """
    path = Path(settings.output)
    expected = {**settings.model_dump(mode="json"), "seed": seed}
    outdated = False
    if path.is_file():
        previous = load_result(path)
        if previous.config == expected:
            ui.echo(f"{stage}: finished earlier, skipped (read from {path})")
            return previous
        ui.echo(f"{stage}: {path} was made with other settings; running it again")
        outdated = True
    ui.echo(f"{stage}: benchmarking {settings.model} on {settings.prompts}")
    # An outdated stage's files are of the other settings: they are started over, not resumed.
    result = run_benchmark(settings, seed=seed, force=outdated)
    release_memory()  # the sampled model is garbage now; RAFT loads its own
    return result
