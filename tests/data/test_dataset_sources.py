"""Rows from local copies (jsonl, json, parquet, folders) and the offline error, for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from data.dataset_files import gzip_file

from halo_forge.data.dataset_sources import iter_rows, local_data_files
from halo_forge.errors import DataError

ROWS = [
    {"task_id": "HumanEval/0", "prompt": "def f():\n", "test_list": ["assert f() is None"]},
    {"task_id": "HumanEval/1", "prompt": "def g():\n", "test_list": []},
]


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_json_and_parquet_copies_give_the_same_rows(tmp_path: Path) -> None:
    jsonl = touch(tmp_path / "rows.jsonl", "".join(json.dumps(row) + "\n" for row in ROWS))
    array = touch(tmp_path / "rows.json", json.dumps(ROWS))
    parquet = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    for source in (jsonl, array, parquet):
        assert list(iter_rows("openai/openai_humaneval", None, "test", source=source)) == ROWS


def test_gzipped_jsonl_and_json_copies_give_the_same_rows(tmp_path: Path) -> None:
    jsonl = gzip_file(touch(tmp_path / "rows.jsonl", "".join(json.dumps(r) + "\n" for r in ROWS)))
    array = gzip_file(touch(tmp_path / "rows.json", json.dumps(ROWS)))
    for source in (jsonl, array):
        assert list(iter_rows("openai/openai_humaneval", None, "test", source=source)) == ROWS


def test_a_folder_finds_the_gzipped_split_file(tmp_path: Path) -> None:
    test_file = gzip_file(touch(tmp_path / "export" / "test.jsonl"))
    test_file.with_suffix("").unlink()
    touch(tmp_path / "export" / "train.jsonl")
    assert local_data_files(tmp_path / "export", "test") == [test_file]


def test_a_hub_snapshot_folder_gives_the_config_and_split_files(tmp_path: Path) -> None:
    full = touch(tmp_path / "full" / "train-00000-of-00001.parquet")
    touch(tmp_path / "full" / "test-00000-of-00001.parquet")
    touch(tmp_path / "sanitized" / "train-00000-of-00001.parquet")
    assert local_data_files(tmp_path, "train", "full") == [full]

    default = touch(tmp_path / "r1" / "data" / "train-00000-of-00002.parquet")
    touch(tmp_path / "r1" / "verifiable" / "train-00000-of-00001.parquet")
    assert local_data_files(tmp_path / "r1", "train", "default") == [default]

    nested = touch(tmp_path / "humaneval" / "openai_humaneval" / "test-00000-of-00001.parquet")
    assert local_data_files(tmp_path / "humaneval", "test") == [nested]

    exported = touch(tmp_path / "export" / "test.jsonl")
    touch(tmp_path / "export" / "train.jsonl")
    assert local_data_files(tmp_path / "export", "test") == [exported]


def test_a_folder_without_the_split_lists_what_it_holds(tmp_path: Path) -> None:
    touch(tmp_path / "train.jsonl")
    with pytest.raises(
        DataError, match=r"no 'validation' files among the data files \(train\.jsonl\)"
    ):
        local_data_files(tmp_path, "validation")


def test_a_split_in_mixed_formats_is_refused(tmp_path: Path) -> None:
    touch(tmp_path / "train-0.parquet")
    touch(tmp_path / "train-1.jsonl")
    with pytest.raises(DataError, match="mix parquet and JSON"):
        local_data_files(tmp_path, "train")


def test_a_file_of_another_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"expected a \.jsonl, \.json, \.parquet, \.jsonl\.gz"):
        local_data_files(touch(tmp_path / "rows.csv", "a,b\n"), "train")
    with pytest.raises(DataError, match="no such file or folder"):
        local_data_files(tmp_path / "absent.jsonl", "train")


def test_an_unreadable_copy_is_a_data_error(tmp_path: Path) -> None:
    broken = touch(tmp_path / "rows.jsonl", '{"task_id": 1}\n{"task_id": \n')
    with pytest.raises(DataError, match="cannot read"):
        list(iter_rows("openai/openai_humaneval", None, "test", source=broken))


def test_offline_without_a_local_copy_explains_from_and_hf_hub_offline(tmp_path: Path) -> None:
    """HF_HUB_OFFLINE makes `datasets` raise the ConnectionError that a missing network raises."""
    script = textwrap.dedent(
        """
        from halo_forge.data.dataset_sources import iter_rows
        from halo_forge.errors import DataError
        try:
            next(iter_rows("openai/openai_humaneval", None, "test", dataset_name="humaneval"))
        except DataError as error:
            print(error)
        """
    )
    environment = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    run = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    message = run.stdout
    assert "cannot load openai/openai_humaneval (test) for 'humaneval'" in message
    assert "--from PATH" in message
    assert "HF_HUB_OFFLINE is set" in message
