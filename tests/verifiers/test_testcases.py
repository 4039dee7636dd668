"""Output comparison, per-sample test cases and the execution part of the reward scale."""

from __future__ import annotations

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.testcases import (
    RunOutcome,
    TestCase,
    cases_from_context,
    execution_reward,
    normalise_output,
    outputs_match,
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
