"""Scoring authenticated records: a unit without a pass failed, whatever stopped it."""

from __future__ import annotations

from halo_forge.verifiers.python.scoring import Unit, reject_unrunnable, score_response

UNITS = [Unit("setup", is_test=False), Unit("assert a"), Unit("assert b"), Unit("assert c")]


def response(records: list[list], **fields) -> dict:
    return {"records": records, "done": True, "timed_out": False, "tampered": None, **fields}


def test_passes_count_and_setup_steps_do_not() -> None:
    result = score_response(
        response(
            [["P", 0, ""], ["P", 1, ""], ["F", 2, "AssertionError"], ["P", 3, ""], ["D", 0, ""]]
        ),
        UNITS,
        5.0,
    )
    assert (result.metadata["tests_passed"], result.metadata["tests_total"], result.reward) == (
        2,
        3,
        0.5,
    )
    assert result.metadata["failures"] == ["assert b: AssertionError"]


def test_a_test_that_never_reported_failed_and_says_how_the_process_ended() -> None:
    result = score_response(response([["P", 1, ""]], done=False, exit="exit status 0"), UNITS, 5.0)
    assert result.metadata["tests_passed"] == 1
    assert "ended before reporting it (exit status 0)" in result.metadata["failures"][0]


def test_a_timeout_scores_zero_even_after_passes() -> None:
    result = score_response(
        response([["P", 1, ""], ["P", 2, ""]], done=False, timed_out=True), UNITS, 2.0
    )
    assert (result.reward, result.success, result.metadata["timed_out"]) == (0.0, False, True)
    assert "timed out after 2 s" in result.details


def test_refused_runs_score_zero() -> None:
    for refused in ({"server_failure": "died"}, response([["P", 1, ""]], tampered="forged record")):
        result = score_response(refused, UNITS, 5.0)
        assert (result.reward, result.metadata["tests_passed"]) == (0.0, 0)


def test_program_error_explains_every_missing_test() -> None:
    result = score_response(response([["E", 0, "NameError: x"], ["D", 0, ""]]), UNITS, 5.0)
    assert "the program failed before its tests: NameError: x" in result.details
    assert all(failure.endswith("NameError: x") for failure in result.metadata["failures"])


def test_passes_of_a_parametrized_test_are_capped_by_its_cases() -> None:
    units = [Unit("test_grid", instances=2)]
    forged_extra = response([["N", 0, "1"], ["P", 0, ""], ["P", 0, ""], ["P", 0, ""]])
    assert score_response(forged_extra, units, 5.0).metadata["tests_passed"] == 2
    more_collected = response([["N", 0, "4"], ["P", 0, ""], ["P", 0, ""]])
    result = score_response(more_collected, units, 5.0)
    assert (result.metadata["tests_passed"], result.metadata["tests_total"]) == (2, 4)


def test_unrunnable_programs_are_rejected_before_running() -> None:
    assert "no Python code" in reject_unrunnable("  \n", 3).details
    assert "line 2" in reject_unrunnable("x = 1\ndef f(:\n", 3).details
    assert "null bytes" in reject_unrunnable("x = 1\0", 3).details
    assert reject_unrunnable("x = 1\n", 0).details == "no tests to run"
    assert reject_unrunnable("x = 1\n", 3) is None
