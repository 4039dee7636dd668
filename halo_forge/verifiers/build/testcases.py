"""Run a built program against its test cases and score the runs.

Each sample may carry its own expectations, so RAFT checks every prompt against that prompt's
tests: `test_cases: [{stdin, expected_output}, ...]`, or a single `expected_output` and/or
`stdin`, else the verifier's defaults. Outputs are compared after normalising whitespace at
line ends: trailing spaces and tabs on each line and trailing blank lines are ignored (what
competitive-programming judges ignore too); everything else, including leading spaces and
blank lines inside the output, must match exactly.

A run *completes* when the program exits with status 0 within its time limit, without
flooding its output and without filling its scratch to the disk limit; a crash, a non-zero
exit, a timeout, an output flood or a full scratch is a runtime failure. Scores: all cases pass 1.0; some pass 0.8; none pass but a run completed 0.7; every
run failed 0.6. With no expected output at all, a completed run is all that is asked (0.7,
success).

Whether a program runs at all follows the data (`plan_run`): a sample that carries something to
check a run against is run unless `run_after_compile` is false, so a reported success means the
sample's own tests passed; a result whose checks were skipped says so in
`metadata["compile_only"]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from halo_forge.errors import VerifierError
from halo_forge.verifiers.result import ERROR_EXCERPT_CHARS, RewardLevel, VerifyResult
from halo_forge.verifiers.sandbox import SandboxResult

if TYPE_CHECKING:
    from halo_forge.verifiers.build.options import BuildOptions


@dataclass(frozen=True)
class TestCase:
    """One run of the program: what it reads and, if known, what it must print."""

    __test__ = False  # not a pytest test class

    stdin: str | None = None
    expected_output: str | None = None


@dataclass
class RunOutcome:
    """What happened in the runs of one program."""

    total: int = 0
    passed: int = 0
    completed: int = 0  # runs that exited 0 in time without flooding output
    failures: list[str] = field(default_factory=list)  # one line per failed case

    @property
    def has_expectations(self) -> bool:
        return self.total > 0


def normalise_output(text: str) -> str:
    """Output with trailing whitespace of every line and trailing blank lines removed."""
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")


def outputs_match(actual: str, expected: str) -> bool:
    """Whether a program's output matches the expected one (see `normalise_output`)."""
    return normalise_output(actual) == normalise_output(expected)


def cases_from_context(
    context: Mapping[str, Any], default_stdin: str | None, default_expected: str | None
) -> list[TestCase]:
    """The cases to run for one sample: its `test_cases`, its single expectation, or defaults."""
    raw_cases = context.get("test_cases")
    if raw_cases is not None:
        if not isinstance(raw_cases, Sequence) or isinstance(raw_cases, str):
            raise VerifierError("test_cases must be a list of {stdin, expected_output} objects")
        cases = []
        for number, raw in enumerate(raw_cases, start=1):
            if not isinstance(raw, Mapping) or not set(raw) <= {"stdin", "expected_output"}:
                raise VerifierError(
                    f"test case {number} must be an object with keys stdin and expected_output, "
                    f"got {raw!r}"
                )
            cases.append(
                TestCase(stdin=raw.get("stdin"), expected_output=raw.get("expected_output"))
            )
        return cases
    stdin = context.get("stdin", default_stdin)
    expected = context.get("expected_output", default_expected)
    return [TestCase(stdin=stdin, expected_output=expected)]


#: Context keys that give a program's runs something to check. Verifiers that compile a
#: sample's test code (`tests`, e.g. a test `main`) into the program add that key.
RUN_CHECK_KEYS = ("test_cases", "expected_output", "stdin")


def carries_run_checks(
    context: Mapping[str, Any],
    default_stdin: str | None,
    default_expected: str | None,
    keys: Sequence[str] = RUN_CHECK_KEYS,
) -> bool:
    """Whether a run of this sample can be checked: the sample has one of `keys` (an empty list
    or empty test code holds nothing to check) or the verifier has a default stdin or output."""
    if default_stdin is not None or default_expected is not None:
        return True
    for key in keys:
        value = context.get(key)
        if value is None or (key in ("test_cases", "tests") and not value):
            continue
        return True
    return False


def plan_run(run_after_compile: bool | None, has_checks: bool, metadata: dict[str, Any]) -> bool:
    """Whether to run a sample's program: `run_after_compile` when set, else `has_checks`.

    A sample whose checks are not run gets `metadata["compile_only"] = True`, so a summary can
    tell "compiles" from "passes its tests" instead of reading one as the other.
    """
    runs = has_checks if run_after_compile is None else run_after_compile
    if has_checks and not runs:
        metadata["compile_only"] = True
    return runs


def with_test_code(program: str, context: Mapping[str, Any]) -> str:
    """`program` followed by the sample's test code (`tests`, HumanEval-X style: e.g. a `main`
    that calls the function the prompt asked for), so its runs check that function."""
    tests = context.get("tests")
    if not tests:
        return program
    return f"{program.rstrip()}\n\n{tests.strip()}\n"


class ProgramRunner(Protocol):
    """Runs a built program: the local `Sandbox`, or a remote build host."""

    def run(self, argv: Sequence[str], *, workdir: Path, stdin: str | None = None) -> SandboxResult:
        """Run `argv` in `workdir` with `stdin`, within the runner's limits."""
        ...


def run_test_cases(
    runner: ProgramRunner, workdir: Path, argv: list[str], cases: list[TestCase]
) -> RunOutcome:
    """Run `argv` with `runner` once per case, in `workdir`; count completed and passing runs."""
    outcome = RunOutcome()
    for number, case in enumerate(cases, start=1):
        result = runner.run(argv, workdir=workdir, stdin=case.stdin)
        completed = _completed(result)
        outcome.completed += completed
        if case.expected_output is None:
            if not completed:
                outcome.failures.append(f"run {number}: {describe_failure(result)}")
            continue
        outcome.total += 1
        if completed and outputs_match(result.stdout, case.expected_output):
            outcome.passed += 1
        elif completed:
            outcome.failures.append(
                f"case {number}: wrong output: expected {_excerpt(case.expected_output)}, "
                f"got {_excerpt(result.stdout)}"
            )
        else:
            outcome.failures.append(f"case {number}: {describe_failure(result)}")
    return outcome


def execution_reward(outcome: RunOutcome) -> tuple[float, bool]:
    """Reward and success of a program that compiled, from its runs."""
    if outcome.has_expectations:
        if outcome.passed == outcome.total:
            return float(RewardLevel.CORRECT), True
        if outcome.passed > 0:
            return float(RewardLevel.PARTIAL_OUTPUT), False
        if outcome.completed > 0:
            return float(RewardLevel.WRONG_OUTPUT), False
        return float(RewardLevel.RUNTIME_FAILURE), False
    if outcome.failures:
        return float(RewardLevel.RUNTIME_FAILURE), False
    return float(RewardLevel.RUNS_NO_CRASH), True


def verify_sample_runs(
    runner: ProgramRunner,
    workdir: Path,
    argv: list[str],
    context: Mapping[str, Any],
    options: BuildOptions,
    metadata: dict[str, Any],
) -> VerifyResult:
    """`verify_runs` on the sample's cases: its context's, else the verifier's defaults."""
    cases = cases_from_context(context, options.stdin_input, options.expected_output)
    return verify_runs(runner, workdir, argv, cases, metadata)


def verify_runs(
    runner: ProgramRunner,
    workdir: Path,
    argv: list[str],
    cases: list[TestCase],
    metadata: dict[str, Any],
) -> VerifyResult:
    """The result of a program that compiled, from its runs on `cases` (stage "run")."""
    outcome = run_test_cases(runner, workdir, argv, cases)
    reward, success = execution_reward(outcome)
    if outcome.has_expectations:
        metadata["test_cases_passed"] = outcome.passed
        metadata["test_cases_total"] = outcome.total
        details = f"{outcome.passed}/{outcome.total} test case(s) passed"
    else:
        details = "ran to completion" if success else "run failed"
    return VerifyResult(
        success=success,
        reward=reward,
        details=details,
        error="; ".join(outcome.failures)[:ERROR_EXCERPT_CHARS] or None,
        metadata={**metadata, "stage": "run"},
        stage="run",
        compiled=True,
    )


def _completed(result: SandboxResult) -> bool:
    return result.ok and not result.output_truncated


def describe_failure(result: SandboxResult) -> str:
    """One line saying why a run did not complete."""
    if result.timed_out:
        return f"timed out after {result.wall_time_s:.1f} s"
    if result.disk_limit_reached_mb is not None:
        return f"disk limit of {result.disk_limit_reached_mb} MiB reached"
    if result.output_truncated:
        return "output exceeded the limit"
    if result.signal is not None:
        return f"killed by signal {result.signal}"
    stderr = result.stderr.strip().splitlines()
    detail = f": {stderr[-1][:200]}" if stderr else ""
    return f"exit status {result.returncode}{detail}"


def _excerpt(text: str, limit: int = 80) -> str:
    text = normalise_output(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")
