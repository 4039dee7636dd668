"""`raft report`: a run's `training_log.json` as a PNG and a table, one point (row) per cycle.

Both read only the log file (`training_log`), so a report can be drawn for a finished or
interrupted run, on a machine without the model. A number a cycle did not record (no training
when nothing was kept: no loss) is left out of the plot and shown as "-".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from halo_forge.data.jsonl import PathLike
from halo_forge.raft.stats import CycleStats
from halo_forge.raft.training_log import read_training_log

#: Where `plot_training_log` puts the plot, beside the log.
TRAINING_PLOT_FILE = "training_log.png"


def _points(
    rows: list[CycleStats], value: Callable[[CycleStats], float | None], scale: float = 1.0
) -> tuple[list[int], list[float]]:
    pairs = [(row.cycle, scale * number) for row in rows if (number := value(row)) is not None]
    return [cycle for cycle, _ in pairs], [number for _, number in pairs]


def plot_training_log(output_dir: PathLike) -> Path:
    """Write `output_dir/training_log.png`: pass and compile rate, kept samples and train loss
    per cycle, in three panels (their units differ); returns its path."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    rows = read_training_log(output_dir)
    cycles = [row.cycle for row in rows]
    figure, (rates_axes, kept_axes, loss_axes) = plt.subplots(1, 3, figsize=(13.0, 4.0))
    rates = (
        ("pass rate", lambda row: row.pass_rate),
        ("compile rate", lambda row: row.compile_rate),
    )
    for label, rate in rates:
        rates_axes.plot(*_points(rows, rate, 100.0), marker="o", label=label)
    rates_axes.set_ylim(0, 100)
    rates_axes.set_ylabel("percent of samples")
    rates_axes.set_title("pass and compile rate")
    rates_axes.legend()
    kept_axes.bar(*_points(rows, lambda row: row.kept))
    kept_axes.set_title("kept samples")
    kept_axes.yaxis.get_major_locator().set_params(integer=True)
    loss_axes.plot(*_points(rows, lambda row: row.train_loss), marker="o", color="tab:red")
    loss_axes.set_title("train loss")
    for axes in (rates_axes, kept_axes, loss_axes):
        axes.set_xlabel("cycle")
        axes.set_xticks(cycles)
    figure.suptitle(f"RAFT run {output_dir}")
    figure.tight_layout()
    path = Path(output_dir) / TRAINING_PLOT_FILE
    figure.savefig(path, format="png")
    plt.close(figure)
    return path


def _cell(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def training_log_table(rows: list[CycleStats]) -> Table:
    """One line per cycle: pass and compile rate, kept samples, learning rate and train loss."""
    table = Table(title="RAFT cycles")
    for column in ("cycle", "pass rate", "compile rate", "kept", "learning rate", "train loss"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row.cycle),
            _cell(row.pass_rate, ".1%"),
            _cell(row.compile_rate, ".1%"),
            str(row.kept),
            _cell(row.learning_rate, ".2e"),
            _cell(row.train_loss, ".4f"),
        )
    return table
