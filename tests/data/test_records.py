"""Typed records and the shared reader: shapes, kind detection, precise errors, skip reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data.dataset_files import gzip_file

from halo_forge.data.records import (
    ChatRecord,
    IOTestCase,
    PromptCompletionRecord,
    PromptRecord,
    RecordKind,
    SkippedLine,
    TextRecord,
    read_records,
    write_records,
)
from halo_forge.errors import ConfigError, DataError


def write_lines(path: Path, *lines: object) -> Path:
    """One line per item: dicts as JSON, strings verbatim (to plant broken lines)."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def test_each_sft_shape_becomes_its_own_model(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "sft.jsonl",
        {"prompt": "Add two numbers.", "completion": "def add(a, b):\n    return a + b"},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]},
        {"text": "int main() { return 0; }"},
    )
    reader = read_records(path)
    records = list(reader)
    assert [type(record) for record in records] == [
        PromptCompletionRecord,
        ChatRecord,
        TextRecord,
    ]
    assert reader.kind is RecordKind.SFT
    assert records[1].messages[1].content == "Yo"


def test_auto_detects_rlvr_prompts_and_keeps_unknown_keys(tmp_path: Path) -> None:
    prompt = {
        "prompt": "Print 42.",
        "task_id": 7,
        "test_cases": [{"stdin": "", "expected_output": "42\n"}],
        "source_url": "https://example.org/task/7",
    }
    reader = read_records(write_lines(tmp_path / "prompts.jsonl", prompt))
    (record,) = list(reader)
    assert reader.kind is RecordKind.RLVR
    assert isinstance(record, PromptRecord)
    assert record.test_cases == [IOTestCase(stdin="", expected_output="42\n")]
    assert record.to_dict() == prompt  # nothing lost, nothing added


def test_wrong_field_type_names_file_line_field_and_expectation(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "sft.jsonl",
        {"prompt": "a", "completion": "b"},
        "",
        {"prompt": "c", "completion": 5},
    )
    with pytest.raises(DataError) as caught:
        list(read_records(path))
    message = str(caught.value)
    assert f"{path}:3:" in message
    assert "field 'completion'" in message
    assert "valid string" in message
    assert "got int 5" in message


def test_missing_required_field_is_named(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "sft.jsonl", {"completion": "only an answer"})
    with pytest.raises(DataError, match=r":1: field 'prompt': required but missing"):
        list(read_records(path, "sft"))


def test_nested_field_errors_point_into_the_list(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "chat.jsonl",
        {"messages": [{"role": "user", "content": "x"}, {"role": "robot", "content": "y"}]},
    )
    with pytest.raises(DataError, match=r"field 'messages\[1\]\.role'.*'assistant'"):
        list(read_records(path))


def test_blank_text_is_rejected(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "prompts.jsonl", {"prompt": "   \n"})
    with pytest.raises(DataError, match="field 'prompt': expected non-empty text"):
        list(read_records(path, RecordKind.RLVR))


def test_chat_without_an_assistant_turn_is_rejected(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "chat.jsonl", {"messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(DataError, match="at least one message with role 'assistant'"):
        list(read_records(path))


def test_asking_for_sft_rejects_rlvr_prompts(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "prompts.jsonl", {"prompt": "Print 42.", "tests": "assert True"})
    with pytest.raises(DataError, match="field 'completion': required but missing"):
        list(read_records(path, RecordKind.SFT))


def test_unrecognisable_first_record_explains_the_expected_shapes(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "odd.jsonl", {"question": "?", "answer": "!"})
    with pytest.raises(DataError, match=r":1: cannot tell the record kind.*answer, question"):
        list(read_records(path))


def test_invalid_json_fails_with_its_line_number(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "broken.jsonl", {"text": "fine"}, '{"text": "cut off')
    with pytest.raises(DataError, match=r"broken\.jsonl:2: invalid JSON"):
        list(read_records(path))


def test_skip_invalid_reports_every_skipped_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "mixed.jsonl",
        {"prompt": "p1", "completion": "c1"},
        "not json at all",
        "",
        {"prompt": "p2", "completion": ""},
        ["a", "list"],
        {"prompt": "p3", "completion": "c3"},
        '{"prompt": "torn',
    )
    reader = read_records(path, skip_invalid=True)
    kept = [record.prompt for record in reader]
    assert kept == ["p1", "p3"]
    assert [skip.line_number for skip in reader.skipped] == [2, 4, 5, 7]
    assert reader.skipped[0].reason.startswith("invalid JSON")
    assert "field 'completion'" in reader.skipped[1].reason
    assert reader.skipped[2] == SkippedLine(5, "expected a JSON object, got list")


def test_reader_streams_records_before_reaching_a_bad_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "late_error.jsonl", {"text": "first"}, "}{")
    records = iter(read_records(path))
    assert next(records).text == "first"
    with pytest.raises(DataError, match=":2:"):
        next(records)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_records(tmp_path / "absent.jsonl")


def test_a_file_that_is_not_utf8_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"text": "café"}\n'.encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8 text"):
        list(read_records(path))


def test_an_unknown_format_names_the_allowed_ones(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "sft.jsonl", {"text": "t"})
    with pytest.raises(ConfigError, match="allowed: auto, sft, rlvr"):
        read_records(path, "csv")


def test_verification_context_holds_only_what_is_set() -> None:
    record = PromptRecord(
        prompt="Read n, print n*2.",
        task_id="doubling/1",
        test_cases=[{"stdin": "3\n", "expected_output": "6\n"}],
        category="arithmetic",
    )
    assert record.verification_context() == {
        "prompt": "Read n, print n*2.",
        "task_id": "doubling/1",
        "test_cases": [{"stdin": "3\n", "expected_output": "6\n"}],
    }
    python_record = PromptRecord(
        prompt="Write add.", tests="assert add(1, 2) == 3", entry_point="add"
    )
    assert python_record.verification_context() == {
        "prompt": "Write add.",
        "tests": "assert add(1, 2) == 3",
        "entry_point": "add",
    }


def test_written_records_read_back_identically(tmp_path: Path) -> None:
    records = [
        PromptRecord(prompt="Print 1.", expected_output="1\n", language="c", metadata={"k": 1}),
        PromptRecord(prompt="Print 2.", stdin="", difficulty=3),
    ]
    path = tmp_path / "out" / "prompts.jsonl"
    assert write_records(path, records) == 2
    assert list(read_records(path)) == records
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert list(json.loads(first_line)) == ["prompt", "expected_output", "language", "metadata"]


def test_rlvr_prompts_read_from_jsonl_gz(tmp_path: Path) -> None:
    prompts = gzip_file(
        write_lines(
            tmp_path / "prompts.jsonl",
            {"prompt": "Print 42.", "expected_output": "42\n"},
            {"prompt": "Add two ints.", "tests": "assert add(1, 2) == 3", "entry_point": "add"},
        )
    )

    records = list(read_records(prompts, RecordKind.RLVR))

    assert [type(record) for record in records] == [PromptRecord, PromptRecord]
    assert [record.prompt for record in records] == ["Print 42.", "Add two ints."]
    assert records[1].entry_point == "add"


def test_sft_records_read_from_jsonl_gz(tmp_path: Path) -> None:
    data = gzip_file(
        write_lines(
            tmp_path / "train.jsonl",
            {"prompt": "Print 1.", "completion": 'puts("1");'},
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Yo"},
                ]
            },
        )
    )

    records = list(read_records(data, RecordKind.SFT))

    assert [type(record) for record in records] == [PromptCompletionRecord, ChatRecord]


def test_a_bad_record_inside_a_gzip_file_names_file_and_line(tmp_path: Path) -> None:
    data = gzip_file(
        write_lines(tmp_path / "train.jsonl", {"prompt": "a", "completion": "b"}, {"prompt": 3})
    )
    with pytest.raises(DataError, match=rf"{data}:2: "):
        list(read_records(data, RecordKind.SFT))
