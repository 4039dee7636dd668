"""Content-addressed on-disk cache of verification results.

RAFT samples the same prompts cycle after cycle and models repeat themselves, so the same
program is verified again and again; benchmarks re-verify whole runs. A result is stored
under the SHA-256 of everything that decides it: the verifier's fingerprint (name, options,
compiler version), the extracted code and the context keys the verifier reads. Any change to
one of them is a different key, so an entry is never stale and never needs invalidating.

Entries live in one SQLite file (many small records, safe for several processes at once):
`$HALO_FORGE_CACHE_DIR/verify/results.sqlite3` if that variable is set, else
`${XDG_CACHE_HOME:-~/.cache}/halo-forge/verify/results.sqlite3`. Delete the file to clear it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from halo_forge.paths import cache_root
from halo_forge.verifiers.result import VerifyResult

#: Bumped when the stored format or the meaning of a result changes, retiring every old entry.
CACHE_FORMAT_VERSION = 1
_SQLITE_MAX_VARIABLES = 500


def default_cache_dir() -> Path:
    """Where verification results (and precompiled headers) are kept between runs."""
    return cache_root() / "verify"


def content_key(
    fingerprint: Mapping[str, Any] | None, code: str, context: Mapping[str, Any]
) -> str:
    """SHA-256 of a verification's inputs: the same inputs always give the same key."""
    payload = json.dumps(
        {
            "format": CACHE_FORMAT_VERSION,
            "verifier": fingerprint,
            "code": code,
            "context": context,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=repr,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResultCache:
    """Results by content key, persisted in SQLite; usable from several threads and processes."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "results.sqlite3"
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False)
        with self._lock, self._connection:
            self._connection.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS results "
                "(key TEXT PRIMARY KEY, result TEXT NOT NULL, stored_at REAL NOT NULL)"
            )

    def get_many(self, keys: Iterable[str]) -> dict[str, VerifyResult]:
        """The stored results among `keys` (missing keys are simply absent)."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, VerifyResult] = {}
        with self._lock:
            for start in range(0, len(unique), _SQLITE_MAX_VARIABLES):
                chunk = unique[start : start + _SQLITE_MAX_VARIABLES]
                placeholders = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT key, result FROM results WHERE key IN ({placeholders})", chunk
                ).fetchall()
                for key, stored in rows:
                    found[key] = VerifyResult.from_dict(json.loads(stored))
        return found

    def get(self, key: str) -> VerifyResult | None:
        return self.get_many([key]).get(key)

    def put_many(self, results: Mapping[str, VerifyResult]) -> None:
        """Store results in one transaction (an existing key is overwritten with the same value)."""
        now = time.time()
        rows = [
            (key, json.dumps(result.to_dict(), ensure_ascii=False), now)
            for key, result in results.items()
        ]
        with self._lock, self._connection:
            self._connection.executemany(
                "INSERT OR REPLACE INTO results (key, result, stored_at) VALUES (?, ?, ?)", rows
            )

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def clear(self) -> None:
        """Forget every stored result."""
        with self._lock, self._connection:
            self._connection.execute("DELETE FROM results")

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
