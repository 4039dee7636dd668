"""Splitting trusted test sources into counted units, without running anything."""

from __future__ import annotations

import pytest

from halo_forge.verifiers.python.units import (
    assert_steps,
    declared_pytest_tests,
    declared_unittest_tests,
)

HUMANEVAL_TEST = """
METADATA = {"author": "jt"}


def check(candidate):
    import math
    assert candidate(1, 2) == 3
    assert math.isclose(candidate(0.5, 0.25), 0.75)
    for a in range(3):
        assert candidate(a, a) == 2 * a
"""


def test_each_assert_of_check_is_one_test_and_the_rest_is_setup() -> None:
    steps, parameter = assert_steps(HUMANEVAL_TEST, "check")
    assert parameter == "candidate"
    assert [step.is_test for step in steps] == [False, False, True, True, True]
    assert steps[0].source.startswith("METADATA")
    assert steps[2].label == "assert candidate(1, 2) == 3"
    assert steps[4].label.startswith("for a in range(3):")


def test_mbpp_flat_tests_split_without_a_parameter() -> None:
    source = "def test_solution():\n    assert f(1) == 2\n    assert f(2) == 3\n"
    steps, parameter = assert_steps(source, "test_solution")
    assert parameter is None
    assert [step.label for step in steps] == ["assert f(1) == 2", "assert f(2) == 3"]
    assert all(step.is_test for step in steps)


def test_top_level_asserts_count_and_setup_code_comes_first() -> None:
    steps, _ = assert_steps("x = 2\nassert f(x) == 4\nassert f(3) == 6\n", None, "import math")
    assert [(step.label, step.is_test) for step in steps] == [
        ("import math", False),
        ("x = 2", False),
        ("assert f(x) == 4", True),
        ("assert f(3) == 6", True),
    ]


def test_assert_comparisons_go_through_the_verified_helpers() -> None:
    source = (
        "assert f(1) == 2\n"
        "assert f(2) != 3, 'message'\n"
        "for n in range(3):\n    assert all(f(k) == k for k in range(n))\n"
        "assert 0 < f(4) < 9\n"
        "y = f(5) == 5\n"
    )
    steps, _ = assert_steps(source)
    assert [step.source for step in steps] == [
        "assert __verified_equal__(f(1), 2)",
        "assert __verified_not_equal__(f(2), 3), 'message'",
        "for n in range(3):\n    assert all((__verified_equal__(f(k), k) for k in range(n)))",
        "assert 0 < f(4) < 9",  # chained: left as written
        "y = f(5) == 5",  # not an assert: left as written
    ]


def test_check_that_returns_stays_a_single_call() -> None:
    source = (
        "def check(candidate):\n    if candidate(0):\n        return\n    assert candidate(1)\n"
    )
    steps, parameter = assert_steps(source, "check")
    assert [step.source for step in steps if step.is_test] == ["check(candidate)"]
    assert parameter == "candidate"


def test_check_without_asserts_is_called_as_one_test() -> None:
    steps, _ = assert_steps("def test_solution():\n    verify(f)\n", "test_solution")
    assert [step.source for step in steps if step.is_test] == ["test_solution()"]


def test_unparsable_test_source_names_the_line() -> None:
    with pytest.raises(SyntaxError, match="line 2"):
        assert_steps("def check(candidate):\n    assert (\n", "check")


UNITTEST_SOURCE = """import unittest


class Base(unittest.TestCase):
    def test_shared(self):
        pass


class TestMath(Base):
    @unittest.skip("later")
    def test_skipped(self):
        pass

    def helper(self):
        pass


class NotATest:
    def test_ignored(self):
        pass
"""


def test_unittest_methods_include_inherited_ones_with_their_first_line() -> None:
    declared = declared_unittest_tests(UNITTEST_SOURCE)
    found = {(test.class_name, test.name, test.first_line) for test in declared}
    assert found == {
        ("Base", "test_shared", 5),
        ("TestMath", "test_shared", 5),
        ("TestMath", "test_skipped", 10),  # the decorator's line starts the code object
    }


PYTEST_SOURCE = """import pytest


def test_plain():
    pass


@pytest.mark.parametrize("a", [1, 2, 3])
@pytest.mark.parametrize("b", (4, 5))
def test_grid(a, b):
    pass


@pytest.mark.parametrize("a", range(4))
def test_dynamic(a):
    pass


class TestGroup:
    def test_method(self):
        pass


class TestWithInit:
    def __init__(self):
        pass

    def test_not_collected(self):
        pass


def helper_test():
    pass
"""


def test_pytest_tests_count_literal_parametrize_cases() -> None:
    declared = {
        (t.class_name, t.name): (t.first_line, t.instances)
        for t in declared_pytest_tests(PYTEST_SOURCE)
    }
    assert declared == {
        (None, "test_plain"): (4, 1),
        (None, "test_grid"): (8, 6),
        (None, "test_dynamic"): (14, 1),  # unknown from the source: pytest's count decides
        ("TestGroup", "test_method"): (20, 1),
    }
