"""Scoring a harness run: from authenticated records to a `VerifyResult`.

The units of a run (tests and setup steps) are known on the trusted side before it starts,
so a unit without a pass record failed, whatever the reason (an assert, an exit, a killed
server, a timeout). The reward is `reward_from_pass_fraction` of the tests, except that a run
past its time limit, or one that filled its scratch to the disk limit, scores 0: a program that
hangs or fills the disk is not partially right. A program that is
empty or does not parse is rejected here, before any process starts (compiling is not
executing). For Python, "compiled" means the program parsed: a result of a program that ran
under its tests has stage `tests` (`run` for plain runs) and `compiled=True`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from halo_forge.verifiers.build.testcases import outputs_match
from halo_forge.verifiers.result import Stage, VerifyResult, reward_from_pass_fraction

_FAILURES_KEPT = 5
_FAILURE_CHARS = 300


@dataclass(frozen=True)
class Unit:
    """One thing the harness reports on: a test (counted) or a setup step (not counted)."""

    label: str
    is_test: bool = True
    instances: int = 1  # pytest cases of one parametrized function known from the source


def reject_unrunnable(program: str, tests_total: int) -> VerifyResult | None:
    """A zero result for a program that is empty or does not parse, or that has no tests.

    Compiling is not executing, so this runs here, in the trusted process.
    """
    if not program.strip():
        return zero_result("no Python code found in the answer", tests_total, "extract", False)
    try:
        compile(program, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        reason = getattr(error, "msg", str(error))
        where = f"line {line}: " if line else ""
        details = f"the program does not parse: {where}{reason}"
        return zero_result(details, tests_total, "parse", False, reason)
    if tests_total == 0:
        return zero_result("no tests to run", 0, "parse", True)
    return None


def zero_result(
    details: str, tests_total: int, stage: Stage, compiled: bool, error: str | None = None
) -> VerifyResult:
    """A failed result with reward 0 that still records how many tests there were."""
    return VerifyResult(
        False,
        0.0,
        details=details,
        error=error or details,
        metadata={"tests_passed": 0, "tests_total": tests_total},
        stage=stage,
        compiled=compiled,
    )


def score_response(response: dict[str, Any], units: list[Unit], timeout_s: float) -> VerifyResult:
    """The reward of a run from its authenticated records (a unit without a pass failed)."""
    tests_total = sum(unit.instances for unit in units if unit.is_test)
    refused = response.get("server_failure") or response.get("error") or response.get("tampered")
    if refused:
        result = zero_result(f"no verdict: {refused}", tests_total, "tests", True)
        result.metadata["tampered"] = bool(response.get("tampered"))
        return result
    passes: Counter[int] = Counter()
    counts: dict[int, int] = {}
    messages: dict[int, str] = {}
    program_error = None
    for kind, index, message in response["records"]:
        if kind == "E":
            program_error = program_error or message
        elif 0 <= index < len(units):
            if kind == "P":
                passes[index] += 1
            elif kind == "F":
                messages.setdefault(index, message)
            elif kind == "N" and message.isdigit():
                counts[index] = int(message)
    ended = _how_it_ended(response, timeout_s)
    tests_total = tests_passed = 0
    failures = []
    for index, unit in enumerate(units):
        expected = max(unit.instances, counts.get(index, 0))
        passed = min(passes[index], expected) if unit.is_test else 0
        tests_total += expected if unit.is_test else 0
        tests_passed += passed
        if unit.is_test and passed < expected:
            reason = messages.get(index) or program_error or ended or "did not report"
            failures.append(f"{unit.label}: {reason}"[:_FAILURE_CHARS])
        elif not unit.is_test and index in messages:
            failures.append(f"setup {unit.label}: {messages[index]}"[:_FAILURE_CHARS])
    timed_out = bool(response.get("timed_out"))
    disk_limit = response.get("disk_limit_reached_mb")
    crashed = timed_out or disk_limit is not None
    reward = 0.0 if crashed else reward_from_pass_fraction(tests_passed, tests_total)
    details = f"{tests_passed}/{tests_total} tests passed"
    if timed_out:
        details += f"; timed out after {timeout_s:g} s (a program that hangs scores 0)"
    elif disk_limit is not None:
        details += (
            f"; disk limit of {disk_limit} MiB reached (a program that fills its scratch scores 0)"
        )
    elif program_error:
        details += f"; the program failed before its tests: {program_error}"
    if failures:
        details += f"; first failure: {failures[0]}"
    return VerifyResult(
        success=tests_total > 0 and tests_passed == tests_total and not crashed,
        reward=reward,
        details=details,
        error=None if tests_passed == tests_total and not crashed else details,
        metadata={
            "tests_passed": tests_passed,
            "tests_total": tests_total,
            "failures": failures[:_FAILURES_KEPT],
            "timed_out": timed_out,
            "wall_time_s": round(float(response.get("wall_time_s", 0.0)), 4),
        },
        stage="tests",
        compiled=True,
    )


def _how_it_ended(response: dict[str, Any], timeout_s: float) -> str | None:
    if response.get("timed_out"):
        return f"did not finish within {timeout_s:g} s"
    if not response.get("done"):
        return f"the test process ended before reporting it ({response.get('exit', 'unknown')})"
    return None


def score_script_runs(
    responses: list[dict[str, Any]], expected: list[str | None], timeout_s: float
) -> VerifyResult:
    """A case passes when its run reported completion and its stdout matches (if asked)."""
    passed = 0
    failures = []
    for number, (response, wanted) in enumerate(zip(responses, expected, strict=True), 1):
        run = score_response(response, [Unit("the program runs to its end")], timeout_s)
        stdout = response.get("stdout", "")
        if not run.success:
            failures.append(f"case {number}: {run.details}")
        elif response.get("output_truncated"):
            failures.append(f"case {number}: the output exceeded the limit")
        elif wanted is not None and not outputs_match(stdout, wanted):
            failures.append(
                f"case {number}: wrong output {stdout[:80]!r}, expected {wanted[:80]!r}"
            )
        else:
            passed += 1
    total = len(responses)
    details = f"{passed}/{total} runs passed"
    if failures:
        details += f"; first failure: {failures[0]}"
    return VerifyResult(
        success=passed == total,
        reward=reward_from_pass_fraction(passed, total),
        details=details,
        error=None if passed == total else details,
        metadata={
            "tests_passed": passed,
            "tests_total": total,
            "failures": [failure[:_FAILURE_CHARS] for failure in failures[:_FAILURES_KEPT]],
        },
        stage="run",
        compiled=True,
    )
