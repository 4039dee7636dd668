"""Output comparison, per-sample test cases and the execution part of the reward scale."""

from __future__ import annotations

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.build.testcases import (
    RunOutcome,
    TestCase,
    carries_run_checks,
    cases_from_context,
    execution_reward,
    normalise_output,
    outputs_match,
    plan_run,
    with_test_code,
)


def test_trailing_whitespace_and_blank_lines_are_ignored() -> None:
    assert outputs_match("1 2 \n3\t\n\n\n", "1 2\n3")
    assert outputs_match("42", "42\n")
    assert normalise_output("a  \r\nb\n\n") == "a\nb"


def test_leading_space_and_inner_blank_lines_matter() -> None:
    assert not outputs_match(" 42\n", "42\n")
    assert not outputs_match("1\n\n2\n", "1\n2\n")
    assert not outputs_match("1 2\n", "1  2\n")


def test_test_cases_come_from_the_sample_first() -> None:
    context = {
        "test_cases": [{"stdin": "1\n", "expected_output": "2\n"}, {"stdin": "5\n"}],
        "expected_output": "ignored",
    }
    assert cases_from_context(context, "default in", "default out") == [
        TestCase("1\n", "2\n"),
        TestCase("5\n", None),
    ]


def test_single_expectation_falls_back_to_defaults() -> None:
    assert cases_from_context({"stdin": "3\n"}, None, "9\n") == [TestCase("3\n", "9\n")]
    assert cases_from_context({}, "in", "out") == [TestCase("in", "out")]
    assert cases_from_context({"prompt": "p"}, None, None) == [TestCase(None, None)]


def test_malformed_test_cases_name_the_expected_shape() -> None:
    with pytest.raises(VerifierError, match="stdin and expected_output"):
        cases_from_context({"test_cases": [{"input": "1"}]}, None, None)
    with pytest.raises(VerifierError, match="must be a list"):
        cases_from_context({"test_cases": "1 2"}, None, None)


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (RunOutcome(total=3, passed=3, completed=3), (1.0, True)),
        (RunOutcome(total=3, passed=1, completed=3), (0.8, False)),
        (RunOutcome(total=3, passed=0, completed=1), (0.7, False)),
        (RunOutcome(total=3, passed=0, completed=0), (0.6, False)),
        (RunOutcome(total=0, passed=0, completed=1), (0.7, True)),
        (RunOutcome(total=0, passed=0, completed=0, failures=["run 1: timed out"]), (0.6, False)),
    ],
)
def test_execution_reward_follows_the_scale(
    outcome: RunOutcome, expected: tuple[float, bool]
) -> None:
    assert execution_reward(outcome) == expected


@pytest.mark.parametrize(
    ("context", "carries"),
    [
        ({"test_cases": [{"stdin": "1", "expected_output": "2"}]}, True),
        ({"expected_output": ""}, True),  # a program that must print nothing
        ({"stdin": "1 2\n"}, True),
        ({"test_cases": []}, False),
        ({"prompt": "Write a program.", "task_id": 3}, False),
    ],
)
def test_a_sample_carries_run_checks_when_it_has_cases_output_or_input(
    context: dict[str, object], carries: bool
) -> None:
    assert carries_run_checks(context, None, None) is carries


def test_the_verifiers_own_defaults_are_run_checks_for_every_sample() -> None:
    assert carries_run_checks({}, None, "42\n") and carries_run_checks({}, "1\n", None)


def test_test_code_counts_only_where_the_verifier_compiles_it_in() -> None:
    assert not carries_run_checks({"tests": "int main() {}"}, None, None)
    assert carries_run_checks({"tests": "int main() {}"}, None, None, ("tests",))
    assert not carries_run_checks({"tests": ""}, None, None, ("tests",))


@pytest.mark.parametrize(
    ("option", "has_checks", "runs", "compile_only"),
    [
        (None, True, True, False),
        (None, False, False, False),
        (True, False, True, False),
        (False, True, False, True),
        (False, False, False, False),
    ],
)
def test_unset_run_after_compile_runs_exactly_the_samples_with_checks(
    option: bool | None, has_checks: bool, runs: bool, compile_only: bool
) -> None:
    metadata: dict[str, object] = {}
    assert plan_run(option, has_checks, metadata) is runs
    assert metadata.get("compile_only", False) is compile_only


def test_test_code_is_compiled_after_the_program() -> None:
    assert with_test_code("int f();\n\n", {"tests": "\nint main() {}\n"}) == (
        "int f();\n\nint main() {}\n"
    )
    assert with_test_code("int f();\n", {}) == "int f();\n"
