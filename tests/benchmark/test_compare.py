"""`compare`: the table of two results the tests produce, its differences, paired lines, the chart."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from halo_forge.benchmark.compare import (
    comparison_table,
    difference,
    load_runs,
    metric_names,
    metric_value,
    paired_lines,
    plot_comparison,
)
from halo_forge.benchmark.results import SampleOutcome
from halo_forge.benchmark.run import verify_samples
from halo_forge.data.records import PromptRecord
from halo_forge.errors import DataError
from halo_forge.verifiers.python.verifiers import MBPPVerifier

TESTS = "assert square(2) == 4\nassert square(3) == 9\n"
CORRECT = "def square(x):\n    return x * x\n"
WRONG = "def square(x):\n    return x + x\n"  # right for 2 only
BROKEN = "def square(x)\n    return x * x\n"


def _verified(completions: list[str], output: Path) -> list[SampleOutcome]:
    """Verify `completions` of one MBPP-style prompt for real (outcomes kept in `output`)."""
    record = PromptRecord(prompt="Write square(x).", task_id="sq", tests=TESTS)
    with MBPPVerifier(use_cache=False) as verifier:
        return verify_samples(verifier, [record], [completions], output)


@pytest.fixture(scope="module")
def two_results(
    tmp_path_factory: pytest.TempPathFactory, save_result: Callable[..., Path]
) -> list[Path]:
    directory = tmp_path_factory.mktemp("compare")
    base = _verified([CORRECT, WRONG, BROKEN, BROKEN], directory / "verified-base.jsonl")
    raft = _verified([CORRECT, CORRECT, CORRECT, WRONG], directory / "verified-raft.jsonl")
    return [
        save_result(base, directory / "base.json", [1, 2], "mbpp"),
        save_result(raft, directory / "raft.json", [1, 2, 4], "mbpp"),
    ]


def test_differences_are_taken_from_the_first_result(two_results: list[Path]) -> None:
    base, raft = (run.result for run in load_runs(two_results))

    assert metric_names(load_runs(two_results)) == [
        "pass@1",
        "pass@2",
        "pass@4",
        "compile_rate",
        "pass_rate",
    ]
    assert difference(metric_value(raft, "pass_rate"), metric_value(base, "pass_rate")) == 0.5
    assert difference(metric_value(raft, "compile_rate"), metric_value(base, "compile_rate")) == (
        pytest.approx(0.5)
    )
    # pass@2: base 1 - C(3,2)/C(4,2) = 1/2, raft 1 - 0 = 1
    assert difference(metric_value(raft, "pass@2"), metric_value(base, "pass@2")) == (
        pytest.approx(0.5)
    )
    assert metric_value(base, "pass@4") is None
    assert difference(metric_value(raft, "pass@4"), metric_value(base, "pass@4")) is None


def test_table_shows_each_run_with_percentages_and_signed_changes(two_results: list[Path]) -> None:
    console = Console(width=200, record=True)

    console.print(comparison_table(load_runs(two_results)))
    text = console.export_text()

    base_line = next(line for line in text.splitlines() if "models/base" in line)
    raft_line = next(line for line in text.splitlines() if "models/raft" in line)
    assert "25.0%" in base_line and "50.0%" in base_line and "n/a" in base_line
    assert "(+" not in base_line  # the baseline has no change against itself
    assert "75.0% (+50.0)" in raft_line  # pass rate and pass@1: 1/4 -> 3/4
    assert "100.0% (+50.0)" in raft_line  # compile rate 2/4 -> 4/4, pass@2 1/2 -> 1
    assert "n/a" not in raft_line  # pass@4 exists for the run with 4 samples


def test_plot_writes_a_valid_png(two_results: list[Path], tmp_path: Path) -> None:
    path = plot_comparison(load_runs(two_results), tmp_path / "plots" / "compare.png")

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100


def test_compare_needs_two_results(two_results: list[Path]) -> None:
    with pytest.raises(DataError, match="at least two"):
        load_runs(two_results[:1])


def test_compare_refuses_a_file_that_is_not_a_result(
    two_results: list[Path], tmp_path: Path
) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"accuracy": 0.5}')

    with pytest.raises(DataError, match="not a benchmark result"):
        load_runs([two_results[0], other])


def test_paired_lines_pair_each_pass_at_k_both_runs_report(two_results: list[Path]) -> None:
    # one shared prompt "sq": base passes 1 of 4, raft 3 of 4; base has too few samples for pass@4
    assert paired_lines(load_runs(two_results)) == [
        "raft vs base: pass@1 +50.0 points, standard error n/a (paired over 1 shared prompt)",
        "raft vs base: pass@2 +50.0 points, standard error n/a (paired over 1 shared prompt)",
    ]


def test_paired_lines_give_the_standard_error_verdict_and_the_unshared_prompts(
    write_run: Callable[..., Path],
) -> None:
    base = write_run("base", {"a": (4, 1), "b": (4, 0), "c": (4, 2), "d": (4, 0)}, [1])
    tuned = write_run("tuned", {"a": (4, 3), "b": (4, 2), "c": (4, 3)}, [1])

    # changes +2/4, +2/4, +1/4 over a, b, c: mean 5/12, standard error 1/12
    assert paired_lines(load_runs([base, tuned])) == [
        "tuned vs base: pass@1 +41.7 points, standard error 8.3 "
        "(paired over 3 shared prompts; only 3 of 4 prompts shared); more than 2 standard errors"
    ]


def test_a_run_without_its_samples_file_gets_one_line_and_the_others_are_still_paired(
    write_run: Callable[..., Path],
) -> None:
    counts = {"a": (2, 1), "b": (2, 0)}
    base, lost, again = (write_run(name, counts, [1]) for name in ("base", "lost", "again"))
    lost.with_name("lost.samples.jsonl").unlink()

    lines = paired_lines(load_runs([base, lost, again]))

    assert len(lines) == 2
    assert lines[0].startswith("lost: no paired differences (") and "not found" in lines[0]
    assert lines[1] == (
        "again vs base: pass@1 +0.0 points, standard error 0.0 "
        "(paired over 2 shared prompts); within 2 standard errors: noise"
    )


def test_runs_without_a_shared_prompt_are_not_paired(write_run: Callable[..., Path]) -> None:
    base = write_run("base", {"a": (2, 1)}, [1])
    other = write_run("other", {"b": (2, 1)}, [1])

    assert paired_lines(load_runs([base, other])) == [
        "other vs base: pass@1 not paired: no prompt has 1+ samples in both runs; "
        "only 0 of 2 prompts shared"
    ]
