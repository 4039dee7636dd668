"""Where halo-forge keeps files between runs (no torch: verifier workers import this too)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "HALO_FORGE_CACHE_DIR"
#: Every training run's log (SFT and RAFT share its schema), in the run's output directory.
TRAINING_LOG_FILE = "training_log.json"
#: TensorBoard event files of a training run, under its output directory.
TENSORBOARD_DIR = "logs"


def cache_root() -> Path:
    """Root of every cache (verification results, precompiled headers, the tiny model).

    `$HALO_FORGE_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/halo-forge`.
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "halo-forge"
