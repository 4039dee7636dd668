"""Paired pass@k differences: per-prompt counts from the samples file, mean, standard error, m."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest

from halo_forge.benchmark.paired import PairedDifference, paired_difference, prompt_outcomes
from halo_forge.errors import DataError

# prompt_id -> (n, c); n = 4 everywhere, so pass@1 = c / 4.
BASELINE = {"a": (4, 1), "b": (4, 0), "c": (4, 2)}
TUNED = {"a": (4, 3), "b": (4, 2), "c": (4, 2)}


def _exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def test_mean_and_standard_error_match_a_hand_computation() -> None:
    # pass@1 changes per prompt: +2/4, +2/4, 0 -> mean 1/3; sample variance 1/12, SE sqrt(1/12 / 3)
    paired = paired_difference(BASELINE, TUNED, k=1)

    assert paired is not None
    assert paired.metric == "pass@1"
    assert paired.prompts == 3
    assert paired.mean == pytest.approx(1 / 3)
    assert paired.standard_error == pytest.approx(1 / 6)


def test_pass_at_k_above_one_pairs_the_unbiased_estimates() -> None:
    changes = [
        _exact_pass_at_k(*TUNED[prompt], 2) - _exact_pass_at_k(*BASELINE[prompt], 2)
        for prompt in BASELINE
    ]
    mean = sum(changes) / 3
    variance = sum((change - mean) ** 2 for change in changes) / 2

    paired = paired_difference(BASELINE, TUNED, k=2)

    assert paired is not None
    assert paired.mean == pytest.approx(float(mean))  # 4/9
    assert paired.standard_error == pytest.approx(math.sqrt(variance / 3))


def test_prompts_in_only_one_run_are_left_out() -> None:
    baseline = BASELINE | {"only_in_baseline": (4, 4)}
    tuned = TUNED | {"only_in_tuned": (4, 0)}

    paired = paired_difference(baseline, tuned, k=1)

    assert paired == paired_difference(BASELINE, TUNED, k=1)
    assert paired is not None and paired.prompts == 3


def test_prompts_with_fewer_than_k_samples_in_either_run_are_excluded() -> None:
    baseline = BASELINE | {"short": (1, 0)}
    tuned = TUNED | {"short": (4, 4)}

    with_short = paired_difference(baseline, tuned, k=1)
    without_short = paired_difference(baseline, tuned, k=2)

    assert with_short is not None and with_short.prompts == 4
    assert without_short == paired_difference(BASELINE, TUNED, k=2)
    assert paired_difference({"short": (1, 0)}, {"short": (4, 4)}, k=2) is None


def test_identical_runs_differ_by_zero_with_zero_standard_error() -> None:
    paired = paired_difference(BASELINE, BASELINE, k=2)

    assert paired == PairedDifference("pass@2", mean=0.0, standard_error=0.0, prompts=3)
    assert not paired.beyond_noise()


def test_a_single_shared_prompt_has_no_standard_error() -> None:
    paired = paired_difference({"a": (4, 1), "b": (4, 4)}, {"a": (4, 3)}, k=1)

    assert paired == PairedDifference("pass@1", mean=0.5, standard_error=None, prompts=1)
    assert not paired.beyond_noise()


def test_beyond_noise_means_more_than_the_given_standard_errors_from_zero() -> None:
    assert PairedDifference("pass@1", -0.05, 0.02, 100).beyond_noise()
    assert not PairedDifference("pass@1", 0.03, 0.02, 100).beyond_noise()
    assert not PairedDifference("pass@1", 0.05, 0.02, 100).beyond_noise(standard_errors=3.0)


def test_prompt_outcomes_counts_samples_and_successes_relative_to_the_result(
    write_run: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_run("tuned", TUNED, [1, 2])
    monkeypatch.chdir(tmp_path)  # the samples file sits next to the JSON, not in the cwd

    assert prompt_outcomes(path) == TUNED


def test_a_missing_samples_file_is_a_data_error_naming_it(write_run: Callable[..., Path]) -> None:
    path = write_run("tuned", TUNED, [1])
    path.with_name("tuned.samples.jsonl").unlink()

    with pytest.raises(DataError, match=r"tuned\.samples\.jsonl: per-sample file .* not found"):
        prompt_outcomes(path)


def test_a_broken_samples_line_is_a_data_error_with_its_line_number(
    write_run: Callable[..., Path],
) -> None:
    path = write_run("tuned", TUNED, [1])
    samples = path.with_name("tuned.samples.jsonl")
    lines = samples.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:20]
    samples.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(DataError, match=r"tuned\.samples\.jsonl:3: invalid JSON"):
        prompt_outcomes(path)
