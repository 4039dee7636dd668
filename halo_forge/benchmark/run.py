"""`benchmark run`: sample n completions per prompt, verify each with its prompt's context, aggregate.

Prompts are shown in the model's own chat template (`format_prompt` with its tokenizer), the
layout SFT and RAFT train with, so a benchmark measures the model as it is used. Every sample
is verified with the context of its own prompt (tests, expected output, task id), and the
numbers are computed by `results.aggregate` from the per-sample outcomes written beside them.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from halo_forge import ui
from halo_forge.benchmark.results import (
    BenchmarkResult,
    HardwareMetrics,
    SampleOutcome,
    Timing,
    build_result,
    samples_path_for,
    write_result,
)
from halo_forge.config.models import BenchmarkConfig
from halo_forge.data.records import PromptRecord, read_records
from halo_forge.data.templates import Template, format_prompt
from halo_forge.errors import ConfigError, DataError
from halo_forge.generation.transformers_backend import TransformersSampler
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.registry import build_verifier

logger = logging.getLogger(__name__)

#: Sampling seed, recorded in the result's config so a run can be repeated.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class PromptLayout:
    """How prompts are shown to the model: in its chat template, or as raw text it continues.

    Published benchmarks fix this (HumanEval continues the raw prompt and stops at the next
    top-level statement), and numbers are comparable only under the same layout.
    """

    chat_template: bool = True
    stop: tuple[str, ...] = ()
    description: str = ""

    def format(self, record: PromptRecord, template: Template) -> str:
        """The text the model sees for `record`."""
        if not self.chat_template:
            return record.prompt
        return format_prompt(record.prompt, record.system_prompt, template)

    def describe(self, model: str) -> str:
        """The layout in words, for the result's `prompt_format`."""
        return self.description or f"chat template of the tokenizer of {model}"


def load_prompts(path: str, max_prompts: int | None = None) -> list[PromptRecord]:
    """The RLVR prompt records of `path`, the first `max_prompts` of them if given."""
    records: list[PromptRecord] = []
    for record in read_records(path, "rlvr"):
        if max_prompts is not None and len(records) >= max_prompts:
            break
        assert isinstance(record, PromptRecord)  # read as "rlvr", every record is one
        records.append(record)
    if not records:
        raise DataError(f"{path}: no prompts; expected RLVR records ({{prompt, ...}} per line)")
    return records


def prompt_ids(records: Sequence[PromptRecord]) -> list[str]:
    """Each record's `task_id`, else its position (`#0`, `#1`, ...); they must be unique.

    Samples are grouped by this id for pass@k, so two prompts sharing an id would be counted
    as one prompt with twice the samples.
    """
    ids = [
        str(record.task_id) if record.task_id is not None else f"#{index}"
        for index, record in enumerate(records)
    ]
    duplicates = sorted({identifier for identifier in ids if ids.count(identifier) > 1})
    if duplicates:
        raise DataError(
            f"prompt ids {duplicates[:5]} occur more than once; give every prompt its own "
            "task_id (or none), so each prompt's samples are counted separately"
        )
    return ids


def verify_samples(
    verifier: Verifier,
    records: Sequence[PromptRecord],
    completions: Sequence[Sequence[str]],
) -> list[SampleOutcome]:
    """Verify every completion with its own prompt's context, in one parallel batch."""
    ids = prompt_ids(records)
    flat = [
        (index, sample_index, completion)
        for index, samples in enumerate(completions)
        for sample_index, completion in enumerate(samples)
    ]
    contexts = [records[index].verification_context() for index, _, _ in flat]
    results = verifier.verify_batch([completion for _, _, completion in flat], contexts=contexts)
    return [
        SampleOutcome.from_verification(
            ids[index],
            sample_index,
            records[index].category,
            completion,
            result,
            language=records[index].language,
        )
        for (index, sample_index, completion), result in zip(flat, results, strict=True)
    ]


def hardware_metrics() -> HardwareMetrics:
    """Peak accelerator memory (CUDA/ROCm) and peak resident memory of this process so far."""
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_rss_mb = peak_rss / (1024 * 1024) if sys.platform == "darwin" else peak_rss / 1024
    accelerator_mb = (
        torch.cuda.max_memory_allocated() / (1024 * 1024) if torch.cuda.is_available() else None
    )
    return HardwareMetrics(peak_accelerator_memory_mb=accelerator_mb, peak_rss_mb=peak_rss_mb)


def check_samples_cover_k(config: BenchmarkConfig) -> None:
    """Refuse a k larger than n: its pass@k would be reported for no prompt at all."""
    too_large = [k for k in config.k if k > config.samples]
    if too_large:
        raise ConfigError(
            f"pass@k for k={too_large} needs at least {max(too_large)} samples per prompt, "
            f"but samples is {config.samples}; raise --samples or drop those k"
        )


def run_benchmark(
    config: BenchmarkConfig,
    *,
    hardware: bool = False,
    seed: int = DEFAULT_SEED,
    verifier: Verifier | None = None,
    layout: PromptLayout | None = None,
) -> BenchmarkResult:
    """Benchmark `config.model` on `config.prompts` and write the result JSON and samples file.

    `verifier` overrides `config.verifier` (a library user's own verifier instance); `layout`
    defaults to the model's chat template. `hardware` adds peak memory to the result.
    """
    layout = layout or PromptLayout()
    if config.model is None or config.prompts is None:
        raise ConfigError("benchmark needs a model and prompts: pass --model and --prompts")
    check_samples_cover_k(config)
    started = time.perf_counter()
    records = load_prompts(config.prompts, config.max_prompts)
    prompt_ids(records)  # fail on duplicate ids now, not after sampling
    owns_verifier = verifier is None
    # Built before the model loads, so a bad verifier name or option fails in seconds.
    active = verifier or build_verifier(config.verifier.type, **config.verifier.options())
    verifier_name = (
        config.verifier.type
        if owns_verifier
        else getattr(active, "verifier_name", type(active).__name__)
    )
    try:
        sampler = TransformersSampler.from_pretrained(config.model, batch_size=config.batch_size)
        texts = [layout.format(record, sampler.tokenizer) for record in records]
        ui.echo(f"Sampling {config.samples} completion(s) for each of {len(records)} prompt(s)")
        generation_started = time.perf_counter()
        completions = sampler.generate(
            texts,
            n=config.samples,
            temperature=config.temperature,
            top_p=config.top_p,
            max_new_tokens=config.max_new_tokens,
            stop=list(layout.stop) or None,
            seed=seed,
        )
        generation_s = time.perf_counter() - generation_started
        verification_started = time.perf_counter()
        samples = verify_samples(active, records, completions)
        verification_s = time.perf_counter() - verification_started
    finally:
        if owns_verifier:
            active.cleanup()

    output = Path(config.output)
    result = build_result(
        samples,
        k_values=config.k,
        samples_per_prompt=config.samples,
        model=config.model,
        verifier=verifier_name,
        prompt_format=layout.describe(config.model),
        timing=Timing(
            generation=generation_s,
            verification=verification_s,
            total=time.perf_counter() - started,
        ),
        config={**config.model_dump(mode="json"), "seed": seed},
        samples_file=samples_path_for(output).name,
        hardware=hardware_metrics() if hardware else None,
    )
    write_result(result, samples, output)
    logger.debug("wrote %s and %s", output, samples_path_for(output))
    return result
