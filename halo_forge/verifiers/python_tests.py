"""Python test verifiers: pytest, unittest, HumanEval, MBPP, and plain Python programs.

    MBPPVerifier("data/mbpp.jsonl").verify(code, task_id=601)
    HumanEvalVerifier("HumanEval.jsonl.gz").verify(completion, task_id="HumanEval/0")
    PytestVerifier().verify(code_with_inline_tests)
    PytestVerifier(test_file="tests/test_solution.py").verify(solution_code)
    UnittestVerifier().verify(code_with_unittest)
    PythonVerifier().verify(code, expected_output="42\\n")

Every program runs in a child forked from a warm server in the sandbox (`python_runner`), and
its tests report through the trusted harness (`python_harness`, whose docstring holds the
threat model): exiting, printing, patching or killing its way to a pass does not work. The
reward is the fraction of tests that pass (`reward_from_pass_fraction`: 1.0 / 0.75 / 0.5 /
0.25 / 0.0), counting each assert of a HumanEval `check` or an MBPP test as its own test; a
program that does not parse, or that runs past its time limit, scores 0. `metadata` holds
`tests_passed`, `tests_total` and the first failure messages.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.benchmark_tasks import PythonTask, TaskSet
from halo_forge.verifiers.python_runner import ForkServerPool, python_environment
from halo_forge.verifiers.python_scoring import (
    Unit,
    reject_unrunnable,
    score_response,
    score_script_runs,
)
from halo_forge.verifiers.python_test_units import (
    DeclaredTest,
    TestStep,
    assert_steps,
    declared_pytest_tests,
    declared_unittest_tests,
)
from halo_forge.verifiers.registry import register_verifier, validate_options
from halo_forge.verifiers.sandbox import SandboxLimits
from halo_forge.verifiers.testcases import cases_from_context

PYTHON_LANGUAGES = ("python", "py", "python3")


class PythonTestOptions(BaseModel):
    """Options every Python test verifier takes."""

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(5.0, gt=0, description="Seconds a program and its tests may run.")
    memory_limit_mb: int = Field(1024, ge=64, description="Address-space limit, in MiB.")
    max_processes: int = Field(64, ge=1, description="Processes a program may start.")
    max_workers: int | None = Field(
        None,
        ge=1,
        description="Parallel verifications (twice the CPU count: a sample passes between "
        "three processes, so one worker per core leaves cores idle at each hand-off).",
    )
    use_cache: bool = Field(True, description="Reuse results from the on-disk result cache.")
    site_packages: bool = Field(
        False,
        description="Let programs import installed third-party packages (servers start without "
        "site-packages by default: smaller processes fork faster).",
    )


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


class PythonTestVerifier(Verifier):
    """Shared machinery: options, the warm server pool, the request and the scoring."""

    verifier_name: ClassVar[str]
    options_model: ClassVar[type[PythonTestOptions]] = PythonTestOptions
    needs_site_packages: ClassVar[bool] = False
    preload: ClassVar[tuple[str, ...]] = ()
    languages = PYTHON_LANGUAGES

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(self.options_model, options, owner=type(self).__name__)
        workers = self.options.max_workers or 2 * (os.cpu_count() or 1)
        super().__init__(max_workers=workers, use_cache=self.options.use_cache)
        self.limits = SandboxLimits(
            wall_timeout_s=self.options.timeout,
            memory_limit_mb=self.options.memory_limit_mb,
            max_processes=self.options.max_processes,
        )
        self._limits_dict = asdict(self.limits)
        self._pool: ForkServerPool | None = None
        self._pool_lock = threading.Lock()

    def _servers(self) -> ForkServerPool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ForkServerPool(
                    self.max_workers,
                    self.limits,
                    site_packages=self.needs_site_packages or self.options.site_packages,
                    preload=self.preload,
                )
            return self._pool

    def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one harness request on a warm server (see `python_harness.run_child`)."""
        return self._servers().run({**request, "limits": self._limits_dict})

    def cache_fingerprint(self) -> dict[str, Any] | None:
        options = self.options.model_dump(mode="json", exclude={"max_workers", "use_cache"})
        return {"verifier": self.verifier_name, "options": options, **python_environment()}

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (to ship a verifier to another process): the servers stay behind."""
        state = self.__dict__.copy()
        state["_pool"] = None
        del state["_pool_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pool_lock = threading.Lock()

    def cleanup(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def run_units(self, request: dict[str, Any], units: list[Unit]) -> VerifyResult:
        """Syntax-check the program here, run it with its tests there, and score the records."""
        tests_total = sum(unit.instances for unit in units if unit.is_test)
        rejected = reject_unrunnable(request["code"], tests_total)
        if rejected is not None:
            return rejected
        return score_response(self.execute(request), units, self.options.timeout)


def _steps_units(steps: Sequence[TestStep]) -> list[Unit]:
    return [Unit(label=step.label, is_test=step.is_test) for step in steps]


def _declared_units(declared: list[DeclaredTest]) -> list[Unit]:
    return [
        Unit(
            label=f"{test.class_name}.{test.name}" if test.class_name else test.name,
            instances=test.instances,
        )
        for test in declared
    ]


def _assert_request(
    program: str, steps: Sequence[TestStep], parameter: str | None, entry_point: str
) -> dict[str, Any]:
    return {
        "mode": "asserts",
        "code": program,
        "steps": [step.source for step in steps],
        "parameter": parameter,
        "entry_point": entry_point,
    }


#: The function whose asserts are the tests when a sample brings its own test module.
SAMPLE_CHECK_FUNCTION = "test_solution"


def _tests_from_context(tests: Any) -> str:
    """A sample's own `tests`: a module (asserts at top level or in `def test_solution()`),
    or a list of assert statements."""
    if isinstance(tests, str):
        return tests
    if isinstance(tests, list) and all(isinstance(test, str) for test in tests):
        return "\n".join(tests) + "\n"
    raise VerifierError("tests must be a test source string or a list of assert statements")


class TaskVerifier(PythonTestVerifier):
    """HumanEval and MBPP: tasks from a file, found by `task_id` or by the prompt."""

    options_model = TaskFileOptions
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
                "sample its own `tests`"
            )
        if task_id is not None:
            return self.tasks.get(task_id)
        if prompt is not None:
            return self.tasks.find_by_prompt(prompt)
        raise VerifierError("pass task_ids (or prompts) to verify, so each sample's task is known")


@register_verifier("mbpp", options=TaskFileOptions)
class MBPPVerifier(TaskVerifier):
    """MBPP: run each assert of the task's tests against the program."""

    verifier_name = "mbpp"

    def verify(self, code: str, **context: Any) -> VerifyResult:
        program = self.extract_code(code)
        if context.get("tests") is not None:
            tests = _tests_from_context(context["tests"])
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
        request = _assert_request(program, steps, parameter, task.entry_point)
        return self.run_units(request, _steps_units(steps))


@register_verifier("humaneval", options=TaskFileOptions)
class HumanEvalVerifier(TaskVerifier):
    """HumanEval: complete the prompt's function; each assert of `check` is a test."""

    verifier_name = "humaneval"

    def verify(self, code: str, **context: Any) -> VerifyResult:
        task = self.find_task(context.get("task_id"), context.get("prompt"))
        program = complete_prompt(task, self.extract_code(code))
        steps, parameter = assert_steps(task.test_source, task.check_function, task.setup_code)
        request = _assert_request(program, steps, parameter, task.entry_point)
        return self.run_units(request, _steps_units(steps))


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

    verifier_name = "pytest"
    options_model = PytestOptions
    needs_site_packages = True
    preload = ("halo_forge.verifiers.python_harness_pytest",)
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
        return self.run_units(request, _declared_units(declared))


@register_verifier("unittest", options=PythonTestOptions)
class UnittestVerifier(PythonTestVerifier):
    """unittest: each `test*` method of the program's TestCase classes is a test."""

    verifier_name = "unittest"
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
        return self.run_units(request, _declared_units(declared))


@register_verifier("python", options=PythonOptions)
class PythonVerifier(PythonTestVerifier):
    """Python program: runs without error; optionally checks stdout, test cases or asserts."""

    verifier_name = "python"
    options_model = PythonOptions
    context_keys = ("tests", "test_cases", "expected_output", "stdin")

    def verify(self, code: str, **context: Any) -> VerifyResult:
        program = self.extract_code(code)
        if context.get("tests") is not None:
            tests = _tests_from_context(context["tests"])
            steps, _ = assert_steps(tests, SAMPLE_CHECK_FUNCTION)
            return self.run_units(_assert_request(program, steps, None, ""), _steps_units(steps))
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
