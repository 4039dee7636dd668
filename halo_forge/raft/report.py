"""What a finished RAFT cycle shows: a table in the terminal, TensorBoard scalars, a warning.

All three read the same `CycleStats` record, so the terminal, the log file and TensorBoard
never disagree. Scalars go to `OUTPUT/logs`, the TensorBoard folder of an SFT run too
(`TENSORBOARD_DIR`), with the cycle number as the step.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from halo_forge.paths import TENSORBOARD_DIR
from halo_forge.raft.stats import TIMING_FIELDS, CycleStats

#: What a cycle that kept no sample did instead of training (its model carries over unchanged).
NOTHING_KEPT = "nothing kept: training skipped"

#: `CycleStats` fields written as TensorBoard scalars, under `raft/<field>`.
SCALAR_KEYS = (
    "pass_rate",
    "compile_rate",
    "mean_reward",
    "kept",
    "effective_threshold",
    "learning_rate",
    "train_loss",
    "grad_norm",
    *TIMING_FIELDS,
)


def _number(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def _stage(seconds: float | None, rate: float | None, unit: str) -> str:
    """How long a stage took and how fast it went, or why it has no timing."""
    if seconds is None:
        return "resumed (done earlier)"
    return f"{seconds:.1f}s, {_number(rate, '.1f')} {unit}"


def cycle_table(stats: CycleStats) -> Table:
    """The end-of-cycle summary table of one cycle."""
    table = Table(title=f"RAFT cycle {stats.cycle}", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value")
    histogram = "  ".join(f"{reward}: {count}" for reward, count in stats.reward_histogram.items())
    training = (
        NOTHING_KEPT
        if stats.kept == 0
        else _stage(stats.training_seconds, stats.training_tokens_per_second, "tokens/s")
    )
    rows = (
        ("samples", f"{stats.samples} ({stats.prompts} prompts)"),
        ("pass rate", f"{stats.pass_rate:.1%}"),
        ("compile rate", _number(stats.compile_rate, ".1%")),
        ("reward histogram", histogram or "-"),
        ("kept (unique)", f"{stats.kept} of {stats.unique_samples} unique"),
        (
            "effective threshold",
            f"{stats.effective_threshold:g} (configured {stats.reward_threshold:g})",
        ),
        ("keep fraction", f"{stats.keep_top_percent:.2f}"),
        ("learning rate", f"{stats.learning_rate:.2e}"),
        ("train loss", _number(stats.train_loss, ".4f")),
        ("grad norm", _number(stats.grad_norm, ".4f")),
        (
            "generation",
            _stage(stats.generation_seconds, stats.generation_tokens_per_second, "tokens/s"),
        ),
        (
            "verification",
            _stage(stats.verification_seconds, stats.verification_samples_per_second, "samples/s"),
        ),
        ("training", training),
    )
    for metric, value in rows:
        table.add_row(metric, value)
    return table


def degradation_warning(previous: CycleStats | None, current: CycleStats) -> str | None:
    """A warning when this cycle's pass rate fell below the previous cycle's, else None."""
    if previous is None or current.pass_rate >= previous.pass_rate:
        return None
    return (
        f"pass rate fell from {previous.pass_rate:.1%} (cycle {previous.cycle}) to "
        f"{current.pass_rate:.1%} (cycle {current.cycle}); consider a lower learning rate "
        "(--lr-decay), a higher --reward-threshold, or stopping at the earlier checkpoint"
    )


def write_scalars(output_dir: str | Path, stats: CycleStats) -> None:
    """Add one cycle's numbers to the run's TensorBoard log (step = cycle number)."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(Path(output_dir) / TENSORBOARD_DIR))
    try:
        for key in SCALAR_KEYS:
            value = getattr(stats, key)
            if value is not None:
                writer.add_scalar(f"raft/{key}", float(value), global_step=stats.cycle)
    finally:
        writer.close()
