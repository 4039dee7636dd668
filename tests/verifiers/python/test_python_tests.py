"""The five Python verifiers: rewards, task formats, completions, lookups, registry, cache."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_forge.errors import DataError, VerifierError
from halo_forge.verifiers.python.benchmark_tasks import TaskSet, task_from_record
from halo_forge.verifiers.python.verifiers import (
    HumanEvalVerifier,
    MBPPVerifier,
    PythonVerifier,
    UnittestVerifier,
    complete_prompt,
)
from halo_forge.verifiers.registry import available_verifiers, build_verifier

SHARED_MBPP = Path(__file__).resolve().parents[4] / "shared" / "data" / "mbpp" / "train.jsonl"

HUMANEVAL_TASKS = [
    {
        "task_id": "HumanEval/0",
        "prompt": (
            "from typing import List\n\n\n"
            "def below_zero(operations: List[int]) -> bool:\n"
            '    """Whether the running balance ever drops below zero."""\n'
        ),
        "canonical_solution": (
            "    balance = 0\n    for op in operations:\n        balance += op\n"
            "        if balance < 0:\n            return True\n    return False\n"
        ),
        "test": (
            "METADATA = {}\n\n\ndef check(candidate):\n"
            "    assert candidate([]) == False\n"
            "    assert candidate([1, 2, -3, 1]) == False\n"
            "    assert candidate([1, 2, -4, 5]) == True\n"
            "    assert candidate([-1]) == True\n"
        ),
        "entry_point": "below_zero",
    },
    {
        "task_id": "HumanEval/1",
        "prompt": (
            "def shift(s: str) -> str:\n    return ''.join(chr(ord(c) + 1) for c in s)\n\n\n"
            "def unshift(s: str) -> str:\n"
            '    """Undo shift."""\n'
        ),
        "canonical_solution": "    return ''.join(chr(ord(c) - 1) for c in s)\n",
        "test": "def check(candidate):\n    assert candidate(shift('abc')) == 'abc'\n",
        "entry_point": "unshift",
    },
]


@pytest.fixture(scope="module")
def humaneval_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("humaneval") / "HumanEval.jsonl"
    path.write_text("".join(json.dumps(task) + "\n" for task in HUMANEVAL_TASKS))
    return path


@pytest.fixture(scope="module")
def humaneval(humaneval_file: Path) -> Iterator[HumanEvalVerifier]:
    with HumanEvalVerifier(str(humaneval_file), use_cache=False, max_workers=2) as verifier:
        yield verifier


@pytest.fixture(scope="module")
def mbpp() -> Iterator[MBPPVerifier]:
    with MBPPVerifier(str(SHARED_MBPP), use_cache=False, max_workers=2) as verifier:
        yield verifier


FOUR_TESTS = [f"assert triple({n}) == {3 * n}" for n in (1, 2, 3, 4)]


@pytest.mark.parametrize(
    ("wrong_from", "reward"), [(5, 1.0), (4, 0.75), (3, 0.5), (2, 0.25), (1, 0.0)]
)
def test_reward_follows_the_fraction_of_passing_asserts(
    mbpp: MBPPVerifier, wrong_from: int, reward: float
) -> None:
    program = f"def triple(n):\n    return 3 * n if n < {wrong_from} else 0\n"
    result = mbpp.verify(program, tests=FOUR_TESTS)
    assert result.reward == reward
    assert result.metadata["tests_total"] == 4
    assert result.metadata["tests_passed"] == wrong_from - 1
    assert result.success is (reward == 1.0)


def test_unparsable_program_scores_zero_and_says_where(mbpp: MBPPVerifier) -> None:
    result = mbpp.verify("def triple(n)\n    return 3 * n\n", tests=FOUR_TESTS)
    assert result.reward == 0.0
    assert "does not parse: line 1" in result.details
    assert result.metadata["tests_total"] == 4


def test_answer_without_code_scores_zero(mbpp: MBPPVerifier) -> None:
    result = mbpp.verify("```bash\nls\n```", tests=FOUR_TESTS)
    assert result.reward == 0.0
    assert "no Python code" in result.details


def test_code_is_taken_from_the_python_block_of_an_answer(mbpp: MBPPVerifier) -> None:
    answer = "Here:\n```python\ndef triple(n):\n    return 3 * n\n```\nRun with:\n```bash\npython x.py\n```"
    assert mbpp.verify(answer, tests=FOUR_TESTS).reward == 1.0


def test_failure_messages_name_the_assert(mbpp: MBPPVerifier) -> None:
    result = mbpp.verify("def triple(n):\n    return n\n", tests=FOUR_TESTS)
    assert result.metadata["failures"][0].startswith("assert triple(1) == 3: AssertionError")


def test_mbpp_reference_solutions_pass_and_broken_ones_fail(mbpp: MBPPVerifier) -> None:
    tasks = TaskSet.load(SHARED_MBPP)
    sample = [task for task in tasks if task.task_id == "927"] + list(tasks)[:20]
    ids = [task.task_id for task in sample]
    results = mbpp.verify_batch([task.reference_solution for task in sample], task_ids=ids)
    assert [result.success for result in results] == [False] + [True] * 20
    assert "NameError" in results[0].details
    wrong = [f"def {task.entry_point}(*args):\n    return None\n" for task in sample[1:]]
    assert not any(result.success for result in mbpp.verify_batch(wrong, task_ids=ids[1:]))


def test_mbpp_tasks_are_found_by_prompt_text(mbpp: MBPPVerifier) -> None:
    task = TaskSet.load(SHARED_MBPP).get(602)
    prompt = f"You are a Python expert.\n{task.prompt}\nWrite only code."
    results = mbpp.verify_batch([task.reference_solution], prompts=[prompt])
    assert results[0].reward == 1.0


def test_mbpp_hub_format_runs_setup_code_before_the_tests(tmp_path: Path) -> None:
    record = {
        "task_id": 2,
        "text": "Write a function to compute a circle's area.",
        "code": "import math\ndef area(r):\n    return math.pi * r * r\n",
        "test_list": ["assert isclose(area(1), 3.14159, rel_tol=1e-4)", "assert area(0) == 0"],
        "test_setup_code": "from math import isclose",
    }
    path = tmp_path / "mbpp.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with MBPPVerifier(str(path), use_cache=False, max_workers=1) as verifier:
        assert verifier.verify(record["code"], task_id=2).reward == 1.0
        assert verifier.verify("def area(r):\n    return 0\n", task_id=2).reward == 0.5


def test_verifier_without_task_file_asks_for_tests() -> None:
    with MBPPVerifier(use_cache=False) as verifier, pytest.raises(VerifierError, match="tests"):
        verifier.verify("def f():\n    pass\n", task_id=1)


def test_an_unknown_task_fails_its_sample_and_a_batch_without_ids_stops(
    mbpp: MBPPVerifier,
) -> None:
    with pytest.raises(DataError, match="99999"):
        mbpp.verify("def f():\n    pass\n", task_id=99999)
    results = mbpp.verify_batch(["x = 1\n", "y = 2\n"], task_ids=[99999, 601])
    assert [result.metadata.get("crashed", False) for result in results] == [True, False]
    with pytest.raises(VerifierError, match="task_ids"):
        mbpp.verify_batch(["x = 1\n"])


BODY = HUMANEVAL_TASKS[0]["canonical_solution"]
FULL_FUNCTION = (
    "def below_zero(operations: List[int]) -> bool:\n"
    "    return any(sum(operations[: i + 1]) < 0 for i in range(len(operations)))\n"
)


def test_humaneval_body_and_full_function_completions_both_pass(
    humaneval: HumanEvalVerifier,
) -> None:
    body = humaneval.verify(BODY, task_id="HumanEval/0")
    full = humaneval.verify(FULL_FUNCTION, task_id="HumanEval/0")  # uses the prompt's `List`
    fenced = humaneval.verify(f"```python\n{FULL_FUNCTION}```", task_id="HumanEval/0")
    assert (body.reward, full.reward, fenced.reward) == (1.0, 1.0, 1.0)
    assert body.metadata["tests_total"] == 4


def test_humaneval_full_function_keeps_the_prompts_helpers(humaneval: HumanEvalVerifier) -> None:
    completion = "def unshift(s: str) -> str:\n    return ''.join(chr(ord(c) - 1) for c in s)\n"
    assert humaneval.verify(completion, task_id="HumanEval/1").reward == 1.0


def test_humaneval_partial_credit_counts_each_assert(humaneval: HumanEvalVerifier) -> None:
    result = humaneval.verify(
        "    return operations[-1] < 0 if operations else False\n", task_id="HumanEval/0"
    )
    assert (result.metadata["tests_passed"], result.reward) == (3, 0.75)


def test_humaneval_batch_finds_tasks_by_prompt(humaneval: HumanEvalVerifier) -> None:
    prompts = [task["prompt"] for task in HUMANEVAL_TASKS]
    completions = [task["canonical_solution"] for task in HUMANEVAL_TASKS]
    results = humaneval.verify_batch(completions, prompts=prompts)
    assert [result.reward for result in results] == [1.0, 1.0]


#: A HumanEval prompt record's context keys, and the fields of the official file they come from.
RECORD_FIELDS = {
    "task_id": "task_id",
    "prompt": "prompt",
    "tests": "test",
    "entry_point": "entry_point",
}


def test_humaneval_without_a_task_file_uses_the_task_each_prompt_record_carries() -> None:
    contexts = [
        {key: task[field] for key, field in RECORD_FIELDS.items()} for task in HUMANEVAL_TASKS
    ]
    completions = [task["canonical_solution"] for task in HUMANEVAL_TASKS]
    with HumanEvalVerifier(use_cache=False) as verifier:
        correct = verifier.verify_batch(completions, contexts=contexts)
        wrong = verifier.verify_batch(["    return True\n"] * 2, contexts=contexts)
        with pytest.raises(VerifierError, match="its own `tests`"):
            verifier.verify(completions[0], task_id="HumanEval/0")
    assert [result.reward for result in correct] == [1.0, 1.0]
    assert [result.success for result in wrong] == [False, False]


def test_completing_a_prompt_appends_bodies_and_follows_with_functions() -> None:
    task = task_from_record(HUMANEVAL_TASKS[0])
    assert complete_prompt(task, BODY) == task.prompt + BODY
    assert complete_prompt(task, FULL_FUNCTION).startswith(task.prompt.rstrip())
    assert complete_prompt(task, FULL_FUNCTION).endswith(FULL_FUNCTION)
    assert complete_prompt(task, "") == ""


@pytest.fixture(scope="module")
def python() -> Iterator[PythonVerifier]:
    with PythonVerifier(use_cache=False, max_workers=2, timeout=3.0) as verifier:
        yield verifier


def test_python_program_that_runs_passes_and_one_that_raises_fails(python: PythonVerifier) -> None:
    assert python.verify("x = [1, 2]\nprint(sum(x))\n").reward == 1.0
    failing = python.verify("raise ValueError('bad input')\n")
    assert failing.reward == 0.0
    assert "ValueError: bad input" in failing.details


def test_python_scripts_run_as_main_and_may_exit_zero(python: PythonVerifier) -> None:
    program = "import sys\ndef main():\n    print('ok')\n    return 0\nif __name__ == '__main__':\n    sys.exit(main())\n"
    assert python.verify(program, expected_output="ok\n").reward == 1.0
    assert python.verify("import sys\nsys.exit(3)\n").reward == 0.0
    assert (
        python.verify("import sys\nprint(sys.argv)\n", expected_output="['solution.py']\n").reward
        == 1.0
    )


def test_python_expected_output_and_stdin_are_checked(python: PythonVerifier) -> None:
    program = "a, b = map(int, input().split())\nprint(a + b)\n"
    assert python.verify(program, stdin="2 3\n", expected_output="5\n").reward == 1.0
    wrong = python.verify(program, stdin="2 3\n", expected_output="6\n")
    assert wrong.reward == 0.0
    assert "wrong output" in wrong.details


def test_python_test_cases_give_partial_credit(python: PythonVerifier) -> None:
    program = "n = int(input())\nprint(n * n if n < 3 else n)\n"
    cases = [{"stdin": f"{n}\n", "expected_output": f"{n * n}\n"} for n in (1, 2, 3, 4)]
    result = python.verify(program, test_cases=cases)
    assert (result.metadata["tests_passed"], result.reward) == (2, 0.5)


def test_python_output_then_hard_exit_is_not_a_completed_run(python: PythonVerifier) -> None:
    assert (
        python.verify("print('42')\nimport os\nos._exit(0)\n", expected_output="42\n").reward == 0.0
    )


def test_python_per_sample_asserts(python: PythonVerifier) -> None:
    program = "def square(n):\n    return n * n\n"
    assert (
        python.verify(program, tests=["assert square(3) == 9", "assert square(-2) == 4"]).reward
        == 1.0
    )


def test_third_party_packages_are_importable_only_when_asked() -> None:
    program = "import pytest\nprint('imported')\n"
    with PythonVerifier(use_cache=False, max_workers=1) as bare:
        assert "ModuleNotFoundError" in bare.verify(program).details
    with PythonVerifier(site_packages=True, use_cache=False, max_workers=1) as full:
        assert full.verify(program, expected_output="imported\n").reward == 1.0


def test_python_verifier_defaults_come_from_its_options() -> None:
    with PythonVerifier(expected_output="hi\n", use_cache=False, max_workers=1) as verifier:
        assert verifier.verify("print('hi')").reward == 1.0
        assert verifier.verify("print('bye')").reward == 0.0


def test_unittest_counts_each_test_method() -> None:
    program = (
        "import unittest\n\n\ndef add(a, b):\n    return a + b\n\n\n"
        "class TestAdd(unittest.TestCase):\n"
        "    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n\n"
        "    def test_wrong(self):\n        self.assertEqual(add(1, 1), 3)\n\n"
        "    def test_sub(self):\n        for n in range(3):\n            with self.subTest(n=n):\n"
        "                self.assertEqual(add(n, 0), n)\n"
    )
    with UnittestVerifier(use_cache=False, max_workers=1) as verifier:
        result = verifier.verify(program)
        nothing = verifier.verify("def add(a, b):\n    return a + b\n")
    assert (result.metadata["tests_passed"], result.metadata["tests_total"]) == (2, 3)
    assert "2 != 3" in result.details
    assert (nothing.reward, nothing.details) == (0.0, "no tests to run")


def test_every_python_verifier_is_registered_with_typed_options(humaneval_file: Path) -> None:
    assert {"pytest", "unittest", "humaneval", "mbpp", "python"} <= set(available_verifiers())
    verifier = build_verifier("humaneval", tasks=str(humaneval_file), timeout=2.0)
    try:
        assert isinstance(verifier, HumanEvalVerifier)
        assert verifier.limits.wall_timeout_s == 2.0
    finally:
        verifier.cleanup()
    with pytest.raises(VerifierError, match="timeout"):
        build_verifier("mbpp", timeout=-1)
    with pytest.raises(VerifierError, match="unknown option 'test_fle'"):
        build_verifier("pytest", test_fle="x.py")


def test_cache_fingerprint_follows_the_tasks_not_the_path(
    tmp_path: Path, humaneval_file: Path
) -> None:
    copy = tmp_path / "copy.jsonl"
    copy.write_text(humaneval_file.read_text())
    first = HumanEvalVerifier(str(humaneval_file), max_workers=1).cache_fingerprint()
    same = HumanEvalVerifier(str(copy), max_workers=3).cache_fingerprint()
    copy.write_text(humaneval_file.read_text().replace("[-1]) == True", "[-2]) == True"))
    changed = HumanEvalVerifier(str(copy)).cache_fingerprint()
    assert first == same
    assert changed != first
    assert first["verifier"] == "humaneval"
    assert {"python", "harness"} <= set(first)


def test_second_batch_is_served_from_the_result_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path / "cache"))
    codes = ["def triple(n):\n    return 3 * n\n", "def triple(n):\n    return n\n"]
    contexts = [{"tests": FOUR_TESTS}] * 2
    with MBPPVerifier(max_workers=1) as verifier:
        first = verifier.verify_batch(codes, contexts=contexts)
        second = verifier.verify_batch(codes, contexts=contexts)
    assert [result.reward for result in second] == [result.reward for result in first] == [1.0, 0.0]
    assert [result.metadata["cached"] for result in first + second] == [False, False, True, True]


def test_importing_the_verifiers_does_not_import_torch() -> None:
    code = "import sys, halo_forge.verifiers.python.verifiers; print('torch' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"


def test_a_pickled_verifier_starts_its_own_servers(mbpp: MBPPVerifier) -> None:
    mbpp.verify("def triple(n):\n    return 3 * n\n", tests=FOUR_TESTS)  # servers running here
    copy = pickle.loads(pickle.dumps(mbpp))
    try:
        assert copy.verify("def triple(n):\n    return 3 * n\n", tests=FOUR_TESTS).reward == 1.0
    finally:
        copy.cleanup()
