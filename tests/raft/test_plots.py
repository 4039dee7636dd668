"""`raft report`: a training_log.json written here -> a decodable PNG and the per-cycle table."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import pytest
from rich.console import Console
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli import raft_cmd
from halo_forge.errors import DataError
from halo_forge.paths import TRAINING_LOG_FILE
from halo_forge.raft.plots import TRAINING_PLOT_FILE, plot_training_log, training_log_table
from halo_forge.raft.stats import CycleStats
from halo_forge.raft.training_log import read_training_log

NUMBERS = [
    (1, 0.25, 0.5, 3, 5e-5, 1.8),
    (2, 0.5, 0.75, 0, 4e-5, None),
    (3, 0.625, 1.0, 6, 3e-5, 0.9123),
]
#: Rows as RAFT wrote them before `by_language` existed (and without timings: resumed cycles).
ROWS = [
    {"cycle": cycle, "prompts": 2, "samples": 8, "pass_rate": pass_rate,
     "compile_rate": compile_rate, "mean_reward": 0.5, "reward_histogram": {"1": 2, "0": 6},
     "correct_samples": 2, "unique_samples": 8, "candidates": kept, "kept": kept,
     "effective_threshold": 1.0, "reward_threshold": 1.0, "keep_top_percent": 1.0,
     "learning_rate": learning_rate, "train_loss": loss, "grad_norm": None,
     "checkpoint": f"run/cycle_{cycle}_final"}
    for cycle, pass_rate, compile_rate, kept, learning_rate, loss in NUMBERS
]  # fmt: skip


def _run_dir(tmp_path: Path, log: object = None) -> Path:
    """A run directory whose log is `log`, by default the current form holding `ROWS`."""
    document = {"train": [], "eval": [], "summary": {}, "cycles": ROWS} if log is None else log
    (tmp_path / TRAINING_LOG_FILE).write_text(json.dumps(document))
    return tmp_path


def test_plot_is_a_decodable_png_beside_the_log(tmp_path: Path) -> None:
    path = plot_training_log(_run_dir(tmp_path))

    assert path == tmp_path / TRAINING_PLOT_FILE
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = matplotlib.image.imread(path).shape
    assert width > 300 and height > 100


def test_table_has_one_line_per_cycle_and_a_dash_for_no_loss(tmp_path: Path) -> None:
    console = Console(width=200, record=True)
    console.print(training_log_table(read_training_log(_run_dir(tmp_path))))
    body = [line for line in console.export_text().splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in line.strip("│").split("│")] for line in body]

    assert cells == [
        ["1", "25.0%", "50.0%", "3", "5.00e-05", "1.8000"],
        ["2", "50.0%", "75.0%", "0", "4.00e-05", "-"],
        ["3", "62.5%", "100.0%", "6", "3.00e-05", "0.9123"],
    ]


def test_missing_log_names_the_command_that_writes_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="raft train"):
        read_training_log(tmp_path)


def test_a_log_of_an_earlier_version_a_bare_list_of_rows_still_loads(tmp_path: Path) -> None:
    rows = read_training_log(_run_dir(tmp_path, ROWS))

    assert rows == [CycleStats.from_json(row) for row in ROWS]
    assert [row.train_loss for row in rows] == [1.8, None, 0.9123]


@pytest.mark.parametrize(
    "log", [[], {"cycles": []}, {"cycle": 1}, [{"pass_rate": 0.5}], {"train": []}]
)
def test_log_without_cycle_rows_is_refused(tmp_path: Path, log: object) -> None:
    with pytest.raises(DataError, match=r"training_log\.json"):
        read_training_log(_run_dir(tmp_path, log))


def test_report_command_prints_the_cycles_and_writes_the_plot(tmp_path: Path) -> None:
    ui.set_quiet(False)  # bind the console to this invocation's captured stdout
    outcome = CliRunner().invoke(raft_cmd.app, ["report", str(_run_dir(tmp_path))])

    assert outcome.exit_code == 0, outcome.output
    assert "RAFT cycles" in outcome.output and "62.5%" in outcome.output
    assert (tmp_path / TRAINING_PLOT_FILE).is_file()


def test_report_command_on_a_directory_without_a_run_fails(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(raft_cmd.app, ["report", str(tmp_path)])

    assert isinstance(outcome.exception, DataError)
    assert not (tmp_path / TRAINING_PLOT_FILE).exists()
