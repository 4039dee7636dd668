"""Where halo-forge keeps files between runs (no torch: verifier workers import this too)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_DIR_ENV = "HALO_FORGE_CACHE_DIR"


def cache_root() -> Path:
    """Root of every cache (verification results, precompiled headers, the tiny model).

    `$HALO_FORGE_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/halo-forge`.
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "halo-forge"


@contextmanager
def replacing_directory(target: Path) -> Iterator[Path]:
    """A staging directory beside `target` that replaces it, whole, when the block succeeds.

    The rename is the commit point: a killed or failed write leaves `target` as it was (the
    staging directory is removed), never a half-written directory that looks finished.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
