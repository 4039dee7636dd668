"""What each verifier asks of a prompt's context, and the check that runs before a run starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halo_forge.data.records import PromptRecord
from halo_forge.errors import DataError
from halo_forge.verifiers.registry import build_verifier
from halo_forge.verifiers.requirements import (
    FIX,
    SHOWN_RECORDS,
    check_prompt_contexts,
    missing_contexts,
)

WITH_TESTS = PromptRecord(prompt="Write add(a, b).", task_id=1, tests="assert add(1, 2) == 3")
WITHOUT_TESTS = PromptRecord(prompt="Write sub(a, b).", task_id=2)
NO_ASSERT = PromptRecord(prompt="Write mul(a, b).", tests="x = 1")
HUMANEVAL_TESTS = "def check(candidate):\n    assert candidate(1) == 2\n"


def _reasons(verifier_name: str, records: list[PromptRecord], **options: object) -> list[str]:
    with build_verifier(verifier_name, **options) as verifier:
        return [problem.reason for problem in missing_contexts(verifier, records)]


def test_mbpp_needs_tests_or_a_task_file() -> None:
    reasons = _reasons("mbpp", [WITH_TESTS, WITHOUT_TESTS])
    assert len(reasons) == 1
    assert "no `tests`" in reasons[0] and "tasks=FILE" in reasons[0]


def test_tests_without_an_assert_or_that_do_not_parse_are_reported() -> None:
    broken = PromptRecord(prompt="Write f.", tests="assert f(1) ==")
    reasons = _reasons("mbpp", [NO_ASSERT, broken])
    assert reasons[0] == "its `tests` hold no assert to run"
    assert "cannot be run" in reasons[1] and "does not parse" in reasons[1]


def test_mbpp_with_a_task_file_needs_a_task_it_knows(tmp_path: Path) -> None:
    tasks = tmp_path / "mbpp.jsonl"
    task = {"task_id": 601, "prompt": "Write f.", "tests": "assert f(1) == 1\n"}
    tasks.write_text(json.dumps(task) + "\n", encoding="utf-8")
    known = PromptRecord(prompt="Write f.", task_id=601)
    unknown = PromptRecord(prompt="Something else entirely.", task_id=999)
    reasons = _reasons("mbpp", [known, unknown], tasks=str(tasks))
    assert len(reasons) == 1
    assert "task_id 999 is not in" in reasons[0]


def test_humaneval_needs_tests_with_an_entry_point() -> None:
    own_task = PromptRecord(
        prompt="def inc(x):\n", task_id="HumanEval/0", tests=HUMANEVAL_TESTS, entry_point="inc"
    )
    no_entry_point = PromptRecord(prompt="def inc(x):\n", tests=HUMANEVAL_TESTS)
    reasons = _reasons("humaneval", [own_task, no_entry_point])
    assert len(reasons) == 1 and "entry_point" in reasons[0]


def test_verifiers_that_read_no_tests_from_the_context_ask_for_none() -> None:
    # gcc scores the program, pytest and unittest the tests written in the answer, and python
    # without expectations asks only that the program runs.
    for name in ("gcc", "pytest", "unittest", "python"):
        assert _reasons(name, [WITHOUT_TESTS]) == [], name
    assert _reasons("python", [NO_ASSERT]) == ["its `tests` hold no assert to run"]


def test_a_chain_reports_what_its_first_demanding_stage_lacks() -> None:
    stages = [{"type": "gcc"}, {"type": "mbpp"}]
    reasons = _reasons("chain", [WITH_TESTS, WITHOUT_TESTS], stages=stages)
    assert len(reasons) == 1 and "no `tests`" in reasons[0]


def test_check_names_lines_tasks_count_and_the_fix() -> None:
    records = [WITH_TESTS, WITHOUT_TESTS, NO_ASSERT]
    with build_verifier("mbpp") as verifier, pytest.raises(DataError) as caught:
        check_prompt_contexts(
            verifier,
            records,
            verifier_label="verifier 'mbpp'",
            source="data/prompts.jsonl",
            line_numbers=[1, 3, 4],
        )
    message = str(caught.value)
    assert message.startswith("data/prompts.jsonl: 2 of 3 prompt(s) lack what verifier 'mbpp'")
    assert "line 3 (task 2)" in message and "line 4" in message and "line 1" not in message
    assert FIX in message


def test_records_with_one_reason_are_grouped_and_the_rest_counted() -> None:
    records = [PromptRecord(prompt=f"Task {index}.") for index in range(SHOWN_RECORDS + 7)]
    with build_verifier("mbpp") as verifier, pytest.raises(DataError) as caught:
        check_prompt_contexts(verifier, records, verifier_label="verifier 'mbpp'", source="p")
    message = str(caught.value)
    assert message.count("no `tests`") == 1
    assert f"record {SHOWN_RECORDS}" in message and f"record {SHOWN_RECORDS + 1}" not in message
    assert "and 7 more" in message


def test_records_a_verifier_can_score_pass_the_check() -> None:
    with build_verifier("mbpp") as verifier:
        check_prompt_contexts(verifier, [WITH_TESTS], verifier_label="verifier 'mbpp'", source="p")


def test_auto_asks_what_the_verifier_of_the_declared_language_needs() -> None:
    python_without_tests = PromptRecord(prompt="Write f.", language="python")
    c_without_tests = PromptRecord(prompt="Write main.", language="c")
    undeclared = PromptRecord(prompt="Write anything.")
    cobol = PromptRecord(prompt="Write it in COBOL.", language="cobol")

    reasons = _reasons(
        "auto",
        [python_without_tests, c_without_tests, undeclared, cobol],
        verifiers={"python": {"type": "mbpp"}},
    )

    assert len(reasons) == 2
    assert "no `tests`" in reasons[0]
    assert "'cobol' has no verifier" in reasons[1]
