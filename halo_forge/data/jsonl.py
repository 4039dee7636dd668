"""The one JSONL reader and writer.

Files on disk are the interface between pipeline stages, so reading and writing them has one
implementation with two promises:
- a broken line is reported with the file name and line number, never swallowed (also inside a
  gzip-compressed `.jsonl.gz`, which is read as it is: datasets are often distributed that way,
  HumanEval among them);
- a file that exists under its final name is complete: whole-file writes go to a temporary
  file that is renamed into place, and long jobs append line by line with a flush and fsync
  per batch, so a kill loses at most the batch in flight and never leaves a torn line behind
  (a torn last line from a crash is detected and dropped on resume).
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from halo_forge.errors import DataError
from halo_forge.files import PathLike, replacing_file, write_json

__all__ = [
    "GZIP_SUFFIX",
    "JsonlAppender",
    "PathLike",
    "iter_jsonl",
    "read_jsonl",
    "write_json",
    "write_jsonl",
]

#: A file whose name ends with this is read through gzip.
GZIP_SUFFIX = ".gz"


def _open_text(path: Path) -> TextIO:
    """The file as UTF-8 text, decompressed on the fly when its name ends with `.gz`."""
    if path.name.endswith(GZIP_SUFFIX):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def iter_jsonl(
    path: PathLike,
    *,
    skip_invalid: bool = False,
    on_invalid: Callable[[int, str], None] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream `(line_number, object)` pairs; blank lines are ignored.

    A line that is not a JSON object raises `DataError` naming file and line, unless
    `skip_invalid` is set: then it is skipped and `on_invalid(line_number, reason)` is told,
    so callers can report every skipped line. A `.gz` file is decompressed as it is read, so
    line numbers are those of the uncompressed text.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    line_number = 0
    with _open_text(path) as handle:
        try:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                    problem = None
                except json.JSONDecodeError as error:
                    problem = f"invalid JSON ({error.msg} at column {error.colno})"
                if problem is None and not isinstance(value, dict):
                    problem = f"expected a JSON object, got {type(value).__name__}"
                if problem is None:
                    yield line_number, value
                elif skip_invalid:
                    if on_invalid is not None:
                        on_invalid(line_number, problem)
                else:
                    raise DataError(
                        f"{path}:{line_number}: {problem}; each line must hold one JSON object"
                    )
        except UnicodeDecodeError as error:
            raise DataError(f"{path}: not UTF-8 text ({error.reason}); save it as UTF-8") from None
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise DataError(
                f"{path}: unreadable gzip data after {line_number} lines ({error}); check it "
                f"with `gzip -t {path}` and download it again, or drop the {GZIP_SUFFIX} suffix "
                "if the file is plain text"
            ) from None


def read_jsonl(path: PathLike) -> list[dict[str, Any]]:
    """All objects of a JSONL file (raises `DataError` on the first broken line)."""
    return [value for _, value in iter_jsonl(path)]


def write_jsonl(path: PathLike, records: Iterable[dict[str, Any]]) -> int:
    """Write `records` atomically (temporary file + rename); returns the number written."""
    count = 0
    with replacing_file(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


class JsonlAppender:
    """Append records to a JSONL file that a long job fills batch by batch and may resume.

    On open, a torn last line (a crash mid-write) is cut off so the file again holds only
    complete records; `existing` returns what is already there, so the job skips that work.
    Call `append_batch` per batch: the batch is flushed and fsynced before it returns.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._truncate_torn_tail()
        self._handle = self.path.open("a", encoding="utf-8")

    def _truncate_torn_tail(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        with self.path.open("r+b") as handle:
            handle.truncate(keep)

    def existing(self) -> list[dict[str, Any]]:
        """Records already in the file (complete lines only)."""
        if not self.path.exists():
            return []
        return read_jsonl(self.path)

    def append_batch(self, records: Iterable[dict[str, Any]]) -> int:
        count = 0
        for record in records:
            self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return count

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
