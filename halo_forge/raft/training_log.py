"""The RAFT run's `training_log.json`: the same file name and schema as an SFT run's.

SFT writes `OUTPUT/training_log.json` as `{"train": [...], "eval": [...], "summary": {...}}`
(`halo_forge.training.hf_trainer`), one `train` entry per logging step. A RAFT run writes the same
keys, so one reader serves both: `train` holds every cycle's logging steps (each entry with its
`cycle`, since steps restart at each cycle), `eval` is empty (a cycle has no validation set),
`summary` names the last cycle and its checkpoint, and `cycles` adds one `CycleStats` row per
finished cycle. Runs of earlier versions wrote the bare list of rows; they still load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from halo_forge.data.jsonl import PathLike, write_json
from halo_forge.errors import DataError
from halo_forge.paths import TRAINING_LOG_FILE
from halo_forge.raft.cycle import CyclePaths
from halo_forge.raft.stats import CycleStats


def cycle_training_log(paths: CyclePaths) -> dict[str, Any]:
    """The log of the cycle's own training (`cycle_N/train/training_log.json`); {} if none ran."""
    log_path = paths.train_dir / TRAINING_LOG_FILE
    if not log_path.is_file():
        return {}
    return json.loads(log_path.read_text(encoding="utf-8"))


def training_numbers(paths: CyclePaths) -> dict[str, float | None]:
    """The cycle's final train loss and last gradient norm (None when it did not train)."""
    log = cycle_training_log(paths)
    norms = [entry["grad_norm"] for entry in log.get("train", []) if "grad_norm" in entry]
    return {
        "train_loss": log.get("summary", {}).get("train_loss"),
        "grad_norm": norms[-1] if norms else None,
    }


def write_training_log(output_dir: Path, cycles: Sequence[CycleStats]) -> Path:
    """Rewrite `output_dir/training_log.json` from the finished cycles (atomically)."""
    steps = [
        {"cycle": stats.cycle, **entry}
        for stats in cycles
        for entry in cycle_training_log(CyclePaths(output_dir, stats.cycle)).get("train", [])
    ]
    last = cycles[-1] if cycles else None
    document = {
        "train": steps,
        "eval": [],
        "summary": {
            "cycle": None if last is None else last.cycle,
            "final_checkpoint": None if last is None else last.checkpoint,
        },
        "cycles": [stats.to_json() for stats in cycles],
    }
    path = output_dir / TRAINING_LOG_FILE
    write_json(path, document)
    return path


def read_training_log(output_dir: PathLike) -> list[CycleStats]:
    """The per-cycle rows of the RAFT run in `output_dir`; DataError says what is missing."""
    path = Path(output_dir) / TRAINING_LOG_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{path}: no training log; pass the --output directory of `halo-forge raft train` "
            "after at least one cycle finished"
        ) from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    rows = document.get("cycles") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not all(
        isinstance(row, dict) and "cycle" in row for row in rows
    ):
        raise DataError(
            f"{path}: expected the log of a RAFT run, with a `cycles` list of per-cycle rows"
        )
    if not rows:
        raise DataError(f"{path}: no cycle has finished yet; nothing to report")
    try:
        return [CycleStats.from_json(row) for row in rows]
    except TypeError as error:
        raise DataError(f"{path}: a cycle row lacks a number ({error})") from None
