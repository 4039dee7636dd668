"""Aggregation of sample outcomes, the compile fact, and the result JSON and its schema."""

from __future__ import annotations

import json
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest

from halo_forge.benchmark.results import (
    UNCATEGORIZED,
    UNKNOWN_LANGUAGE,
    BenchmarkResult,
    SampleOutcome,
    Timing,
    aggregate,
    build_result,
    load_result,
    load_samples,
    samples_path_for,
    write_result,
)
from halo_forge.errors import DataError
from halo_forge.verifiers.base import VerifyResult
from halo_forge.verifiers.result import compiled_of

DOCUMENTED_FIELDS = {
    "model",
    "verifier",
    "prompt_format",
    "prompts",
    "samples_per_prompt",
    "total",
    "passed",
    "pass_rate",
    "compile_rate",
    "pass_at_k",
    "by_category",
    "by_language",
    "timing",
    "config",
    "timestamp",
    "samples_file",
    "hardware",
}


def _outcome(
    prompt_id: str,
    index: int,
    success: bool,
    compiled: bool | None = True,
    category: str = "basics",
) -> SampleOutcome:
    return SampleOutcome(
        prompt_id=prompt_id,
        sample_index=index,
        category=category,
        completion=f"program {prompt_id}/{index}",
        reward=1.0 if success else 0.5,
        success=success,
        compiled=compiled,
        details="",
    )


def _exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def test_aggregate_gives_exact_rates_and_unbiased_pass_at_k() -> None:
    samples = [
        _outcome("a", 0, True),
        _outcome("a", 1, False),
        _outcome("a", 2, False, compiled=False),
        _outcome("b", 0, False, category="loops"),
        _outcome("b", 1, False, category="loops"),
        _outcome("b", 2, True, category="loops"),
        _outcome("c", 0, False, compiled=False),
        _outcome("c", 1, False, compiled=False),
        _outcome("c", 2, False),
    ]

    summary = aggregate(samples, [1, 2, 3])

    assert (summary.prompts, summary.total, summary.passed) == (3, 9, 2)
    assert summary.pass_rate == pytest.approx(2 / 9)
    assert summary.compile_rate == pytest.approx(6 / 9)
    for k in (1, 2, 3):
        expected = (_exact_pass_at_k(3, 1, k) * 2 + _exact_pass_at_k(3, 0, k)) / 3
        assert summary.pass_at_k[f"pass@{k}"] == pytest.approx(float(expected), abs=1e-12)
    assert summary.by_category["basics"].model_dump() == {
        "total": 6,
        "passed": 1,
        "pass_rate": pytest.approx(1 / 6),
    }
    assert summary.by_category["loops"].passed == 1


def test_pass_at_k_uses_only_prompts_with_at_least_k_samples() -> None:
    samples = [_outcome("short", 0, True), _outcome("short", 1, True)]
    samples += [_outcome("long", index, index == 0) for index in range(4)]

    summary = aggregate(samples, [1, 4, 5])

    assert summary.pass_at_k["pass@1"] == pytest.approx((1.0 + 0.25) / 2)
    assert summary.pass_at_k["pass@4"] == pytest.approx(1.0)  # only "long" has 4 samples
    assert summary.pass_at_k["pass@5"] is None  # no prompt has 5: no estimate at all


def test_compile_rate_counts_the_samples_whose_verifier_can_say() -> None:
    known = [_outcome("a", 0, True, compiled=True), _outcome("a", 1, False, compiled=False)]
    unknown = [_outcome("b", 0, True, compiled=None)]

    assert aggregate(known + unknown, [1]).compile_rate == 0.5
    assert aggregate(unknown, [1]).compile_rate is None


@pytest.mark.parametrize(
    ("result", "compiled"),
    [
        (VerifyResult(True, 1.0, metadata={"stage": "run"}), True),
        (VerifyResult(False, 0.7, metadata={"stage": "run"}), True),
        (VerifyResult(True, 0.3, metadata={"stage": "compile", "warnings": 2}), True),
        (VerifyResult(False, 0.2, metadata={"stage": "compile", "failure": "semantic"}), False),
        (VerifyResult(False, 0.1, metadata={"stage": "link", "failure": "link"}), False),
        (VerifyResult(False, 0.0, metadata={"stage": "extract"}), False),
        (VerifyResult(False, 0.0, metadata={"tests_passed": 0, "tests_total": 3}), False),
        (
            VerifyResult(
                False, 0.25, metadata={"tests_passed": 1, "tests_total": 3, "failures": ["x"]}
            ),
            True,
        ),
        (VerifyResult(False, 0.5, metadata={"compiled": True, "stage": "extract"}), True),
        (VerifyResult(True, 1.0), None),
    ],
)
def test_compiled_of_reads_the_facts_an_old_result_recorded(
    result: VerifyResult, compiled: bool | None
) -> None:
    assert compiled_of(result) is compiled


def test_outcome_without_category_is_counted_as_uncategorized() -> None:
    outcome = SampleOutcome.from_verification("t1", 0, None, "x", VerifyResult(False, 0.0))

    assert outcome.category == UNCATEGORIZED
    assert aggregate([outcome], [1]).by_category[UNCATEGORIZED].total == 1


def test_language_comes_from_the_record_else_the_verifier_else_unknown() -> None:
    recorded = VerifyResult(True, 1.0, metadata={"language": "go"})
    from_record = SampleOutcome.from_verification("t1", 0, None, "x", recorded, language="rust")
    from_verifier = SampleOutcome.from_verification("t2", 0, None, "x", recorded)
    neither = SampleOutcome.from_verification("t3", 0, None, "x", VerifyResult(False, 0.0))

    assert [from_record.language, from_verifier.language, neither.language] == [
        "rust",
        "go",
        UNKNOWN_LANGUAGE,
    ]
    summary = aggregate([from_record, from_verifier, neither], [1])
    assert {name: (c.total, c.passed) for name, c in summary.by_language.items()} == {
        "go": (1, 1),
        "rust": (1, 1),
        UNKNOWN_LANGUAGE: (1, 0),
    }


def test_samples_files_without_a_language_still_load(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = _result([_outcome("a", 0, True)], output)
    write_result(result, [_outcome("a", 0, True)], output)
    samples_path = tmp_path / result.samples_file
    lines = [json.loads(line) for line in samples_path.read_text().splitlines()]
    older = [{key: value for key, value in line.items() if key != "language"} for line in lines]
    samples_path.write_text("".join(json.dumps(line) + "\n" for line in older))

    assert load_samples(output, load_result(output))[0].language == UNKNOWN_LANGUAGE


def _result(samples: list[SampleOutcome], output: Path) -> BenchmarkResult:
    return build_result(
        samples,
        k_values=[1, 2],
        samples_per_prompt=2,
        model="builtin:tiny-coder",
        verifier="gcc",
        prompt_format="chat template",
        timing=Timing(generation=1.5, verification=0.5, total=2.5),
        config={"samples": 2},
        samples_file=samples_path_for(output).name,
    )


def test_written_result_has_the_documented_fields_and_its_samples_recount_it(
    tmp_path: Path,
) -> None:
    samples = [_outcome("a", 0, True), _outcome("a", 1, False), _outcome("b", 0, False)]
    samples.append(_outcome("b", 1, False, compiled=False))
    output = tmp_path / "results" / "run.json"

    result_path, samples_path = write_result(_result(samples, output), samples, output)

    data = json.loads(result_path.read_text())
    assert set(data) == DOCUMENTED_FIELDS
    assert set(data["timing"]) == {"generation", "verification", "total"}
    assert samples_path == tmp_path / "results" / "run.samples.jsonl"
    assert len(samples_path.read_text().splitlines()) == 4
    loaded = load_result(result_path)
    recounted = aggregate(load_samples(result_path, loaded), [1, 2])
    assert (loaded.total, loaded.passed) == (recounted.total, recounted.passed) == (4, 1)
    assert loaded.compile_rate == recounted.compile_rate == pytest.approx(3 / 4)
    assert loaded.pass_at_k == recounted.pass_at_k


def test_load_result_names_the_missing_field(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    write_result(_result([_outcome("a", 0, True)], output), [_outcome("a", 0, True)], output)
    data = json.loads(output.read_text())
    del data["pass_rate"]
    output.write_text(json.dumps(data))

    with pytest.raises(DataError, match="pass_rate"):
        load_result(output)


def test_load_result_rejects_a_rate_outside_zero_and_one(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    write_result(_result([_outcome("a", 0, True)], output), [_outcome("a", 0, True)], output)
    data = json.loads(output.read_text())
    data["compile_rate"] = 1.5
    output.write_text(json.dumps(data))

    with pytest.raises(DataError, match="compile_rate"):
        load_result(output)


def test_load_result_of_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="benchmark run"):
        load_result(tmp_path / "absent.json")


def test_load_samples_names_the_line_with_unexpected_fields(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    samples = [_outcome("a", 0, True), _outcome("a", 1, False)]
    result_path, samples_path = write_result(_result(samples, output), samples, output)
    lines = samples_path.read_text().splitlines()
    samples_path.write_text(lines[0] + "\n" + json.dumps({"prompt": "a"}) + "\n")

    with pytest.raises(DataError, match=r"run\.samples\.jsonl:2: .*prompt_id"):
        load_samples(result_path, load_result(result_path))
