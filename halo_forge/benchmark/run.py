"""`benchmark run`: sample n completions per prompt, verify each with its prompt's context, aggregate.

Prompts are shown in the model's own chat template (`format_prompt` with its tokenizer), the
layout SFT and RAFT train with, so a benchmark measures the model as it is used. Every sample
is verified with the context of its own prompt (tests, expected output, task id), and the
numbers are computed by `results.aggregate` from the per-sample outcomes written beside them.

Finished work is kept as it is made, beside the result `x.json`:

    x.fingerprint.json   the settings of the run (model, prompts, sampling, verifier, seed)
    x.completions.jsonl  the samples, appended batch by batch (RAFT's `generate_samples`)
    x.samples.jsonl      their outcomes, appended batch by batch (`verify_records`)
    x.json               written last, from the outcomes

so running the same command again resumes: finished generation batches and verified samples
are skipped, and each batch is drawn with its own seed (`seed + batch index`), so a resumed
run ends with the same files as an uninterrupted one. Other settings are refused, naming the
changed keys; `force` starts those over (and still resumes a run of the same settings). `k`
is not a setting of the work: changing it reuses every sample and only recounts.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from halo_forge import ui
from halo_forge.benchmark.results import (
    BenchmarkResult,
    HardwareMetrics,
    SampleOutcome,
    Timing,
    build_result,
    path_beside,
    samples_path_for,
    write_result,
)
from halo_forge.config.fingerprint import (
    compare_fingerprint,
    content_sha256,
    flatten_settings,
    store_fingerprint,
)
from halo_forge.config.generation import BACKEND_KEYS
from halo_forge.config.models import BenchmarkConfig
from halo_forge.data.jsonl import read_jsonl
from halo_forge.data.records import PromptRecord, read_records
from halo_forge.data.templates import Template, format_prompt
from halo_forge.errors import ConfigError, DataError
from halo_forge.generation.registry import sampler_from_config
from halo_forge.models.loading import load_tokenizer
from halo_forge.raft.cycle import CyclePrompt, StopRequest, generate_samples, samples_complete
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.records import verifier_fingerprint, verify_records
from halo_forge.verifiers.registry import build_verifier
from halo_forge.verifiers.requirements import check_prompt_contexts

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


@dataclass(frozen=True)
class RunFiles:
    """The files of a benchmark run, all beside its result JSON (see the module docstring)."""

    result: Path

    @property
    def fingerprint(self) -> Path:
        return path_beside(self.result, ".fingerprint.json")

    @property
    def completions(self) -> Path:
        return path_beside(self.result, ".completions.jsonl")

    @property
    def samples(self) -> Path:
        return samples_path_for(self.result)

    def kept(self) -> list[Path]:
        """The files of finished work that a re-run would resume from."""
        return [path for path in (self.completions, self.samples) if path.is_file()]


def verify_samples(
    verifier: Verifier,
    records: Sequence[PromptRecord],
    completions: Sequence[Sequence[str]],
    output: Path,
    *,
    stop: Callable[[], None] | None = None,
) -> list[SampleOutcome]:
    """Verify every completion with its own prompt's context into the per-sample JSONL `output`.

    `completions[i]` are the samples of `records[i]`. Outcomes are appended batch by batch, and
    a call on an `output` that already holds some resumes after them (`verify_records`); `stop`
    is called between batches.
    """
    ids = prompt_ids(records)
    contexts = [record.verification_context() for record in records]
    flat = [
        {"prompt_index": index, "sample_index": sample_index, "completion": completion}
        for index, samples in enumerate(completions)
        for sample_index, completion in enumerate(samples)
    ]

    def outcome(sample: dict[str, Any], result: VerifyResult) -> dict[str, Any]:
        record = records[sample["prompt_index"]]
        return asdict(
            SampleOutcome.from_verification(
                ids[sample["prompt_index"]],
                sample["sample_index"],
                record.category,
                sample["completion"],
                result,
                language=record.language,
            )
        )

    verified = verify_records(
        verifier,
        flat,
        output,
        fingerprint=None,  # the run's fingerprint covers the verifier
        source="the benchmark's completions",
        code=lambda sample: sample["completion"],
        context=lambda sample: contexts[sample["prompt_index"]],
        scored=outcome,
        stop=stop,
    )
    return [SampleOutcome(**sample) for sample in verified.records]


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


def benchmark_fingerprint(
    config: BenchmarkConfig,
    records: Sequence[PromptRecord],
    layout: PromptLayout,
    seed: int,
    verifier: dict[str, Any],
) -> dict[str, Any]:
    """Every setting that decides a run's samples and outcomes, as `{dotted.key: value}`.

    The prompts count by content (their path does not); `k` and `output` are left out, since
    they decide neither; `verifier` is `verifier_fingerprint` of the verifier in use.
    """
    settings = config.model_dump(
        mode="json", exclude={"k", "output", "prompts", "max_prompts", "verifier", *BACKEND_KEYS}
    )
    return {
        **flatten_settings(settings),
        **config.fingerprint_keys(),
        "prompts_sha256": content_sha256([record.to_dict() for record in records]),
        "seed": seed,
        **flatten_settings(asdict(layout), prefix="layout."),
        **verifier,
    }


def _claim_files(files: RunFiles, fingerprint: dict[str, Any], force: bool) -> None:
    """Keep earlier work only when it was made with these settings, then store the fingerprint.

    Work without a stored fingerprint (made before fingerprints were kept) and work of other
    settings under `force` is deleted, its result included, before the new fingerprint is
    stored, so no file ever mixes two runs.
    """
    stem = files.result.name.removesuffix(".json")
    changed = compare_fingerprint(
        files.fingerprint,
        fingerprint,
        force=force or not files.kept(),
        holder=f"{files.result.parent / stem}.* hold a benchmark run",
        force_effect="start it over",
    )
    if changed or not files.fingerprint.is_file():
        for path in (files.completions, files.samples, files.result):
            path.unlink(missing_ok=True)
    elif files.kept():
        ui.echo(f"resuming the benchmark kept in {', '.join(map(str, files.kept()))}")
    store_fingerprint(files.fingerprint, fingerprint)


def _generate(
    config: BenchmarkConfig,
    records: Sequence[PromptRecord],
    layout: PromptLayout,
    files: RunFiles,
    seed: int,
    stop: StopRequest,
) -> list[list[str]]:
    """Sample the batches `files.completions` lacks; returns `completions[i]` of prompt i.

    The model loads only when a batch is missing: a resumed run whose samples are all drawn
    goes straight to verification.
    """
    assert config.model is not None  # checked by run_benchmark
    ids = prompt_ids(records)
    tokenizer = load_tokenizer(config.model)
    prompts = [
        CyclePrompt(key, layout.format(record, tokenizer), record)
        for key, record in zip(ids, records, strict=True)
    ]
    if not samples_complete(files.completions, prompts, config.samples):
        ui.echo(f"Sampling {config.samples} completion(s) for each of {len(records)} prompt(s)")
        sampler = sampler_from_config(config, config.model, batch_size=config.batch_size)

        def sample_batch(texts: list[str], batch_seed: int) -> list[list[str]]:
            return sampler.generate(
                texts,
                n=config.samples,
                temperature=config.temperature,
                top_p=config.top_p,
                max_new_tokens=config.max_new_tokens,
                stop=list(layout.stop) or None,
                seed=batch_seed,
            )

        try:
            generate_samples(
                files.completions,
                prompts,
                sample_batch,
                samples_per_prompt=config.samples,
                batch_size=config.batch_size,
                seed=seed,
                stop=stop,
            )
        finally:
            sampler.close()  # vLLM's engine processes end here, before verification starts
    by_prompt: dict[str, list[str]] = {key: [] for key in ids}
    for sample in read_jsonl(files.completions):
        by_prompt[sample["prompt_key"]].append(sample["completion"])
    return [by_prompt[key] for key in ids]


def run_benchmark(
    config: BenchmarkConfig,
    *,
    hardware: bool = False,
    seed: int = DEFAULT_SEED,
    verifier: Verifier | None = None,
    layout: PromptLayout | None = None,
    force: bool = False,
    stop: StopRequest | None = None,
) -> BenchmarkResult:
    """Benchmark `config.model` on `config.prompts` and write the result JSON and samples file.

    `verifier` overrides `config.verifier` (a library user's own verifier instance); `layout`
    defaults to the model's chat template. `hardware` adds peak memory to the result.
    A run resumes the finished work of an earlier one with the same settings (module
    docstring); work of other settings raises ConfigError naming the changed keys, unless
    `force`, which starts over instead. Ctrl-C stops at the next batch boundary with
    KeyboardInterrupt, the finished batches kept (`RunFiles.kept`); `stop` replaces the Ctrl-C
    handler that does this. Timing counts this call's work.
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
    files = RunFiles(Path(config.output))
    try:
        check_prompt_contexts(
            active, records, verifier_label=f"verifier {verifier_name!r}", source=config.prompts
        )
        identity = (
            verifier_fingerprint(active, config.verifier.type, config.verifier.options())
            if owns_verifier
            else verifier_fingerprint(active)
        )
        _claim_files(files, benchmark_fingerprint(config, records, layout, seed, identity), force)
        with stop or StopRequest() as halt:
            generation_started = time.perf_counter()
            completions = _generate(config, records, layout, files, seed, halt)
            generation_s = time.perf_counter() - generation_started
            verification_started = time.perf_counter()
            samples = verify_samples(
                active, records, completions, files.samples, stop=halt.raise_if_requested
            )
            verification_s = time.perf_counter() - verification_started
    finally:
        if owns_verifier:
            active.cleanup()

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
        samples_file=files.samples.name,
        hardware=hardware_metrics() if hardware else None,
    )
    write_result(result, samples, files.result)
    logger.debug("wrote %s and %s", files.result, files.samples)
    return result
