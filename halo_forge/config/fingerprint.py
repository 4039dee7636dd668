"""Settings fingerprints: resume a run's stored work only when it was made with the same settings.

Every resumable command (RAFT, `halo-forge verify`, `benchmark run`) keeps its finished work on
disk and picks it up when the same command runs again. That is only sound when the work was
made with the same settings, so each stores a fingerprint beside its output, a flat
`{dotted.key: value}` map of every setting that decides what the output holds, and compares
it on the next run: a difference stops the run with the changed keys named, unless `--force`.
What `--force` then does is the command's choice (RAFT reuses its stages anyway, verify and
benchmark start over), so the caller states it in words for the message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from halo_forge.errors import ConfigError
from halo_forge.files import write_json


def flatten_settings(
    data: Mapping[str, Any], prefix: str = "", keep_whole: Collection[str] = ()
) -> dict[str, Any]:
    """Nested settings as `{dotted.key: value}`, so a change is named by the key that changed.

    A mapping whose key is in `keep_whole` stays one value (e.g. a schedule that only means
    something as a whole).
    """
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and key not in keep_whole:
            flat.update(flatten_settings(value, f"{dotted}.", keep_whole))
        else:
            flat[dotted] = value
    return flat


def content_sha256(value: Any) -> str:
    """SHA-256 of a JSON value (keys sorted): one key that stands for data too long to store."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def changed_keys(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Keys whose values differ (or that only one side has), sorted."""
    return sorted(
        key for key in stored.keys() | current.keys() if stored.get(key) != current.get(key)
    )


def compare_fingerprint(
    path: Path,
    fingerprint: Mapping[str, Any],
    *,
    force: bool,
    holder: str,
    force_effect: str,
) -> list[str]:
    """Keys whose values differ from the fingerprint stored at `path`; a change needs `force`.

    A changed fingerprint raises ConfigError naming each key with its old and new value,
    unless `force`. `holder` names the stored work ("results/x.* hold a benchmark run");
    `force_effect` says what --force does ("start it over"). Nothing stored yet counts as no
    change. Values are compared as JSON, the form `store_fingerprint` writes. The caller acts
    on a forced change (discards or reuses the old work), then stores the new fingerprint.
    """
    if not path.is_file():
        return []
    stored = json.loads(path.read_text(encoding="utf-8"))
    current = _as_json(fingerprint)
    changed = changed_keys(stored, current)
    if changed and not force:
        details = ", ".join(
            f"{key}: {stored.get(key)!r} -> {current.get(key)!r}" for key in changed
        )
        raise ConfigError(
            f"{holder} made with other settings ({details}); resume with the same settings, "
            f"choose a new --output, or pass --force to {force_effect}"
        )
    return changed


def store_fingerprint(path: Path, fingerprint: Mapping[str, Any]) -> None:
    """Write the fingerprint to `path` atomically, as JSON."""
    write_json(path, _as_json(fingerprint))


def _as_json(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """The fingerprint as it reads back from its file (tuples become lists, keys strings)."""
    return json.loads(json.dumps(dict(fingerprint), default=str))
