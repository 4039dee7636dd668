"""What a finished RAFT cycle shows: a table in the terminal, TensorBoard scalars, a warning.

All three read the same `stats.json` row, so the terminal, the log file and TensorBoard never
disagree. Scalars go to `OUTPUT/tensorboard` with the cycle number as the step.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.table import Table

TENSORBOARD_DIR = "tensorboard"
#: What a cycle that kept no sample did instead of training (its model carries over unchanged).
NOTHING_KEPT = "nothing kept: training skipped"

#: Stats keys written as TensorBoard scalars, under `raft/<key>`.
SCALAR_KEYS = (
    "pass_rate",
    "compile_rate",
    "mean_reward",
    "kept",
    "effective_threshold",
    "learning_rate",
    "train_loss",
    "grad_norm",
    "generation_seconds",
    "generation_tokens_per_second",
    "verification_seconds",
    "verification_samples_per_second",
    "training_seconds",
    "training_tokens_per_second",
)


def _number(value: Any, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def _stage(stats: Mapping[str, Any], stage: str, rate_key: str, unit: str) -> str:
    """How long a stage took and how fast it went, or why it has no timing."""
    if stage == "training" and stats["kept"] == 0:
        return NOTHING_KEPT
    seconds = stats.get(f"{stage}_seconds")
    if seconds is None:
        return "resumed (done earlier)"
    return f"{seconds:.1f}s, {_number(stats.get(rate_key), '.1f')} {unit}"


def cycle_table(stats: Mapping[str, Any]) -> Table:
    """The end-of-cycle summary table of one `stats.json` row."""
    table = Table(title=f"RAFT cycle {stats['cycle']}", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value")
    histogram = "  ".join(
        f"{reward}: {count}" for reward, count in stats["reward_histogram"].items()
    )
    rows = (
        ("samples", f"{stats['samples']} ({stats['prompts']} prompts)"),
        ("pass rate", f"{stats['pass_rate']:.1%}"),
        ("compile rate", f"{stats['compile_rate']:.1%}"),
        ("reward histogram", histogram or "-"),
        ("kept (unique)", f"{stats['kept']} of {stats['unique_samples']} unique"),
        (
            "effective threshold",
            f"{stats['effective_threshold']:g} (configured {stats['reward_threshold']:g})",
        ),
        ("keep fraction", f"{stats['keep_top_percent']:.2f}"),
        ("learning rate", f"{stats['learning_rate']:.2e}"),
        ("train loss", _number(stats.get("train_loss"), ".4f")),
        ("grad norm", _number(stats.get("grad_norm"), ".4f")),
        ("generation", _stage(stats, "generation", "generation_tokens_per_second", "tokens/s")),
        (
            "verification",
            _stage(stats, "verification", "verification_samples_per_second", "samples/s"),
        ),
        ("training", _stage(stats, "training", "training_tokens_per_second", "tokens/s")),
    )
    for metric, value in rows:
        table.add_row(metric, value)
    return table


def degradation_warning(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any]
) -> str | None:
    """A warning when this cycle's pass rate fell below the previous cycle's, else None."""
    if previous is None or current["pass_rate"] >= previous["pass_rate"]:
        return None
    return (
        f"pass rate fell from {previous['pass_rate']:.1%} (cycle {previous['cycle']}) to "
        f"{current['pass_rate']:.1%} (cycle {current['cycle']}); consider a lower learning rate "
        "(--lr-decay), a higher --reward-threshold, or stopping at the earlier checkpoint"
    )


def write_scalars(output_dir: str | Path, stats: Mapping[str, Any]) -> None:
    """Add one cycle's numbers to the run's TensorBoard log (step = cycle number)."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(Path(output_dir) / TENSORBOARD_DIR))
    try:
        for key in SCALAR_KEYS:
            value = stats.get(key)
            if value is not None:
                writer.add_scalar(f"raft/{key}", float(value), global_step=int(stats["cycle"]))
    finally:
        writer.close()
