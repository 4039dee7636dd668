"""Writing files and directories so that a kill never leaves a half-written one that looks done.

Files on disk are the interface between stages, and a later run trusts whatever exists under a
final name (resume skips finished work). So every whole-file or whole-directory write goes to a
temporary sibling that is renamed into place only when complete: the rename is the commit
point. No torch, no halo-forge imports: every layer, verifier workers included, may use this.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

PathLike = str | os.PathLike[str]


@contextmanager
def replacing_file(path: PathLike) -> Iterator[TextIO]:
    """A UTF-8 text handle on a temporary file beside `path` that replaces it when the block ends.

    The content is flushed and fsynced before the rename, so after a crash `path` holds either
    the old or the new content, whole. A failed block removes the temporary file and leaves
    `path` as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: PathLike, value: Any) -> None:
    """Write one JSON document atomically (stats, summaries, fingerprints, training logs)."""
    with replacing_file(path) as handle:
        json.dump(value, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


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
