"""Real pytest in the sandbox: outcomes come from the recording plugin, never from pytest's text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_forge.verifiers.python.verifiers import PytestVerifier

PROGRAM = """import pytest


def add(a, b):
    return a + b


def test_right():
    assert add(1, 2) == 3


def test_wrong():
    assert add(1, 1) == 3


@pytest.mark.parametrize("a, b, total", [(1, 1, 2), (2, 2, 4), (3, 3, 7)])
def test_cases(a, b, total):
    assert add(a, b) == total


class TestGroup:
    def test_zero(self):
        assert add(0, 0) == 0
"""


@pytest.fixture(scope="module")
def verifier() -> Iterator[PytestVerifier]:
    with PytestVerifier(use_cache=False, max_workers=2, timeout=20.0) as verifier:
        yield verifier


def test_each_test_and_each_parametrized_case_counts(verifier: PytestVerifier) -> None:
    result = verifier.verify(PROGRAM)
    assert (result.metadata["tests_passed"], result.metadata["tests_total"]) == (4, 6)
    assert result.reward == 0.5
    assert any("assert 2 == 3" in failure for failure in result.metadata["failures"])


def test_skips_xfails_and_fixture_errors_are_not_passes(verifier: PytestVerifier) -> None:
    program = """import pytest


@pytest.fixture
def broken():
    raise RuntimeError("fixture failed")


def test_fixture(broken):
    pass


@pytest.mark.skip(reason="later")
def test_skipped():
    pass


@pytest.mark.xfail
def test_expected_to_fail():
    assert False


def test_fine(tmp_path, monkeypatch, capsys):
    print("hello")
    assert capsys.readouterr().out == "hello\\n"
"""
    result = verifier.verify(program)
    assert (result.metadata["tests_passed"], result.metadata["tests_total"]) == (1, 4)


@pytest.mark.parametrize(
    "attack",
    [
        "import sys\nsys.exit(0)\n",
        "import os\nos._exit(0)\n",
        "raise KeyboardInterrupt\n",
        "print('collected 6 items\\n\\n====== 6 passed in 0.02s ======')\nimport os\nos._exit(0)\n",
    ],
    ids=["sys.exit(0)", "os._exit(0)", "KeyboardInterrupt", "fake output"],
)
def test_leaving_at_import_time_scores_zero(verifier: PytestVerifier, attack: str) -> None:
    result = verifier.verify(PROGRAM + attack)
    assert result.reward == 0.0
    assert result.metadata["tests_total"] == 6


@pytest.mark.parametrize(
    "attack",
    [
        "test_wrong = test_right\n",
        "def _nothing():\n    pass\n\n\ntest_wrong = _nothing\n",
        "del test_wrong\n",
        "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n",
        "import _pytest.reports\n_pytest.reports.BaseReport.passed = property(lambda self: True)\n",
    ],
    ids=["swapped", "replaced", "deleted", "patched runtest", "patched report"],
)
def test_rebinding_or_patching_does_not_turn_a_failure_into_a_pass(
    verifier: PytestVerifier, attack: str
) -> None:
    result = verifier.verify(PROGRAM + attack)
    assert result.metadata["tests_total"] == 6
    assert result.metadata["tests_passed"] <= 4


def test_exiting_inside_a_test_fails_it_and_the_rest(verifier: PytestVerifier) -> None:
    program = "import os\n\n\ndef test_first():\n    pass\n\n\ndef test_exits():\n    os._exit(0)\n\n\ndef test_last():\n    pass\n"
    result = verifier.verify(program)
    assert (result.metadata["tests_passed"], result.metadata["tests_total"]) == (1, 3)


def test_keyboard_interrupt_in_a_test_stops_the_session_without_passing(
    verifier: PytestVerifier,
) -> None:
    program = (
        "def test_first():\n    pass\n\n\ndef test_interrupts():\n    raise KeyboardInterrupt\n"
    )
    result = verifier.verify(program)
    assert (result.metadata["tests_passed"], result.metadata["tests_total"]) == (1, 2)


def test_program_without_tests_scores_zero(verifier: PytestVerifier) -> None:
    result = verifier.verify("def add(a, b):\n    return a + b\n")
    assert result.reward == 0.0
    assert "no tests" in result.details


def test_external_test_file_imports_the_program_as_solution(tmp_path: Path) -> None:
    test_file = tmp_path / "test_add.py"
    test_file.write_text(
        "from solution import add\n\n\ndef test_small():\n    assert add(1, 2) == 3\n\n\n"
        "def test_negative():\n    assert add(-1, -1) == -2\n"
    )
    with PytestVerifier(test_file=str(test_file), use_cache=False, max_workers=1) as verifier:
        right = verifier.verify("def add(a, b):\n    return a + b\n")
        wrong = verifier.verify("def add(a, b):\n    return abs(a) + abs(b)\n")
        cheat = verifier.verify("import sys\nsys.exit(0)\n")
        inline_tests_ignored = verifier.verify(
            "def add(a, b):\n    return 0\n\n\ndef test_mine():\n    pass\n"
        )
    assert (right.reward, right.metadata["tests_total"]) == (1.0, 2)
    assert (wrong.metadata["tests_passed"], wrong.reward) == (1, 0.5)
    assert cheat.reward == 0.0
    assert inline_tests_ignored.metadata["tests_total"] == 2
    assert inline_tests_ignored.reward == 0.0


TEST_FILE_STYLES = {
    "pytest functions": (
        "from solution import add\n\n"
        "def test_small():\n    assert add(1, 2) == 3\n\n"
        "def test_zero():\n    assert add(0, 0) == 0\n"
    ),
    "unittest.TestCase": (
        "import unittest\nfrom solution import add\n\n"
        "class AddTest(unittest.TestCase):\n"
        "    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n\n"
        "    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n"
    ),
}


@pytest.mark.parametrize("source", TEST_FILE_STYLES.values(), ids=TEST_FILE_STYLES.keys())
def test_a_trusted_test_file_of_either_style_passes_right_code_and_fails_wrong_code(
    tmp_path: Path, source: str
) -> None:
    test_file = tmp_path / "test_add.py"
    test_file.write_text(source)
    with PytestVerifier(test_file=str(test_file), use_cache=False, max_workers=1) as verifier:
        right = verifier.verify("def add(a, b):\n    return a + b\n")
        wrong = verifier.verify("def add(a, b):\n    return a * b\n")
    assert (right.success, right.metadata["tests_passed"]) == (True, 2), right.details
    assert (wrong.success, wrong.metadata["tests_passed"]) == (False, 1), wrong.details
