"""The compile verifier's `tests` context: test code compiled after the answer (a test `main`)."""

from __future__ import annotations

import pytest

from halo_forge.verifiers.cpp.compile import GCCVerifier

FUNCTION = "int twice(int x) {\n    return 2 * x;\n}\n"
TEST_MAIN = (
    "#include <stdio.h>\n\nint main(void) {\n    int x;\n"
    '    if (scanf("%d", &x) != 1) return 1;\n    printf("%d\\n", twice(x));\n    return 0;\n}\n'
)
CASES = [{"stdin": "4\n", "expected_output": "8\n"}, {"stdin": "-3\n", "expected_output": "-6\n"}]


@pytest.fixture
def verifier():
    with GCCVerifier(language="c", run_after_compile=True, use_cache=False) as gcc:
        yield gcc


def test_function_passes_with_the_test_main_appended(verifier: GCCVerifier) -> None:
    result = verifier.verify(f"```c\n{FUNCTION}```", tests=TEST_MAIN, test_cases=CASES)
    assert result.success and result.reward == 1.0
    assert result.metadata["test_cases_passed"] == 2


def test_function_alone_has_no_main_and_fails_to_link(verifier: GCCVerifier) -> None:
    result = verifier.verify(FUNCTION, test_cases=CASES)
    assert not result.success
    assert result.metadata["stage"] == "link"


def test_wrong_function_name_fails_against_the_test_main(verifier: GCCVerifier) -> None:
    result = verifier.verify(FUNCTION.replace("twice", "double_it"), tests=TEST_MAIN)
    assert not result.success and result.reward < 0.5


def test_answer_that_defines_its_own_main_conflicts_with_the_test_main(
    verifier: GCCVerifier,
) -> None:
    answer = FUNCTION + "int main(void) { return 0; }\n"
    assert not verifier.verify(answer, tests=TEST_MAIN, test_cases=CASES).success


def test_pool_tells_the_same_answer_apart_under_different_test_code() -> None:
    wrong_main = TEST_MAIN.replace("twice(x)", "twice(x) + 1")
    with GCCVerifier(language="c", run_after_compile=True) as gcc:
        results = gcc.verify_batch(
            [FUNCTION, FUNCTION],
            contexts=[
                {"tests": TEST_MAIN, "test_cases": CASES},
                {"tests": wrong_main, "test_cases": CASES},
            ],
        )
    assert [result.reward for result in results] == [1.0, 0.7]


def test_default_verifier_runs_the_test_main_against_the_cases() -> None:
    wrong = FUNCTION.replace("2 * x", "2 * x + 1")
    with GCCVerifier(use_cache=False) as gcc:
        result = gcc.verify(f"```c\n{wrong}```", tests=TEST_MAIN, test_cases=CASES)
    assert (result.success, result.reward) == (False, 0.7)
    assert result.metadata["stage"] == "run" and result.metadata["language"] == "c"
