"""`benchmark compare`: results side by side, with each one's difference from the first.

The first result is the baseline (typically the base or SFT model); every other row shows how
far it moved. Only metrics that both sides report are differenced: a pass@k that one run could
not estimate (too few samples) shows as "n/a", never as 0. Below the table, `paired_lines` says
whether each pass@k change is larger than sampling noise, from the per-sample files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from halo_forge.benchmark.paired import PairedDifference, paired_difference, prompt_outcomes
from halo_forge.benchmark.results import BenchmarkResult, load_result
from halo_forge.data.jsonl import PathLike
from halo_forge.errors import DataError


@dataclass(frozen=True)
class ComparedRun:
    """One result in a comparison, with the label it is shown under and the file it came from."""

    label: str
    result: BenchmarkResult
    path: Path


def load_runs(paths: list[PathLike]) -> list[ComparedRun]:
    """Read and schema-check the result files; each is labelled by its file name."""
    if len(paths) < 2:
        raise DataError("compare needs at least two result files (the first is the baseline)")
    return [ComparedRun(Path(path).stem, load_result(path), Path(path)) for path in paths]


def metric_names(runs: list[ComparedRun]) -> list[str]:
    """pass@k of every k any run reports (in k order), then compile rate and pass rate."""
    ks = sorted({int(name.removeprefix("pass@")) for run in runs for name in run.result.pass_at_k})
    return [f"pass@{k}" for k in ks] + ["compile_rate", "pass_rate"]


def metric_value(result: BenchmarkResult, name: str) -> float | None:
    """A metric of one result; None where the run did not (or could not) measure it."""
    if name == "compile_rate":
        return result.compile_rate
    if name == "pass_rate":
        return result.pass_rate
    return result.pass_at_k.get(name)


def difference(value: float | None, baseline: float | None) -> float | None:
    """`value - baseline`, or None unless both exist."""
    return None if value is None or baseline is None else value - baseline


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _signed_points(value: float | None) -> str:
    return "" if value is None else f"({100 * value:+.1f})"


def comparison_table(runs: list[ComparedRun]) -> Table:
    """A rich table: one row per result, each metric in percent with its change from the first."""
    names = metric_names(runs)
    table = Table(title="Benchmark comparison (change vs. first, in points)")
    table.add_column("run")
    table.add_column("model")
    for name in names:
        table.add_column(name, justify="right")
    baseline = runs[0].result
    for position, run in enumerate(runs):
        cells = []
        for name in names:
            value = metric_value(run.result, name)
            change = difference(value, metric_value(baseline, name)) if position else None
            cells.append(f"{_percent(value)} {_signed_points(change)}".strip())
        table.add_row(run.label, run.result.model, *cells)
    return table


def paired_lines(runs: list[ComparedRun]) -> list[str]:
    """The paired pass@k change of each later run against the first, one line per run and k.

    Only a pass@k that both runs report is paired. A run whose per-sample file cannot be read
    gets one line saying why instead: the table above still holds its numbers.
    """
    lines: list[str] = []
    outcomes: list[dict[str, tuple[int, int]] | None] = []
    for run in runs:
        try:
            outcomes.append(prompt_outcomes(run.path))
        except DataError as error:
            outcomes.append(None)
            lines.append(f"{run.label}: no paired differences ({error})")
    baseline, baseline_outcomes = runs[0], outcomes[0]
    if baseline_outcomes is None:
        return lines
    for run, run_outcomes in zip(runs[1:], outcomes[1:], strict=True):
        if run_outcomes is None:
            continue
        shared = len(baseline_outcomes.keys() & run_outcomes.keys())
        union = len(baseline_outcomes.keys() | run_outcomes.keys())
        overlap = f"; only {shared} of {union} prompts shared" if shared < union else ""
        for name in metric_names(runs):
            if not name.startswith("pass@") or None in (
                metric_value(baseline.result, name),
                metric_value(run.result, name),
            ):
                continue
            k = int(name.removeprefix("pass@"))
            paired = paired_difference(baseline_outcomes, run_outcomes, k)
            heading = f"{run.label} vs {baseline.label}: {name}"
            if paired is None:
                lines.append(
                    f"{heading} not paired: no prompt has {k}+ samples in both runs{overlap}"
                )
            else:
                lines.append(_paired_line(heading, paired, overlap))
    return lines


def _paired_line(heading: str, paired: PairedDifference, overlap: str) -> str:
    """'<heading> +4.2 points, standard error 1.6 (paired over 100 shared prompts); <verdict>'."""
    if paired.standard_error is None:
        spread, verdict = "n/a", ""
    else:
        spread = f"{100 * paired.standard_error:.1f}"
        verdict = (
            "; more than 2 standard errors"
            if paired.beyond_noise()
            else "; within 2 standard errors: noise"
        )
    return (
        f"{heading} {100 * paired.mean:+.1f} points, standard error {spread} "
        f"(paired over {paired.prompts} shared prompt{'' if paired.prompts == 1 else 's'}"
        f"{overlap}){verdict}"
    )


def plot_comparison(runs: list[ComparedRun], path: PathLike) -> Path:
    """A grouped bar chart (PNG) of every metric per run; unmeasured metrics are left out."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    names = metric_names(runs)
    width = 0.8 / len(runs)
    figure, axes = plt.subplots(figsize=(max(6.0, 1.6 * len(names)), 4.0))
    for position, run in enumerate(runs):
        points = [
            (index + position * width, 100 * value)
            for index, name in enumerate(names)
            if (value := metric_value(run.result, name)) is not None
        ]
        axes.bar([x for x, _ in points], [height for _, height in points], width, label=run.label)
    axes.set_xticks([index + width * (len(runs) - 1) / 2 for index in range(len(names))])
    axes.set_xticklabels(names)
    axes.set_ylabel("percent")
    axes.set_ylim(0, 100)
    axes.set_title("Benchmark comparison")
    axes.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
