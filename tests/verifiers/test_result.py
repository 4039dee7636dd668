"""`VerifyResult` on disk and the one rule of "compiled": typed fields round-trip, results
written before the fields existed still load, and every reader gets the same answer."""

from __future__ import annotations

import json

import pytest

from halo_forge.verifiers.base import VerifyResult, compiled_of
from halo_forge.verifiers.records import summarise_records


def test_stage_and_compiled_survive_a_round_trip_through_json() -> None:
    result = VerifyResult(False, 0.6, "run failed", stage="run", compiled=True)
    loaded = VerifyResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert loaded == result


@pytest.mark.parametrize(
    ("metadata", "success", "stage", "compiled"),
    [
        ({"stage": "run"}, False, "run", True),
        ({"stage": "compile"}, True, "compile", True),
        ({"stage": "compile", "failure": "syntax"}, False, "compile", False),
        ({"stage": "link", "failure": "link"}, False, "link", False),
        ({"stage": "extract"}, False, "extract", False),
        ({"stage": "dispatch"}, False, "dispatch", None),
        ({"tests_total": 2, "tests_passed": 1, "failures": ["t: x"]}, False, None, True),
        ({"tests_total": 2, "tests_passed": 0}, False, None, False),
        ({"returncode": 0}, True, None, None),
    ],
)
def test_a_line_written_before_the_typed_fields_loads_with_them_derived(
    metadata: dict, success: bool, stage: str | None, compiled: bool | None
) -> None:
    line = json.dumps({"success": success, "reward": 0.5, "details": "", "metadata": metadata})
    result = VerifyResult.from_dict(json.loads(line))
    assert (result.stage, result.compiled) == (stage, compiled)
    assert compiled_of(json.loads(line)) is compiled


def test_the_typed_field_wins_over_what_the_metadata_says() -> None:
    result = VerifyResult(False, 0.0, metadata={"stage": "run"}, stage="compile", compiled=False)
    assert compiled_of(result) is False
    assert compiled_of(result.to_dict()) is False


def test_a_result_without_the_typed_field_is_judged_by_its_metadata() -> None:
    user_written = VerifyResult(True, 1.0, metadata={"stage": "run"})
    assert user_written.compiled is None
    assert compiled_of(user_written) is True
    assert compiled_of(VerifyResult(True, 1.0)) is None


def test_the_summary_compile_rate_counts_only_records_whose_verifier_can_say() -> None:
    records = [
        {"completion": "a", **VerifyResult(True, 1.0, stage="run", compiled=True).to_dict()},
        {"completion": "b", **VerifyResult(False, 0.0, stage="compile", compiled=False).to_dict()},
        {"completion": "c", "success": False, "reward": 0.6, "metadata": {"stage": "run"}},
        {"completion": "d", **VerifyResult(False, 0.0, stage="dispatch").to_dict()},
    ]
    summary = summarise_records(records)
    assert (summary.compile_rate, summary.passed) == (pytest.approx(2 / 3), 1)
    assert summary.lines()[:2] == ["compile rate: 66.7%", "pass rate: 25.0%"]


def test_the_summary_has_no_compile_rate_when_no_verifier_can_say() -> None:
    records = [{"code": "x", **VerifyResult(True, 1.0, metadata={"cached": True}).to_dict()}]
    summary = summarise_records(records)
    assert summary.compile_rate is None
    assert summary.lines() == ["pass rate: 100.0%", "served from cache: 1"]
