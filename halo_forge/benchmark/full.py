"""`benchmark full`: baseline benchmark -> RAFT for N cycles -> final benchmark -> summary.

    run_full(raft_config, "runs/full", eval_prompts="data/test.jsonl", samples=10)

The layout of `output_dir` is the state, as in a RAFT run, so running the same call again
resumes: a benchmark whose result file exists with the same settings is read back instead of
run, and RAFT skips its finished cycles by itself.

    output_dir/baseline.json (+ .samples.jsonl)   the start model on the evaluation prompts
    output_dir/raft/                              the RAFT run (cycle_N/, training_log.json, ...)
    output_dir/raft/training_log.png              `raft report` plot of the cycles
    output_dir/final.json (+ .samples.jsonl)      the last cycle's adapter, same prompts, settings
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
from halo_forge.benchmark.run import (
    DEFAULT_SEED,
    check_samples_cover_k,
    run_benchmark,
)
from halo_forge.benchmark.stages import StageMetrics, write_stage_summary
from halo_forge.config.models import BenchmarkConfig, RAFTConfig
from halo_forge.data.jsonl import PathLike
from halo_forge.errors import ConfigError
from halo_forge.raft.plots import plot_training_log
from halo_forge.raft.trainer import RAFTTrainer, release_memory

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
class FullRunResult:
    """What a full run wrote: the summary files, the RAFT plot, the last adapter, the stages."""

    summary: Path
    summary_plot: Path
    training_plot: Path
    final_checkpoint: Path
    stages: list[StageMetrics]


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
    """Benchmark the start model, run RAFT, benchmark the last adapter, and summarize; resumable.

    `config` is the RAFT run (start model, training prompts, verifier, cycles, sampling); its
    `output_dir` is replaced by `output_dir/raft`. `eval_prompts` defaults to the training
    prompts, which the summary then flags. `samples` is n per evaluation prompt and `k` the
    pass@k values (default: those of 1, 5, 10 not above n).
    """
    start_model = config.sft_checkpoint or config.model
    if start_model is None or config.prompts is None:
        raise ConfigError(
            "benchmark full needs a start model and prompts: pass --model and --prompts"
        )
    output_dir = Path(output_dir)
    evaluation_prompts = eval_prompts or config.prompts
    same_prompts = Path(evaluation_prompts).resolve() == Path(config.prompts).resolve()
    if same_prompts:
        ui.echo(f"note: {SAME_PROMPTS_NOTE}", style="yellow")
    k_values = k or [value for value in DEFAULT_K if value <= samples]

    def benchmark_settings(model: str, result_file: str) -> BenchmarkConfig:
        return BenchmarkConfig(
            model=model,
            prompts=evaluation_prompts,
            verifier=config.verifier,
            samples=samples,
            k=k_values,
            top_p=config.generation.top_p,
            max_new_tokens=config.generation.max_new_tokens,
            batch_size=config.generation.batch_size,
            output=str(output_dir / result_file),
        )

    baseline_settings = benchmark_settings(start_model, BASELINE_RESULT)
    check_samples_cover_k(baseline_settings)  # before hours of RAFT, not at the final benchmark
    raft_config = config.model_copy(deep=True)
    raft_config.output_dir = str(output_dir / RAFT_DIR)
    trainer = RAFTTrainer(config=raft_config, device=device, dtype=dtype)
    # Every verifier built and every prompt checked before the baseline samples anything
    # (the baseline checks its held-out prompts itself, before it generates).
    trainer.check_prompts(raft_config.prompts)
    baseline = _benchmark_stage("baseline", baseline_settings)

    ui.echo(f"RAFT: {raft_config.raft.num_cycles} cycle(s) in {raft_config.output_dir}")
    raft = trainer.run(raft_config.prompts)
    training_plot = plot_training_log(raft_config.output_dir)

    final = _benchmark_stage("final", benchmark_settings(str(raft.final_checkpoint), FINAL_RESULT))

    stages = [
        StageMetrics.from_result("baseline", baseline, seconds=baseline.timing.total),
        *(_cycle_stage(row) for row in raft.cycles),
        StageMetrics.from_result("final", final, seconds=final.timing.total),
    ]
    extra: dict[str, Any] = {
        "model": start_model,
        "verifier": config.verifier.type,
        "train_prompts": config.prompts,
        "eval_prompts": evaluation_prompts,
        "eval_prompts_are_train_prompts": same_prompts,
        "cycles": len(raft.cycles),
        "final_checkpoint": str(raft.final_checkpoint),
        "results": {"baseline": BASELINE_RESULT, "final": FINAL_RESULT},
        "training_plot": str(training_plot.relative_to(output_dir)),
        "notes": [SAME_PROMPTS_NOTE, CYCLE_ROWS_NOTE] if same_prompts else [CYCLE_ROWS_NOTE],
    }
    title = f"{start_model}: baseline, {len(raft.cycles)} RAFT cycle(s), final"
    summary, summary_plot = write_stage_summary(stages, output_dir, title=title, extra=extra)
    return FullRunResult(summary, summary_plot, training_plot, raft.final_checkpoint, stages)


def _benchmark_stage(stage: str, settings: BenchmarkConfig) -> BenchmarkResult:
    """Run one benchmark stage, or read it back when its file holds a run of the same settings.

    The settings recorded in the result (model path included) must match: after more cycles the
    final model is another adapter, and its old result must not stand for it.
    """
    path = Path(settings.output)
    expected = {**settings.model_dump(mode="json"), "seed": DEFAULT_SEED}
    outdated = False
    if path.is_file():
        previous = load_result(path)
        if previous.config == expected:
            ui.echo(f"{stage}: finished earlier, read from {path}")
            return previous
        ui.echo(f"{stage}: {path} was made with other settings; running it again")
        outdated = True
    ui.echo(f"{stage}: benchmarking {settings.model} on {settings.prompts}")
    # An outdated stage's files are of the other settings: they are started over, not resumed.
    result = run_benchmark(settings, seed=DEFAULT_SEED, force=outdated)
    release_memory()  # the sampled model is garbage now; RAFT loads its own
    return result


def _cycle_stage(row: dict[str, Any]) -> StageMetrics:
    """The summary row of one RAFT cycle (its `training_log.json` row)."""
    timings = [
        row[key]
        for key in ("generation_seconds", "verification_seconds", "training_seconds")
        if row.get(key) is not None
    ]
    return StageMetrics(
        stage=f"raft cycle {row['cycle']}",
        pass_rate=row.get("pass_rate"),
        compile_rate=row.get("compile_rate"),
        pass_at_k={},
        kept=row.get("kept"),
        train_loss=row.get("train_loss"),
        seconds=sum(timings) if timings else None,
    )
