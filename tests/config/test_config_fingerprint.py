"""The shared settings fingerprint: flattened keys, stored beside an output, refused or forced."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from halo_forge.config.fingerprint import (
    changed_keys,
    compare_fingerprint,
    content_sha256,
    flatten_settings,
    store_fingerprint,
)
from halo_forge.errors import ConfigError


def _compare(path: Path, fingerprint: dict, force: bool = False) -> list[str]:
    return compare_fingerprint(
        path, fingerprint, force=force, holder="out.jsonl holds records", force_effect="redo them"
    )


def test_nested_settings_flatten_to_dotted_keys_except_those_kept_whole() -> None:
    settings = {"a": {"b": 1, "schedule": {"x": 2}}, "c": [1, 2]}

    assert flatten_settings(settings) == {"a.b": 1, "a.schedule.x": 2, "c": [1, 2]}
    assert flatten_settings(settings, "v.", keep_whole=("schedule",)) == {
        "v.a.b": 1,
        "v.a.schedule": {"x": 2},
        "v.c": [1, 2],
    }


def test_changed_keys_include_keys_only_one_side_has() -> None:
    assert changed_keys({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 0}) == ["b", "c"]


def test_nothing_stored_is_no_change_and_a_stored_fingerprint_reads_back_equal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.fingerprint.json"
    assert _compare(path, {"seed": 1, "stop": ("a", "b")}) == []

    store_fingerprint(path, {"seed": 1, "stop": ("a", "b")})

    assert json.loads(path.read_text()) == {"seed": 1, "stop": ["a", "b"]}
    assert _compare(path, {"seed": 1, "stop": ("a", "b")}) == []  # a tuple is stored as a list


def test_changed_settings_are_refused_with_old_and_new_values(tmp_path: Path) -> None:
    path = tmp_path / "out.fingerprint.json"
    store_fingerprint(path, {"seed": 1, "temperature": 0.2})

    with pytest.raises(ConfigError) as raised:
        _compare(path, {"seed": 2, "temperature": 0.2})

    assert str(raised.value) == (
        "out.jsonl holds records made with other settings (seed: 1 -> 2); resume with the same "
        "settings, choose a new --output, or pass --force to redo them"
    )
    assert json.loads(path.read_text())["seed"] == 1


def test_force_names_what_changed_and_leaves_storing_to_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "out.fingerprint.json"
    store_fingerprint(path, {"seed": 1})

    assert _compare(path, {"seed": 2, "model": "m"}, force=True) == ["model", "seed"]
    assert json.loads(path.read_text()) == {"seed": 1}


def test_content_digest_ignores_key_order_but_not_values() -> None:
    assert content_sha256([{"a": 1, "b": 2}]) == content_sha256([{"b": 2, "a": 1}])
    assert content_sha256([{"a": 1}]) != content_sha256([{"a": 2}])


def test_fingerprints_need_no_data_layer() -> None:
    """Layer 0 stays layer 0: storing a fingerprint imports nothing from `halo_forge.data`."""
    script = (
        "import sys, halo_forge.config.fingerprint\n"
        "assert not [m for m in sys.modules if m.startswith('halo_forge.data')], sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
