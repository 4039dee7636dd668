"""`raft report`: a run's `training_log.json` as a PNG and a table, one point (row) per cycle.

Both read only the log file, so a report can be drawn for a finished or interrupted run, on a
machine without the model, and never loads torch. A number a cycle did not record (no training
when nothing was kept: no loss) is left out of the plot and shown as "-".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from halo_forge.data.jsonl import PathLike
from halo_forge.errors import DataError

#: The run's log, one row per cycle (written by `RAFTTrainer.run`).
RUN_LOG_FILE = "training_log.json"
#: Where `plot_training_log` puts the plot, beside the log.
TRAINING_PLOT_FILE = "training_log.png"


def read_training_log(output_dir: PathLike) -> list[dict[str, Any]]:
    """The per-cycle rows of the RAFT run in `output_dir`; DataError says what is missing."""
    path = Path(output_dir) / RUN_LOG_FILE
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{path}: no training log; pass the --output directory of `halo-forge raft train` "
            "after at least one cycle finished"
        ) from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(rows, list) or not all(
        isinstance(row, dict) and "cycle" in row for row in rows
    ):
        raise DataError(f"{path}: expected a JSON list of per-cycle rows, each with a `cycle`")
    if not rows:
        raise DataError(f"{path}: no cycle has finished yet; nothing to report")
    return rows


def _points(rows: list[dict[str, Any]], key: str, scale: float = 1.0) -> tuple[list, list]:
    pairs = [(row["cycle"], scale * row[key]) for row in rows if row.get(key) is not None]
    return [cycle for cycle, _ in pairs], [value for _, value in pairs]


def plot_training_log(output_dir: PathLike) -> Path:
    """Write `output_dir/training_log.png`: pass and compile rate, kept samples and train loss
    per cycle, in three panels (their units differ); returns its path."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    rows = read_training_log(output_dir)
    cycles = [row["cycle"] for row in rows]
    figure, (rates_axes, kept_axes, loss_axes) = plt.subplots(1, 3, figsize=(13.0, 4.0))
    for key, label in (("pass_rate", "pass rate"), ("compile_rate", "compile rate")):
        rates_axes.plot(*_points(rows, key, 100.0), marker="o", label=label)
    rates_axes.set_ylim(0, 100)
    rates_axes.set_ylabel("percent of samples")
    rates_axes.set_title("pass and compile rate")
    rates_axes.legend()
    kept_axes.bar(*_points(rows, "kept"))
    kept_axes.set_title("kept samples")
    kept_axes.yaxis.get_major_locator().set_params(integer=True)
    loss_axes.plot(*_points(rows, "train_loss"), marker="o", color="tab:red")
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


def _cell(value: Any, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def training_log_table(rows: list[dict[str, Any]]) -> Table:
    """One line per cycle: pass and compile rate, kept samples, learning rate and train loss."""
    table = Table(title="RAFT cycles")
    for column in ("cycle", "pass rate", "compile rate", "kept", "learning rate", "train loss"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["cycle"]),
            _cell(row.get("pass_rate"), ".1%"),
            _cell(row.get("compile_rate"), ".1%"),
            _cell(row.get("kept"), "d"),
            _cell(row.get("learning_rate"), ".2e"),
            _cell(row.get("train_loss"), ".4f"),
        )
    return table
