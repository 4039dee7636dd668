"""Pipeline summaries: stage rows from results, summary.json, the PNG, and the change table."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from rich.console import Console

from halo_forge.benchmark.results import SampleOutcome, Timing, build_result
from halo_forge.benchmark.stages import StageMetrics, stage_table, write_stage_summary


def _outcome(prompt_id: str, index: int, success: bool, compiled: bool) -> SampleOutcome:
    return SampleOutcome(
        prompt_id=prompt_id,
        sample_index=index,
        category="c",
        completion="int main(void) { return 0; }",
        reward=1.0 if success else 0.0,
        success=success,
        compiled=compiled,
        details="",
    )


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _rendered(stages: list[StageMetrics]) -> str:
    console = Console(width=200, record=True)
    console.print(stage_table(stages))
    return console.export_text()


def test_from_result_carries_the_benchmark_rates() -> None:
    samples = [
        _outcome("a", 0, success=True, compiled=True),
        _outcome("a", 1, success=False, compiled=True),
        _outcome("b", 0, success=False, compiled=False),
        _outcome("b", 1, success=False, compiled=True),
    ]
    result = build_result(
        samples,
        k_values=[1, 2],
        samples_per_prompt=2,
        model="m",
        verifier="gcc",
        prompt_format="raw",
        timing=Timing(generation=0.0, verification=0.0, total=0.0),
        config={},
        samples_file="x.samples.jsonl",
    )

    stage = StageMetrics.from_result("baseline", result, seconds=3.5)

    assert stage.stage == "baseline"
    assert stage.pass_rate == 0.25
    assert stage.compile_rate == 0.75
    assert stage.pass_at_k == {"pass@1": 0.25, "pass@2": 0.5}
    assert (stage.kept, stage.train_loss, stage.seconds) == (None, None, 3.5)


def test_summary_json_holds_every_stage_and_the_extra_keys(tmp_path: Path) -> None:
    stages = [
        StageMetrics("baseline", 0.1, 0.5, {"pass@1": 0.1}),
        StageMetrics("raft cycle 1", 0.3, 0.7, {}, kept=4, train_loss=1.25, seconds=9.0),
        StageMetrics("final", 0.4, None, {"pass@1": 0.4}),
    ]

    json_path, png_path = write_stage_summary(
        stages, tmp_path / "out", title="demo", extra={"model": "tiny"}
    )

    summary = json.loads(json_path.read_text())
    assert json_path == tmp_path / "out" / "summary.json"
    assert summary["title"] == "demo"
    assert summary["model"] == "tiny"
    assert [row["stage"] for row in summary["stages"]] == ["baseline", "raft cycle 1", "final"]
    assert summary["stages"][1] == {
        "stage": "raft cycle 1",
        "pass_rate": 0.3,
        "compile_rate": 0.7,
        "pass_at_k": {},
        "kept": 4,
        "train_loss": 1.25,
        "seconds": 9.0,
    }
    assert summary["stages"][2]["compile_rate"] is None
    width, height = _png_size(png_path)
    assert width > 100 and height > 100


def test_summary_png_is_written_when_no_stage_measured_anything(tmp_path: Path) -> None:
    _, png_path = write_stage_summary([StageMetrics("baseline", None, None)], tmp_path, title="t")

    assert _png_size(png_path)[0] > 0


def test_table_shows_changes_from_the_first_stage_and_na_for_unmeasured() -> None:
    stages = [
        StageMetrics("baseline", 0.10, 0.50, {"pass@1": 0.10}),
        StageMetrics("final", 0.40, None, {"pass@1": 0.35}, kept=7, train_loss=0.5),
    ]

    text = _rendered(stages)

    final_row = next(line for line in text.splitlines() if "final" in line)
    assert "35.0% (+25.0)" in final_row
    assert "40.0% (+30.0)" in final_row
    assert "n/a" in final_row
    assert "0.5000" in final_row and "7" in final_row
    baseline_row = next(line for line in text.splitlines() if "baseline" in line)
    assert "(+" not in baseline_row and "50.0%" in baseline_row
