"""The validation report: counts, reasons with line numbers, duplicates, languages, lengths."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from halo_forge.data.records import RecordKind
from halo_forge.data.validate import LengthStats, render_report, validate_file


def write_lines(path: Path, *lines: object) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def rendered(report) -> str:
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


def test_report_of_an_sft_file_with_problems(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "sft.jsonl",
        {"prompt": "abcd", "completion": "xy", "language": "python"},
        {"prompt": "abcdef", "completion": "xyzw", "language": "cpp"},
        "{broken",
        {"prompt": "abcd", "completion": "xy", "language": "python", "metadata": {"run": 2}},
        {"prompt": "ab", "completion": 3},
        {"messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "y"}]},
    )
    report = validate_file(path)

    assert report.status == "invalid"
    assert report.kind is RecordKind.SFT
    assert (report.total, report.valid) == (6, 4)
    assert [problem.line_number for problem in report.invalid] == [3, 5]
    assert "field 'completion'" in report.invalid[1].reason
    assert [(dup.line_number, dup.first_line_number) for dup in report.duplicates] == [(4, 1)]
    assert report.languages == {"python": 2, "cpp": 1, "unspecified": 1}
    assert report.shapes == {"prompt/completion": 3, "messages": 1}
    assert report.lengths["prompt"] == LengthStats(
        count=4, minimum=4, mean=4.75, median=4.5, p95=6, maximum=6
    )
    assert report.lengths["completion"].maximum == 4

    text = rendered(report)
    assert "INVALID" in text
    assert "line 3: invalid JSON" in text
    assert "line 4 repeats line 1" in text


def test_report_of_a_clean_rlvr_file_with_preview(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "prompts.jsonl",
        {"prompt": "Print 42.", "language": "c", "expected_output": "42\n"},
        {"prompt": "Print 43.", "language": "c", "expected_output": "43\n"},
        {"prompt": "Print 44.", "language": "c", "expected_output": "44\n"},
    )
    report = validate_file(path, preview=2)

    assert report.status == "valid"
    assert report.kind is RecordKind.RLVR
    assert report.invalid == [] and report.duplicates == []
    assert [record["prompt"] for record in report.preview] == ["Print 42.", "Print 43."]
    assert set(report.lengths) == {"prompt"}
    text = rendered(report)
    assert "VALID" in text and "rlvr" in text and "Print 43." in text


def test_same_prompt_with_another_system_prompt_is_not_a_duplicate(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "prompts.jsonl",
        {"prompt": "Print 42."},
        {"prompt": "Print 42.", "system_prompt": "Answer in C."},
        {"prompt": "Print 42.", "task_id": "again"},
    )
    report = validate_file(path)
    assert [(dup.line_number, dup.first_line_number) for dup in report.duplicates] == [(3, 1)]


def test_forcing_the_wrong_format_marks_every_line_invalid(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "prompts.jsonl", {"prompt": "a"}, {"prompt": "b"})
    report = validate_file(path, RecordKind.SFT)
    assert report.status == "invalid"
    assert report.valid == 0 and len(report.invalid) == 2


def test_an_empty_file_is_reported_empty(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "empty.jsonl", "", "")
    report = validate_file(path)
    assert report.status == "empty"
    assert report.total == 0
    assert "EMPTY" in rendered(report)
