"""Built-in task suites: reference solutions pass their own verifiers, tests have teeth, and the
suites are deterministic, varied and well-formed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from halo_forge.data.builtin_tasks import BUILTIN_SUITES, FAMILIES, generate_tasks
from halo_forge.data.builtin_tasks.families import CATEGORIES, Family
from halo_forge.data.records import PromptRecord
from halo_forge.errors import DataError
from halo_forge.verifiers.registry import build_verifier

SUITES = list(BUILTIN_SUITES)
# Tasks per family checked by the real verifiers: C++ compiles cost most, Python runs least.
ROUNDS_VERIFIED = {"builtin_c": 2, "builtin_cpp": 1, "builtin_python": 4}


def _verify(suite: str, tasks: list[dict], solutions: list[str]) -> list[float]:
    """Rewards of `solutions` for `tasks`, from the verifier the suite names (no result cache)."""
    info = BUILTIN_SUITES[suite]
    with build_verifier(info.verifier, **info.verifier_options, use_cache=False) as verifier:
        results = verifier.verify_batch(
            solutions,
            contexts=[PromptRecord.model_validate(t).verification_context() for t in tasks],
        )
    return [result.reward for result in results]


@pytest.mark.parametrize("suite", SUITES)
def test_every_reference_solution_passes_its_verifier(suite: str) -> None:
    count = len(FAMILIES) * ROUNDS_VERIFIED[suite]
    tasks = generate_tasks(suite, count, seed=0)
    rewards = _verify(suite, tasks, [task["solution"] for task in tasks])
    failed = [task["task_id"] for task, reward in zip(tasks, rewards, strict=True) if reward != 1.0]
    assert failed == []


# Off-by-one edits of reference solutions: (suite, family, original text, broken text).
OFF_BY_ONE = [
    ("builtin_c", "count_greater", "if (a[i] > ", "if (a[i] >= "),
    ("builtin_c", "sum_multiples", "i <= n;", "i < n;"),
    ("builtin_cpp", "round_up", " - 1) / ", ") / "),
    ("builtin_cpp", "in_range", "x >= ", "x > "),
    ("builtin_python", "fibonacci_mod", "range(n)", "range(n - 1)"),
    ("builtin_python", "longest_run", "range(1, len(s))", "range(2, len(s))"),
]


@pytest.mark.parametrize(("suite", "family", "original", "broken"), OFF_BY_ONE)
def test_off_by_one_solution_fails_its_tests(
    suite: str, family: str, original: str, broken: str
) -> None:
    tasks = [
        task
        for task in generate_tasks(suite, 4 * len(FAMILIES), seed=0)
        if task["entry_point"] == family
    ]
    assert all(original in task["solution"] for task in tasks)
    rewards = _verify(suite, tasks, [task["solution"].replace(original, broken) for task in tasks])
    assert len(rewards) == 4
    assert all(reward < 1.0 for reward in rewards)


@pytest.mark.parametrize("suite", SUITES)
def test_same_seed_gives_byte_identical_tasks(suite: str) -> None:
    first = json.dumps(generate_tasks(suite, 150, seed=7))
    assert first == json.dumps(generate_tasks(suite, 150, seed=7))


def test_same_seed_gives_byte_identical_tasks_in_another_process() -> None:
    # A fresh interpreter with other hash randomisation: nothing may depend on hash() or ids.
    script = (
        "import json, sys; from halo_forge.data.builtin_tasks import generate_tasks; "
        "sys.stdout.write(json.dumps(generate_tasks('builtin_cpp', 100, seed=5)))"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True
    )
    assert child.stdout == json.dumps(generate_tasks("builtin_cpp", 100, seed=5))


def test_different_seeds_draw_different_constants_and_tests() -> None:
    seed_zero = generate_tasks("builtin_python", len(FAMILIES), seed=0)
    seed_one = generate_tasks("builtin_python", len(FAMILIES), seed=1)
    assert [task["task_id"] for task in seed_zero] == [task["task_id"] for task in seed_one]
    pairs = list(zip(seed_zero, seed_one, strict=True))
    assert all(zero["tests"] != one["tests"] for zero, one in pairs)
    # Families with ten or more constant combinations almost always start on a different one.
    varied = {family.name for family in FAMILIES if len(family.constants) >= 10}
    changed = {zero["entry_point"] for zero, one in pairs if zero["prompt"] != one["prompt"]}
    assert len(changed & varied) >= 0.8 * len(varied)


def test_same_index_is_the_same_problem_in_every_language() -> None:
    c_tasks = generate_tasks("builtin_c", len(FAMILIES), seed=2)
    cpp_tasks = generate_tasks("builtin_cpp", len(FAMILIES), seed=2)
    python_tasks = generate_tasks("builtin_python", len(FAMILIES), seed=2)
    assert [task["test_cases"] for task in c_tasks] == [task["test_cases"] for task in cpp_tasks]
    for c_task, python_task in zip(c_tasks, python_tasks, strict=True):
        assert c_task["task_id"].split("/")[1:] == python_task["task_id"].split("/")[1:]
        assert len(c_task["test_cases"]) == len(python_task["test_list"])


def test_smaller_count_is_a_prefix_of_a_larger_one() -> None:
    assert generate_tasks("builtin_c", 40, seed=3) == generate_tasks("builtin_c", 300, seed=3)[:40]


def test_task_ids_stay_unique_past_the_constant_space() -> None:
    # gcd has one constant combination, so its prompts repeat from the second task on.
    tasks = generate_tasks("builtin_python", 30 * len(FAMILIES), seed=0)
    ids = [task["task_id"] for task in tasks]
    assert len(set(ids)) == len(ids)
    gcd_tasks = [task for task in tasks if task["entry_point"] == "gcd"]
    assert len({task["prompt"] for task in gcd_tasks}) == 1
    assert len({task["tests"] for task in gcd_tasks}) == len(gcd_tasks)


def test_default_suite_repeats_a_prompt_only_once_its_family_runs_out_of_constants() -> None:
    tasks = generate_tasks("builtin_c")
    assert len(FAMILIES) >= 30
    assert len(tasks) == 20 * len(FAMILIES) >= 1200
    for family in FAMILIES:
        prompts = [task["prompt"] for task in tasks if task["entry_point"] == family.name]
        assert len(set(prompts)) == min(len(prompts), len(family.constants)), family.name


def test_first_tasks_cover_every_category_and_difficulty() -> None:
    tasks = generate_tasks("builtin_cpp", 2 * len(CATEGORIES), seed=0)
    assert {task["category"] for task in tasks} == set(CATEGORIES)
    difficulties = Counter(
        task["difficulty"] for task in generate_tasks("builtin_cpp", len(FAMILIES))
    )
    assert set(difficulties) == {1, 2, 3}
    assert min(difficulties.values()) >= 5


@pytest.mark.parametrize("suite", SUITES)
def test_records_are_rlvr_prompt_records_with_their_language(suite: str) -> None:
    language = BUILTIN_SUITES[suite].language
    for task in generate_tasks(suite, len(FAMILIES), seed=0):
        record = PromptRecord.model_validate(task)
        assert record.language == language
        assert task["task_id"].startswith(f"{suite}/{task['entry_point']}/")
        assert f"{task['entry_point']}(" in task["prompt"]
        assert task["difficulty"] in (1, 2, 3)


def test_c_tasks_ask_for_the_function_and_their_test_main_reads_what_tests_feed() -> None:
    task = next(
        t for t in generate_tasks("builtin_c", 100) if t["entry_point"] == "count_occurrences"
    )
    assert "`int count_occurrences(const int *a, int n, int x)`" in task["prompt"]
    assert "The tests supply main." in task["prompt"]
    assert "main(" not in task["solution"]
    assert task["solution"].count("int count_occurrences(const int *a, int n, int x) {") == 1
    assert "int main(void)" in task["tests"]
    assert "count_occurrences(a, n, x)" in task["tests"]
    for case in task["test_cases"]:
        length, elements, x = case["stdin"].splitlines()
        assert len(elements.split()) == int(length)
        assert case["expected_output"] == f"{elements.split().count(x)}\n"


@pytest.mark.parametrize("suite", ["builtin_c", "builtin_cpp"])
def test_a_function_without_the_test_main_is_not_a_program_that_links(suite: str) -> None:
    tasks = generate_tasks(suite, len(FAMILIES), seed=0)
    for task in tasks:
        task.pop("tests")
    rewards = _verify(suite, tasks, [task["solution"] for task in tasks])
    assert all(reward < 0.5 for reward in rewards)


@pytest.mark.parametrize("suite", ["builtin_c", "builtin_cpp"])
def test_program_tasks_have_three_to_five_cases_with_different_answers(suite: str) -> None:
    for task in generate_tasks(suite, 3 * len(FAMILIES), seed=0):
        outputs = [case["expected_output"] for case in task["test_cases"]]
        assert 3 <= len(outputs) <= 5
        assert len(set(outputs)) >= 2, task["task_id"]
        assert len({case["stdin"] for case in task["test_cases"]}) == len(outputs)


def test_python_tasks_carry_the_same_asserts_as_string_and_list() -> None:
    for task in generate_tasks("builtin_python", len(FAMILIES), seed=0):
        assert task["tests"].splitlines() == task["test_list"]
        assert 3 <= len(task["test_list"]) <= 5
        assert all(line.startswith(f"assert {task['entry_point']}(") for line in task["test_list"])
        assert task["solution"].count(f"def {task['entry_point']}(") == 1


def test_predicates_are_tested_on_both_outcomes() -> None:
    tasks = generate_tasks("builtin_python", 3 * len(FAMILIES), seed=0)
    predicates = [task for task in tasks if "-> bool" in task["prompt"]]
    assert len(predicates) >= 15
    for task in predicates:
        assert any(line.endswith("== True") for line in task["test_list"]), task["task_id"]
        assert any(line.endswith("== False") for line in task["test_list"]), task["task_id"]


def test_family_that_reuses_the_array_length_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="reserved parameter names"):
        Family(
            name="sum_first",
            category="arrays",
            difficulty=1,
            params=(("a", "array"), ("n", "int")),
            returns="int",
            summary="the sum of the first n elements of a",
            reference=lambda constants, a, n: sum(a[:n]),
            sample=lambda rng, constants: ([1, 2], 1),
            c="    return 0;",
            python="    return 0",
        )


def test_unknown_suite_raises_data_error_naming_the_suites() -> None:
    with pytest.raises(DataError, match="builtin_c, builtin_cpp, builtin_python"):
        generate_tasks("builtin_rust")


def test_negative_count_raises_data_error() -> None:
    with pytest.raises(DataError, match="0 or more"):
        generate_tasks("builtin_c", -1)


def test_zero_count_gives_no_tasks() -> None:
    assert generate_tasks("builtin_python", 0) == []
