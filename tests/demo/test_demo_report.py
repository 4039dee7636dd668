"""The demo's closing sentences: gains, noise and lost diversity stated from the results."""

from __future__ import annotations

from halo_forge.benchmark.results import BenchmarkResult, Timing
from halo_forge.demo.report import cycle_stages, describe_change


def _result(
    pass_at_k: dict[str, float], compile_rate: float, prompts: int = 100
) -> BenchmarkResult:
    return BenchmarkResult(
        model="m",
        verifier="gcc",
        prompt_format="chat",
        prompts=prompts,
        samples_per_prompt=5,
        total=5 * prompts,
        passed=0,
        pass_rate=pass_at_k["pass@1"],
        compile_rate=compile_rate,
        pass_at_k=pass_at_k,
        by_category={},
        timing=Timing(generation=1.0, verification=1.0, total=2.0),
        config={},
        timestamp="2026-01-01T00:00:00Z",
        samples_file="m.samples.jsonl",
    )


def test_fall_in_pass_at_5_is_reported_as_lost_diversity() -> None:
    before = _result({"pass@1": 0.30, "pass@5": 0.60}, compile_rate=0.6)
    after = _result({"pass@1": 0.45, "pass@5": 0.55}, compile_rate=0.7)

    lines = describe_change(before, after)

    assert any(line.startswith("pass@1: 30.0% -> 45.0%") and "gain" in line for line in lines)
    assert any(line.startswith("compile rate: 60.0% -> 70.0%") for line in lines)
    assert any(line.startswith("diversity: pass@5 fell") for line in lines)


def test_small_change_on_few_prompts_is_called_noise() -> None:
    before = _result({"pass@1": 0.30, "pass@5": 0.60}, compile_rate=0.6, prompts=10)
    after = _result({"pass@1": 0.35, "pass@5": 0.65}, compile_rate=0.6, prompts=10)

    lines = describe_change(before, after)

    assert any(line.startswith("pass@1:") and "within noise" in line for line in lines)
    assert not any(line.startswith("diversity") for line in lines)


def test_cycle_rows_carry_kept_loss_and_time_but_no_heldout_rates() -> None:
    rows = cycle_stages(
        [
            {
                "cycle": 1,
                "kept": 12,
                "train_loss": 0.5,
                "generation_seconds": 3.0,
                "training_seconds": 2.0,
            },
            {"cycle": 2, "kept": 0, "train_loss": None},
        ]
    )

    assert [(row.stage, row.kept, row.seconds) for row in rows] == [
        ("RAFT cycle 1", 12, 5.0),
        ("RAFT cycle 2", 0, None),
    ]
    assert all(row.pass_rate is None and row.compile_rate is None for row in rows)
