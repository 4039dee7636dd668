"""`halo-forge data generate`: training examples written by an LLM, optionally verified.

    halo-forge data generate --topic cpp_algorithms --backend deepseek --samples 500 \\
        --output data/cpp_sft.jsonl --verify gcc
    halo-forge data generate --prompts data/prompts.jsonl --backend ollama --output data/out.jsonl
    halo-forge data generate --list

Rerunning the same command resumes: prompts already answered in the output are skipped.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from enum import Enum
from pathlib import Path

import typer
from rich.table import Table

from halo_forge import ui
from halo_forge.cli.logfile import command_log
from halo_forge.data.generate import (
    GenerationSettings,
    GenerationSummary,
    generate_examples,
    requests_from_file,
    requests_from_topic,
)
from halo_forge.data.llm_backends import BACKENDS, build_backend
from halo_forge.data.topics import list_topics as builtin_topics
from halo_forge.data.topics import load_topic
from halo_forge.errors import ConfigError
from halo_forge.verifiers.base import Verifier

Backend = Enum("Backend", {name: name for name in BACKENDS}, type=str)  # type: ignore[misc]
_DEFAULT_MODELS = ", ".join(f"{name}={spec.default_model}" for name, spec in BACKENDS.items())

DEFAULT_TOPIC_SAMPLES = 100


def generate(
    topic: str | None = typer.Option(
        None, "--topic", help="Built-in topic (see --list) or the path of a topic .yaml file."
    ),
    prompts: Path | None = typer.Option(
        None, "--prompts", help="JSONL file of {prompt, ...} records to answer, instead of a topic."
    ),
    backend: Backend = typer.Option(
        Backend("deepseek"),
        "--backend",
        help="LLM service; keys come from DEEPSEEK_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY.",
    ),
    model: str | None = typer.Option(
        None, "--model", help=f"Model name; defaults: {_DEFAULT_MODELS}."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="JSONL file of {prompt, completion, metadata} records."
    ),
    samples: int | None = typer.Option(
        None,
        "--samples",
        "-n",
        help=f"Examples to request (topic: default {DEFAULT_TOPIC_SAMPLES}; prompts: one each).",
    ),
    concurrency: int = typer.Option(8, "--concurrency", "-c", help="Requests in flight at once."),
    verify: str | None = typer.Option(
        None, "--verify", help="Keep only answers this verifier accepts (e.g. gcc, mbpp)."
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Endpoint override (an OpenAI-compatible server, a remote vLLM)."
    ),
    temperature: float = typer.Option(0.7, "--temperature", help="Sampling temperature."),
    max_tokens: int = typer.Option(2048, "--max-tokens", help="Longest answer, in tokens."),
    seed: int = typer.Option(0, "--seed", help="Chooses which topic prompts are expanded."),
    list_topics: bool = typer.Option(False, "--list", help="List the built-in topics and exit."),
) -> None:
    """Ask an LLM for training examples on a topic or for a file of prompts.

    Answers are appended as they arrive; rerun the same command to resume or retry failures.
    """
    if list_topics:
        _print_topics()
        return
    if (topic is None) == (prompts is None):
        raise ConfigError("give exactly one of --topic NAME (see --list) or --prompts FILE")
    if output is None:
        raise ConfigError("--output is required: the JSONL file the examples are written to")
    settings = GenerationSettings(
        model=model, temperature=temperature, max_tokens=max_tokens, concurrency=concurrency
    )
    with command_log("data_generate"):
        if topic is not None:
            requests = requests_from_topic(
                load_topic(topic), DEFAULT_TOPIC_SAMPLES if samples is None else samples, seed
            )
        else:
            requests = requests_from_file(prompts, samples)
        with _verifier(verify) as verifier:  # built first: a bad name fails before any request
            chat_backend = build_backend(backend.value, base_url=base_url)
            summary = generate_examples(requests, chat_backend, output, settings, verifier)
        _print_summary(summary, verify)
    if summary.failed:
        raise typer.Exit(code=1)


def _verifier(name: str | None) -> AbstractContextManager[Verifier | None]:
    """The named verifier as a context manager (cleaned up after the job), or None."""
    if name is None:
        return nullcontext()
    from halo_forge.verifiers.registry import build_verifier

    return build_verifier(name)


def _print_topics() -> None:
    table = Table(title="Built-in topics (--topic NAME)")
    for column in ("name", "language", "distinct prompts", "description"):
        table.add_column(column)
    for spec in builtin_topics():
        table.add_row(spec.name, spec.language, str(spec.distinct_prompts), spec.description)
    ui.echo(table)


def _print_summary(summary: GenerationSummary, verify: str | None) -> None:
    table = Table(title="data generate", show_header=False)
    table.add_row("requested", str(summary.requested))
    table.add_row("already done (skipped)", str(summary.already_done))
    table.add_row("ok (written)", str(summary.ok))
    table.add_row("failed", str(summary.failed))
    if verify is not None:
        table.add_row(f"rejected by {verify}", str(summary.rejected))
    table.add_row("seconds", f"{summary.seconds:.1f}")
    table.add_row("output", str(summary.output))
    if summary.rejected_output is not None:
        table.add_row("rejected answers", str(summary.rejected_output))
    ui.echo(table)
    for message in summary.failures:
        ui.echo(f"[red]failed:[/red] {message}")
    if summary.failed:
        ui.echo(f"{summary.failed} prompts failed; rerun the same command to retry only them.")
