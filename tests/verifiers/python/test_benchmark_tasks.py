"""Loading HumanEval and both MBPP formats, and finding a task by id or by prompt."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from halo_forge.errors import DataError
from halo_forge.verifiers.python.benchmark_tasks import TaskSet, task_from_record

SHARED_MBPP = Path(__file__).resolve().parents[4] / "shared" / "data" / "mbpp" / "train.jsonl"

HUMANEVAL_RECORD = {
    "task_id": "HumanEval/0",
    "prompt": 'def add(a, b):\n    """Return a + b."""\n',
    "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    "entry_point": "add",
}
MBPP_HUB_RECORD = {
    "task_id": 11,
    "text": "Write a function to remove the first and last occurrence of a character.",
    "code": "def remove_occ(s, ch):\n    return s.replace(ch, '', 1)[::-1].replace(ch, '', 1)[::-1]",
    "test_list": [
        'assert remove_occ("hello","l") == "heo"',
        'assert remove_occ("abcda","a") == "bcd"',
    ],
    "test_setup_code": "import math",
}
MBPP_FLAT_RECORD = {
    "task_id": 601,
    "prompt": "Write a function to double a number.",
    "entry_point": "double",
    "tests": "def test_solution():\n    assert double(2) == 4\n",
    "solution": "def double(x):\n    return 2 * x\n",
}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_humaneval_record_keeps_prompt_checks_and_entry_point() -> None:
    task = task_from_record(HUMANEVAL_RECORD)
    assert task.task_id == "HumanEval/0"
    assert task.check_function == "check"
    assert task.entry_point == "add"
    assert task.prompt_is_code
    assert task.reference_solution.endswith("    return a + b\n")


def test_mbpp_hub_record_joins_test_list_and_keeps_setup() -> None:
    task = task_from_record(MBPP_HUB_RECORD)
    assert task.task_id == "11"
    assert task.check_function is None
    assert task.test_source.splitlines() == MBPP_HUB_RECORD["test_list"]
    assert task.setup_code == "import math"
    assert task.prompt == MBPP_HUB_RECORD["text"]
    assert task.entry_point == "remove_occ"  # the first function the tests call


def test_mbpp_hub_entry_point_skips_builtins_the_tests_call() -> None:
    record = dict(MBPP_HUB_RECORD, test_list=["assert set(similar((1, 2), (2, 3))) == {2}"])
    assert task_from_record(record).entry_point == "similar"


def test_mbpp_flat_record_checks_live_in_test_solution() -> None:
    task = task_from_record(MBPP_FLAT_RECORD)
    assert task.check_function == "test_solution"
    assert task.entry_point == "double"
    assert task.reference_solution == MBPP_FLAT_RECORD["solution"]


def test_unknown_record_format_names_the_expected_fields() -> None:
    with pytest.raises(DataError, match="test_list"):
        task_from_record({"task_id": 1, "question": "?"})


def test_gzipped_humaneval_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(HUMANEVAL_RECORD) + "\n")
    tasks = TaskSet.load(path)
    assert len(tasks) == 1
    assert tasks.get("HumanEval/0").entry_point == "add"


def test_broken_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(MBPP_FLAT_RECORD) + "\n" + json.dumps({"task_id": 2}) + "\n")
    with pytest.raises(DataError, match=r"tasks\.jsonl:2"):
        TaskSet.load(path)


def test_file_without_tasks_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no tasks"):
        TaskSet.load(write_jsonl(tmp_path / "empty.jsonl", []))


def test_integer_and_string_ids_find_the_same_task(tmp_path: Path) -> None:
    tasks = TaskSet.load(write_jsonl(tmp_path / "t.jsonl", [MBPP_FLAT_RECORD, MBPP_HUB_RECORD]))
    assert tasks.get(601) is tasks.get("601")
    assert tasks.get(11).entry_point == "remove_occ"


def test_unknown_id_error_shows_ids_of_the_file(tmp_path: Path) -> None:
    tasks = TaskSet.load(write_jsonl(tmp_path / "t.jsonl", [MBPP_FLAT_RECORD]))
    with pytest.raises(DataError, match="601"):
        tasks.get(999)


def test_prompt_lookup_is_exact_then_whitespace_insensitive_then_contained(tmp_path: Path) -> None:
    tasks = TaskSet.load(write_jsonl(tmp_path / "t.jsonl", [MBPP_FLAT_RECORD, MBPP_HUB_RECORD]))
    prompt = MBPP_FLAT_RECORD["prompt"]
    assert tasks.find_by_prompt(prompt).task_id == "601"
    assert tasks.find_by_prompt("  Write a function  to double\na number. ").task_id == "601"
    templated = f"<|user|>\nSolve this in Python.\n{prompt}\nAnswer with code.<|assistant|>"
    assert tasks.find_by_prompt(templated).task_id == "601"
    with pytest.raises(DataError, match="task_ids"):
        tasks.find_by_prompt("Write a sorting network.")


def test_fingerprint_follows_the_file_content(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", [MBPP_FLAT_RECORD])
    before = TaskSet.load(path).fingerprint
    changed = dict(MBPP_FLAT_RECORD, tests="def test_solution():\n    assert double(3) == 6\n")
    write_jsonl(path, [changed])
    assert TaskSet.load(path).fingerprint != before


def test_shared_mbpp_file_loads_all_tasks() -> None:
    tasks = TaskSet.load(SHARED_MBPP)
    assert len(tasks) == 374
    assert all(task.check_function == "test_solution" and task.entry_point for task in tasks)
