"""`halo-forge benchmark run|compare|eval|full`: pass@k, compile rate and pass rate of a model."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from halo_forge import ui
from halo_forge.benchmark.results import BenchmarkResult
from halo_forge.cli.config_cmd import check_verifiers
from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import (
    BACKEND_HELP,
    BENCHMARK_OPTION_KEYS,
    CONFIG_SET_HELP,
    RAFT_OPTION_KEYS,
    VERIFIER_OPTION_HELP,
    config_overrides,
    overrides_from_options,
    verifier_option_overrides,
)
from halo_forge.config import BenchmarkConfig, RAFTConfig, load_config
from halo_forge.config.generation import BackendChoice
from halo_forge.errors import INTERRUPTED_EXIT_CODE, ConfigError

app = typer.Typer(
    help="Measure a model: unbiased pass@k, compile rate and pass rate, and compare runs.",
    no_args_is_help=True,
)


def parse_k_values(text: str) -> list[int]:
    """`"1,5,10"` -> `[1, 5, 10]`; anything else is a ConfigError that shows the form."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--k {text!r}: expected comma-separated integers, e.g. 1,5,10") from None
    if not values:
        raise ConfigError("--k needs at least one value, e.g. 1,5,10")
    return values


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _summary_table(title: str, result: BenchmarkResult) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for name, value in result.pass_at_k.items():
        table.add_row(name, _percent(value))
    table.add_row("compile rate", _percent(result.compile_rate))
    table.add_row("pass rate", f"{_percent(result.pass_rate)} ({result.passed}/{result.total})")
    for category, counts in result.by_category.items():
        table.add_row(
            f"  {category}", f"{_percent(counts.pass_rate)} ({counts.passed}/{counts.total})"
        )
    for language, counts in result.by_language.items():
        table.add_row(
            f"  language {language}",
            f"{_percent(counts.pass_rate)} ({counts.passed}/{counts.total})",
        )
    table.add_row(
        "time (generate / verify / total)",
        f"{result.timing.generation:.1f} / {result.timing.verification:.1f} / "
        f"{result.timing.total:.1f} s",
    )
    if result.hardware is not None:
        accelerator = result.hardware.peak_accelerator_memory_mb
        table.add_row(
            "peak memory (accelerator / RSS)",
            f"{'n/a' if accelerator is None else f'{accelerator:.0f} MB'} / "
            f"{result.hardware.peak_rss_mb:.0f} MB",
        )
    table.add_row("prompt format", result.prompt_format)
    return table


@app.command("run")
def run(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Benchmark YAML config; options given here override it."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Hugging Face id, directory, adapter dir or builtin:tiny-coder."
    ),
    prompts: str | None = typer.Option(None, "--prompts", help="JSONL of RLVR prompt records."),
    verifier: str | None = typer.Option(
        None, "--verifier", help="Verifier name (gcc, clang, mbpp, humaneval, ...)."
    ),
    samples: int | None = typer.Option(
        None, "--samples", help="Completions per prompt (n, default 10); needs n >= max k."
    ),
    k: str | None = typer.Option(None, "--k", help="pass@k values, comma-separated (1,5,10)."),
    max_prompts: int | None = typer.Option(
        None, "--max-prompts", help="Evaluate only the first N prompts."
    ),
    backend: str | None = typer.Option(None, "--backend", help=BACKEND_HELP),
    temperature: float | None = typer.Option(
        None, "--temperature", help="Sampling temperature (default 0.2)."
    ),
    max_new_tokens: int | None = typer.Option(
        None, "--max-new-tokens", help="Longest completion in tokens (default 512)."
    ),
    output: str | None = typer.Option(
        None, "--output", help="Result JSON (default results/benchmark.json); samples beside it."
    ),
    verifier_option: list[str] = typer.Option([], "--verifier-option", help=VERIFIER_OPTION_HELP),
    set_keys: list[str] = typer.Option([], "--set", help=CONFIG_SET_HELP),
    hardware_metrics: bool = typer.Option(
        False, "--hardware-metrics", help="Record peak accelerator memory and peak RSS."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="If the files beside --output hold a run with other settings, start over instead "
        "of stopping (with the same settings the run resumes).",
    ),
) -> None:
    """Sample n completions per prompt, verify each, and write pass@k, compile and pass rates.

    Samples and their outcomes are kept beside the result as they are made (x.completions.jsonl,
    x.samples.jsonl, settings in x.fingerprint.json): the same command resumes a stopped run.
    """
    overrides = overrides_from_options(BENCHMARK_OPTION_KEYS, locals())
    overrides |= verifier_option_overrides(verifier_option)
    if k is not None:
        overrides["k"] = parse_k_values(k)
    overrides |= config_overrides(set_keys)
    settings = load_config(BenchmarkConfig, config, overrides)
    check_verifiers(settings, source=str(config or "command line"))  # in a second, before torch
    from halo_forge.benchmark.run import RunFiles, run_benchmark  # torch loads only when run

    with command_log("benchmark_run"):
        try:
            result = run_benchmark(settings, hardware=hardware_metrics, force=force)
        except KeyboardInterrupt:
            kept = ", ".join(str(path) for path in RunFiles(Path(settings.output)).kept())
            ui.echo(
                f"interrupted: finished work is kept in {kept}; run the same command again "
                "to resume"
                if kept
                else "interrupted before any batch was finished; nothing was kept",
                style="yellow",
            )
            raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
        ui.echo(_summary_table(f"{settings.model} on {settings.prompts}", result))
        ui.echo(f"wrote {settings.output}")


@app.command("compare")
def compare(
    results: list[Path] = typer.Argument(..., help="Result JSON files; the first is the baseline."),
    plot: Path | None = typer.Option(None, "--plot", help="Also write a PNG bar chart here."),
) -> None:
    """Show pass@k, compile rate and pass rate of several runs, with changes from the first."""
    from halo_forge.benchmark.compare import (
        comparison_table,
        load_runs,
        paired_lines,
        plot_comparison,
    )

    with command_log("benchmark_compare"):
        runs = load_runs(list(results))
        ui.echo(comparison_table(runs))
        for line in paired_lines(runs):
            ui.echo(line)
        if plot is not None:
            ui.echo(f"wrote {plot_comparison(runs, plot)}")


@app.command("eval")
def eval_benchmark(
    model: str = typer.Option(..., "--model", help="Model to evaluate."),
    benchmark: str = typer.Option(..., "--benchmark", help="humaneval or mbpp."),
    limit: int | None = typer.Option(None, "--limit", help="Evaluate only the first N tasks."),
    samples_per_prompt: int = typer.Option(
        10, "--samples-per-prompt", help="Completions per task (n); pass@k for k in 1,10,100 <= n."
    ),
    source: Path | None = typer.Option(
        None, "--from", help="Local copy of the dataset (hub columns) instead of downloading."
    ),
    temperature: float = typer.Option(
        0.2, "--temperature", help="Sampling temperature (0.2 is customary for pass@1)."
    ),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", help="Longest completion."),
    backend: str | None = typer.Option(None, "--backend", help=BACKEND_HELP),
    set_keys: list[str] = typer.Option(
        [],
        "--set",
        help="Sampler setting KEY=VALUE, repeatable: --set vllm.max_model_len=2048, "
        "--set openai.base_url=http://127.0.0.1:8000/v1.",
    ),
    output: Path | None = typer.Option(
        None, "--output", help="Result JSON (default results/eval_<benchmark>.json)."
    ),
    hardware_metrics: bool = typer.Option(
        False, "--hardware-metrics", help="Record peak accelerator memory and peak RSS."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="If the files beside --output hold an evaluation with other settings, start over "
        "instead of stopping (with the same settings it resumes).",
    ),
) -> None:
    """Run the real HumanEval or MBPP: its prompts, its tests, its verifier."""
    from halo_forge.benchmark.eval import run_eval

    choice = {"backend": backend} if backend is not None else {}
    sampling = load_config(BackendChoice, None, choice | config_overrides(set_keys))
    destination = output or Path("results") / f"eval_{benchmark}.json"
    with command_log("benchmark_eval"):
        result = run_eval(
            model,
            benchmark,
            output=destination,
            limit=limit,
            samples_per_prompt=samples_per_prompt,
            source=source,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            sampling=sampling,
            hardware=hardware_metrics,
            force=force,
        )
        ui.echo(_summary_table(f"{model} on {benchmark}", result))
        ui.echo(f"wrote {destination}")


@app.command("full")
def full(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="RAFT YAML config; options given here override it."
    ),
    model: str | None = typer.Option(None, "--model", help="Start model (id, directory, adapter)."),
    prompts: str | None = typer.Option(None, "--prompts", help="JSONL of RLVR training prompts."),
    verifier: str | None = typer.Option(
        None, "--verifier", help="Verifier name, for RAFT and both benchmarks."
    ),
    cycles: int | None = typer.Option(None, "--cycles", help="RAFT cycles."),
    output: Path = typer.Option(
        ..., "--output", help="Run directory: baseline.json, raft/, final.json, summary.*."
    ),
    eval_prompts: str | None = typer.Option(
        None, "--eval-prompts", help="Held-out prompts to benchmark (default: --prompts)."
    ),
    samples: int = typer.Option(10, "--samples", help="Benchmark completions per prompt (n)."),
    k: str | None = typer.Option(
        None, "--k", help="pass@k values, comma-separated (default: 1,5,10 up to --samples)."
    ),
    samples_per_prompt: int | None = typer.Option(
        None, "--samples-per-prompt", help="RAFT completions per prompt per cycle."
    ),
    max_new_tokens: int | None = typer.Option(
        None, "--max-new-tokens", help="Longest completion (tokens), in RAFT and benchmarks."
    ),
    backend: str | None = typer.Option(
        None, "--backend", help=BACKEND_HELP + " For RAFT and both benchmarks."
    ),
    verifier_option: list[str] = typer.Option([], "--verifier-option", help=VERIFIER_OPTION_HELP),
    set_keys: list[str] = typer.Option([], "--set", help=CONFIG_SET_HELP + " (the RAFT config)"),
) -> None:
    """Baseline benchmark, RAFT for N cycles, final benchmark, and a summary with plots."""
    options = {"model": model, "prompts": prompts, "verifier": verifier, "cycles": cycles}
    options |= {"samples_per_prompt": samples_per_prompt, "max_new_tokens": max_new_tokens}
    options |= {"backend": backend}
    overrides = overrides_from_options(RAFT_OPTION_KEYS, options)
    overrides |= verifier_option_overrides(verifier_option) | config_overrides(set_keys)
    settings = load_config(RAFTConfig, config, overrides)
    if model is not None:
        settings.sft_checkpoint = None  # --model on the command line beats a YAML checkpoint
    k_values = parse_k_values(k) if k is not None else None
    check_verifiers(settings, source=str(config or "command line"))  # in a second, before torch
    from halo_forge.benchmark.full import run_full  # torch loads only when a command runs
    from halo_forge.benchmark.stages import stage_table

    with command_log("benchmark_full"):
        result = run_full(settings, output, eval_prompts=eval_prompts, samples=samples, k=k_values)
        ui.echo(stage_table(result.stages))
        ui.echo(f"wrote {result.summary}, {result.summary_plot} and {result.training_plot}")
