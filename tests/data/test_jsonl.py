"""The one JSONL reader/writer: line-numbered errors, atomic writes, resumable appends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from data.dataset_files import gzip_file

from halo_forge.data.jsonl import JsonlAppender, iter_jsonl, read_jsonl, write_json, write_jsonl
from halo_forge.errors import DataError


def test_round_trip_keeps_unicode_and_order(tmp_path: Path) -> None:
    records = [{"prompt": "héllo", "n": 1}, {"prompt": "日本", "n": 2}]
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, records) == 2
    assert read_jsonl(path) == records


def test_broken_line_reports_file_and_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2,\n{"a": 3}\n')
    with pytest.raises(DataError, match=rf"{path}:3: invalid JSON"):
        read_jsonl(path)


def test_non_object_line_is_rejected_with_its_type(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(DataError, match=rf"{path}:2: expected a JSON object, got list"):
        read_jsonl(path)


def test_skip_invalid_yields_only_good_lines_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"a": 1}\nnot json\n"str"\n{"a": 2}\n')
    assert list(iter_jsonl(path, skip_invalid=True)) == [(1, {"a": 1}), (4, {"a": 2})]


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_jsonl(tmp_path / "nope.jsonl")


def test_failed_write_leaves_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    write_jsonl(path, [{"a": 1}])

    def exploding():
        yield {"a": 2}
        raise RuntimeError("generator failed midway")

    with pytest.raises(RuntimeError):
        write_jsonl(path, exploding())
    assert read_jsonl(path) == [{"a": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["data.jsonl"]  # no temporary left behind


def test_write_json_is_atomic_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "stats.json"
    write_json(path, {"pass_rate": 0.5})
    assert path.read_text().startswith("{")
    assert '"pass_rate": 0.5' in path.read_text()


def test_appender_drops_a_torn_last_line_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text('{"i": 0}\n{"i": 1}\n{"i": 2, "comp')  # a kill mid-write
    with JsonlAppender(path) as appender:
        assert appender.existing() == [{"i": 0}, {"i": 1}]
        appender.append_batch([{"i": 2}, {"i": 3}])
    assert read_jsonl(path) == [{"i": n} for n in range(4)]


def test_appended_batches_survive_a_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    script = (
        "import os, signal\n"
        "from halo_forge.data.jsonl import JsonlAppender\n"
        f"appender = JsonlAppender({str(path)!r})\n"
        "appender.append_batch([{'i': 0}, {'i': 1}])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert result.returncode == -9
    assert read_jsonl(path) == [{"i": 0}, {"i": 1}]
    assert os.path.getsize(path) > 0


def test_skipped_lines_are_reported_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"a": 1}\nnot json\n[1]\n{"a": 2}\n')
    skipped: list[tuple[int, str]] = []
    values = list(
        iter_jsonl(path, skip_invalid=True, on_invalid=lambda n, why: skipped.append((n, why)))
    )
    assert [n for n, _ in values] == [1, 4]
    assert [n for n, _ in skipped] == [2, 3]
    assert "invalid JSON" in skipped[0][1] and "got list" in skipped[1][1]


def test_non_utf8_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"a": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_jsonl(path)


def test_a_gzipped_jsonl_file_reads_as_the_plain_file(tmp_path: Path) -> None:
    records = [{"prompt": "héllo", "n": 1}, {"prompt": "日本", "n": 2}]
    plain = tmp_path / "rows.jsonl"
    write_jsonl(plain, records)

    assert list(iter_jsonl(gzip_file(plain))) == list(iter_jsonl(plain))


def test_broken_line_inside_a_gzip_file_reports_file_and_line_number(tmp_path: Path) -> None:
    plain = tmp_path / "bad.jsonl"
    plain.write_text('{"a": 1}\n\n{"a": 2,\n{"a": 3}\n')
    compressed = gzip_file(plain)

    with pytest.raises(DataError, match=rf"{compressed}:3: invalid JSON"):
        read_jsonl(compressed)


def test_a_gz_name_on_plain_text_is_a_data_error_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "mislabelled.jsonl.gz"
    path.write_text('{"a": 1}\n')
    with pytest.raises(DataError, match=r"unreadable gzip data after 0 lines .*gzip -t"):
        read_jsonl(path)


def test_a_truncated_gzip_file_is_a_data_error_not_a_short_read(tmp_path: Path) -> None:
    plain = tmp_path / "rows.jsonl"
    write_jsonl(plain, [{"n": index, "pad": "x" * 50} for index in range(200)])
    compressed = gzip_file(plain)
    compressed.write_bytes(compressed.read_bytes()[:-40])

    with pytest.raises(DataError, match="unreadable gzip data after"):
        read_jsonl(compressed)
