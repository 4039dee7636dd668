"""Python test verifiers: pytest, unittest, HumanEval, MBPP, and plain Python programs.

    MBPPVerifier("data/mbpp.jsonl").verify(code, task_id=601)
    HumanEvalVerifier("HumanEval.jsonl.gz").verify(completion, task_id="HumanEval/0")
    PytestVerifier().verify(code_with_inline_tests)
    PytestVerifier(test_file="tests/test_solution.py").verify(solution_code)
    UnittestVerifier().verify(code_with_unittest)
    PythonVerifier().verify(code, expected_output="42\\n")

Every program runs in a child forked from a warm server in the sandbox (`runner`,
through the shared machinery of `base`), and
its tests report through the trusted harness (`harness`, whose docstring holds the
threat model): exiting, printing, patching or killing its way to a pass does not work. The
reward is the fraction of tests that pass (`reward_from_pass_fraction`: 1.0 / 0.75 / 0.5 /
0.25 / 0.0), counting each assert of a HumanEval `check` or an MBPP test as its own test; a
program that does not parse, or that runs past its time limit, scores 0. `metadata` holds
`tests_passed`, `tests_total` and the first failure messages.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

from pydantic import Field

from halo_forge.errors import DataError, VerifierError
from halo_forge.verifiers.build.testcases import cases_from_context
from halo_forge.verifiers.python.base import (
    SAMPLE_CHECK_FUNCTION,
    PythonTestOptions,
    PythonTestVerifier,
    assert_request,
    declared_units,
    sample_tests_problem,
    steps_units,
    tests_from_context,
)
from halo_forge.verifiers.python.benchmark_tasks import PythonTask, TaskSet
from halo_forge.verifiers.python.scoring import reject_unrunnable, score_script_runs
from halo_forge.verifiers.python.units import (
    DeclaredTest,
    assert_steps,
    declared_pytest_tests,
    declared_unittest_tests,
)
from halo_forge.verifiers.registry import register_verifier
from halo_forge.verifiers.result import VerifyResult


class TaskFileOptions(PythonTestOptions):
    """Options of the benchmark verifiers: where the tasks are."""

    tasks: str | None = Field(
        None, description="Task file (.jsonl or .jsonl.gz); without it, samples carry `tests`."
    )


class PytestOptions(PythonTestOptions):
    """Options of `PytestVerifier`."""

    test_file: str | None = Field(
        None, description="Trusted test file that imports the program as `solution`."
    )


class PythonOptions(PythonTestOptions):
    """Options of `PythonVerifier`."""

    expected_output: str | None = Field(None, description="Default expected stdout.")
    stdin: str | None = Field(None, description="Default standard input.")


class TaskVerifier(PythonTestVerifier):
    """HumanEval and MBPP: tasks from a file, found by `task_id` or by the prompt."""

    context_keys = ("task_id", "prompt", "tests")

    def __init__(self, tasks: str | Path | TaskSet | None = None, **options: Any) -> None:
        super().__init__(**options)
        if isinstance(tasks, TaskSet):
            self.tasks: TaskSet | None = tasks
        else:
            self.tasks = TaskSet.load(tasks) if tasks is not None else None

    def cache_fingerprint(self) -> dict[str, Any] | None:
        fingerprint = super().cache_fingerprint() or {}
        fingerprint["options"].pop("tasks", None)  # the file's content counts, not its path
        fingerprint["tasks"] = self.tasks.fingerprint if self.tasks is not None else None
        return fingerprint

    def find_task(self, task_id: Any = None, prompt: str | None = None) -> PythonTask:
        """The task of a sample, by id, else by prompt.

        A verifier that cannot know any sample's task raises `VerifierError`, which stops the
        batch (scoring everything 0 would train on noise); one sample's unknown id or prompt
        raises `DataError`, which fails that sample only.
        """
        if self.tasks is None:
            raise VerifierError(
                f"{type(self).__name__} has no task file: pass one (tasks=...) or give each "
                "sample its own `tests` (HumanEval: and `entry_point`)"
            )
        if task_id is not None:
            return self.tasks.get(task_id)
        if prompt is not None:
            return self.tasks.find_by_prompt(prompt)
        raise VerifierError("pass task_ids (or prompts) to verify, so each sample's task is known")

    def task_file_problem(self, context: dict[str, Any], own_task: str) -> str | None:
        """Why a sample without its own task (`own_task`, in words) has none in the task file."""
        if self.tasks is None:
            return (
                f"no {own_task}, and the verifier has no task file to look the task up in "
                "(option tasks=FILE)"
            )
        try:
            self.find_task(context.get("task_id"), context.get("prompt"))
        except (DataError, VerifierError) as error:
            return str(error)
        return None


@register_verifier("mbpp", options=TaskFileOptions)
class MBPPVerifier(TaskVerifier):
    """MBPP: run each assert of the task's tests against the program."""

    def verify(self, code: str, **context: Any) -> VerifyResult:
        program = self.extract_code(code)
        if context.get("tests") is not None:
            tests = tests_from_context(context["tests"])
            task = PythonTask(
                task_id="",
                prompt="",
                entry_point="",
                test_source=tests,
                check_function=SAMPLE_CHECK_FUNCTION,
            )
        else:
            task = self.find_task(context.get("task_id"), context.get("prompt"))
        steps, parameter = assert_steps(task.test_source, task.check_function, task.setup_code)
        request = assert_request(program, steps, parameter, task.entry_point)
        return self.run_units(request, steps_units(steps))

    def missing_context(self, context: dict[str, Any]) -> str | None:
        """A sample needs its own `tests` (asserts), or a task the task file knows."""
        if context.get("tests") is not None:
            return sample_tests_problem(context["tests"], SAMPLE_CHECK_FUNCTION)
        return self.task_file_problem(context, "`tests` (the asserts its answer must pass)")


@register_verifier("humaneval", options=TaskFileOptions)
class HumanEvalVerifier(TaskVerifier):
    """HumanEval: complete the prompt's function; each assert of `check` is a test."""

    context_keys = ("task_id", "prompt", "tests", "entry_point")

    def verify(self, code: str, **context: Any) -> VerifyResult:
        task = sample_humaneval_task(context) or self.find_task(
            context.get("task_id"), context.get("prompt")
        )
        program = complete_prompt(task, self.extract_code(code))
        steps, parameter = assert_steps(task.test_source, task.check_function, task.setup_code)
        request = assert_request(program, steps, parameter, task.entry_point)
        return self.run_units(request, steps_units(steps))

    def missing_context(self, context: dict[str, Any]) -> str | None:
        """A sample needs its own `tests` and `entry_point`, or a task the task file knows."""
        task = sample_humaneval_task(context)
        if task is not None:
            return sample_tests_problem(task.test_source, "check")
        return self.task_file_problem(
            context, "`tests` defining check(candidate) with the `entry_point` it tests"
        )


def sample_humaneval_task(context: dict[str, Any]) -> PythonTask | None:
    """The task a sample carries itself (a prompt record of `data prepare --dataset humaneval`:
    its `prompt`, its `tests` defining `check(candidate)` and its `entry_point`), if it does."""
    if not all(isinstance(context.get(key), str) for key in ("tests", "entry_point", "prompt")):
        return None
    return PythonTask(
        task_id=str(context.get("task_id", "")),
        prompt=context["prompt"],
        entry_point=context["entry_point"],
        test_source=context["tests"],
        check_function="check",
        prompt_is_code=True,
    )


def complete_prompt(task: PythonTask, completion: str) -> str:
    """The program of a completion: the prompt plus a body, or plus a whole new function.

    A completion that defines `entry_point` at top level is a full function; it follows the
    prompt, so the prompt's imports and helpers stay and the new definition replaces the stub.
    Anything else is the body that continues the prompt's signature and docstring.
    """
    if not completion.strip():
        return ""
    try:
        module = ast.parse(completion)
    except SyntaxError:
        return task.prompt + completion
    defines_entry_point = any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == task.entry_point
        for node in module.body
    )
    if defines_entry_point:
        return task.prompt.rstrip() + "\n\n\n" + completion
    return task.prompt + completion


@register_verifier("pytest", options=PytestOptions)
class PytestVerifier(PythonTestVerifier):
    """pytest: the program's own tests, or a trusted test file that imports the program."""

    needs_site_packages = True
    preload = ("halo_forge.verifiers.python.harness_pytest",)
    context_keys = ()

    def __init__(self, test_file: str | Path | None = None, **options: Any) -> None:
        if importlib.util.find_spec("pytest") is None:
            raise VerifierError("PytestVerifier runs real pytest: pip install pytest")
        if test_file is not None:
            options["test_file"] = str(test_file)
        super().__init__(**options)
        self.test_source: str | None = None
        self.test_file_name: str | None = None
        self.declared: list[DeclaredTest] | None = None  # of the test file, when there is one
        if self.options.test_file is not None:
            path = Path(self.options.test_file)
            if not path.is_file():
                raise VerifierError(f"pytest test file {path} does not exist; pass a .py file")
            if path.name == "solution.py":
                raise VerifierError("the pytest test file cannot be named solution.py; rename it")
            self.test_source = path.read_text(encoding="utf-8")
            self.test_file_name = path.name
            try:
                self.declared = declared_pytest_tests(self.test_source)
            except SyntaxError as error:
                raise VerifierError(f"pytest test file {path}: {error}") from None
            if not self.declared:
                raise VerifierError(f"pytest test file {path} defines no test* functions")

    def cache_fingerprint(self) -> dict[str, Any] | None:
        fingerprint = super().cache_fingerprint() or {}
        fingerprint["options"].pop("test_file", None)
        fingerprint["test_source"] = self.test_source
        return fingerprint

    def verify(self, code: str, **context: Any) -> VerifyResult:
        program = self.extract_code(code)
        declared = self.declared
        if declared is None:
            try:
                declared = declared_pytest_tests(program)
            except SyntaxError:
                declared = []  # the program does not parse: run_units says so
        request = {
            "mode": "pytest",
            "code": program,
            "declared": [[test.class_name, test.name, test.first_line] for test in declared],
            "test_file_source": self.test_source,
            "test_file_name": self.test_file_name,
        }
        return self.run_units(request, declared_units(declared))


@register_verifier("unittest", options=PythonTestOptions)
class UnittestVerifier(PythonTestVerifier):
    """unittest: each `test*` method of the program's TestCase classes is a test."""

    preload = ("unittest",)
    context_keys = ()

    def verify(self, code: str, **context: Any) -> VerifyResult:
        program = self.extract_code(code)
        try:
            declared = declared_unittest_tests(program)
        except SyntaxError:
            declared = []
        request = {
            "mode": "unittest",
            "code": program,
            "declared": [[test.class_name, test.name, test.first_line] for test in declared],
        }
        return self.run_units(request, declared_units(declared))


@register_verifier("python", options=PythonOptions)
class PythonVerifier(PythonTestVerifier):
    """Python program: runs without error; optionally checks stdout, test cases or asserts."""

    context_keys = ("tests", "test_cases", "expected_output", "stdin")

    def verify(self, code: str, **context: Any) -> VerifyResult:
        program = self.extract_code(code)
        if context.get("tests") is not None:
            tests = tests_from_context(context["tests"])
            steps, _ = assert_steps(tests, SAMPLE_CHECK_FUNCTION)
            return self.run_units(assert_request(program, steps, None, ""), steps_units(steps))
        cases = cases_from_context(context, self.options.stdin, self.options.expected_output)
        rejected = reject_unrunnable(program, len(cases))
        if rejected is not None:
            return rejected
        responses = [
            self.execute({"mode": "script", "code": program, "stdin": case.stdin or ""})
            for case in cases
        ]
        expected = [case.expected_output for case in cases]
        return score_script_runs(responses, expected, self.options.timeout)

    def missing_context(self, context: dict[str, Any]) -> str | None:
        """Only `tests` a sample carries can be unusable: without expectations, a program
        that runs without error passes (the documented run-only mode)."""
        if context.get("tests") is None:
            return None
        return sample_tests_problem(context["tests"], SAMPLE_CHECK_FUNCTION)
