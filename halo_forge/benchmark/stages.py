"""A pipeline summary: one row of metrics per stage (baseline, each RAFT cycle, final).

`benchmark full` and `halo-forge demo` both end with the same three views of these rows: a
`summary.json` a script can read, a PNG a person can glance at, and a terminal table with each
stage's change from the first, so the gain of a pipeline is stated in one place and one way.
A metric a stage did not measure is None: shown as "n/a" and left out of the plot, never 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from halo_forge.benchmark.compare import difference
from halo_forge.benchmark.results import BenchmarkResult
from halo_forge.data.jsonl import write_json

SUMMARY_JSON = "summary.json"
SUMMARY_PNG = "summary.png"


@dataclass
class StageMetrics:
    """The metrics of one pipeline stage; a field the stage did not measure is None."""

    stage: str
    pass_rate: float | None
    compile_rate: float | None
    pass_at_k: dict[str, float | None] = field(default_factory=dict)
    kept: int | None = None
    train_loss: float | None = None
    seconds: float | None = None

    @classmethod
    def from_result(
        cls, stage: str, result: BenchmarkResult, seconds: float | None = None
    ) -> StageMetrics:
        """The row of a stage measured by a benchmark run."""
        return cls(
            stage=stage,
            pass_rate=result.pass_rate,
            compile_rate=result.compile_rate,
            pass_at_k=dict(result.pass_at_k),
            seconds=seconds,
        )


def _rate_metrics(stages: list[StageMetrics]) -> list[str]:
    """pass@k of every k any stage reports (in k order), then compile rate and pass rate."""
    ks = sorted({int(name.removeprefix("pass@")) for stage in stages for name in stage.pass_at_k})
    return [f"pass@{k}" for k in ks] + ["compile_rate", "pass_rate"]


def _rate_value(stage: StageMetrics, name: str) -> float | None:
    if name == "compile_rate":
        return stage.compile_rate
    if name == "pass_rate":
        return stage.pass_rate
    return stage.pass_at_k.get(name)


def write_stage_summary(
    stages: list[StageMetrics],
    output_dir: Path,
    *,
    title: str,
    extra: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write `output_dir/summary.json` (atomically) and `output_dir/summary.png`; return both.

    `extra` adds top-level keys to the JSON (e.g. the model, or a note that the evaluation
    prompts were the training prompts); it may not replace `title` or `stages`.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = dict(extra or {})
    summary["title"] = title
    summary["stages"] = [asdict(stage) for stage in stages]
    json_path = output_dir / SUMMARY_JSON
    write_json(json_path, summary)
    png_path = output_dir / SUMMARY_PNG
    _plot_stages(stages, png_path, title=title)
    return json_path, png_path


def _plot_stages(stages: list[StageMetrics], path: Path, *, title: str) -> None:
    """Rates per stage as lines (left), kept samples per stage as bars (right)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    names = [stage.stage for stage in stages]
    positions = list(range(len(stages)))
    figure, (rates_axes, kept_axes) = plt.subplots(
        1, 2, figsize=(max(8.0, 1.8 * len(stages) + 4), 4.0)
    )
    for metric in _rate_metrics(stages):
        points = [
            (position, 100 * value)
            for position, stage in zip(positions, stages, strict=True)
            if (value := _rate_value(stage, metric)) is not None
        ]
        if points:
            rates_axes.plot(
                [x for x, _ in points], [y for _, y in points], marker="o", label=metric
            )
    rates_axes.set_ylabel("percent")
    rates_axes.set_ylim(0, 100)
    rates_axes.set_title("rates per stage")
    if rates_axes.lines:
        rates_axes.legend()
    kept = [
        (position, stage.kept)
        for position, stage in zip(positions, stages, strict=True)
        if stage.kept is not None
    ]
    kept_axes.bar([x for x, _ in kept], [count for _, count in kept])
    kept_axes.set_title("kept samples per stage")
    kept_axes.yaxis.get_major_locator().set_params(integer=True)
    for axes in (rates_axes, kept_axes):
        axes.set_xticks(positions)
        axes.set_xticklabels(names, rotation=20, ha="right")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def stage_table(stages: list[StageMetrics]) -> Table:
    """A rich table: one row per stage, rates in percent with their change from the first stage."""
    metrics = _rate_metrics(stages)
    table = Table(title="Pipeline summary (change vs. first stage, in points)")
    table.add_column("stage")
    for metric in metrics:
        table.add_column(metric, justify="right")
    for column in ("kept", "train loss", "seconds"):
        table.add_column(column, justify="right")
    first = stages[0] if stages else None
    for position, stage in enumerate(stages):
        cells = []
        for metric in metrics:
            value = _rate_value(stage, metric)
            change = difference(value, _rate_value(first, metric)) if position and first else None
            cells.append(_percent(value) + ("" if change is None else f" ({100 * change:+.1f})"))
        cells.append("-" if stage.kept is None else str(stage.kept))
        cells.append("-" if stage.train_loss is None else f"{stage.train_loss:.4f}")
        cells.append("-" if stage.seconds is None else f"{stage.seconds:.1f}")
        table.add_row(stage.stage, *cells)
    return table
