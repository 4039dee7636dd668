"""One RAFT cycle as a state machine over files: samples -> verified -> kept -> checkpoint -> stats.

    OUTPUT/cycle_N/samples.jsonl    n completions per prompt, appended batch by batch (fsync)
    OUTPUT/cycle_N/verified.jsonl   each sample with its reward, appended chunk by chunk
    OUTPUT/cycle_N/kept.jsonl       the filtered samples training uses (written atomically)
    OUTPUT/cycle_N/train/           the trainer's working directory (logs, TensorBoard)
    OUTPUT/cycle_N_final/           the cycle's adapter, renamed into place when complete
    OUTPUT/cycle_N/stats.json       written last: its presence means the cycle is finished

A stage whose complete output exists is skipped, so resuming is the normal path. Generation
resumes after the last complete batch (a batch cut short by a kill is dropped and redone),
verification after the last complete chunk (and the verifier cache makes redone work cheap),
training restarts from `kept.jsonl`. This module holds the file logic and no model code, so it
is tested with a plain function as the sampler.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.data.jsonl import JsonlAppender, iter_jsonl, read_jsonl, write_jsonl
from halo_forge.data.records import PromptRecord, RecordKind, parse_record, read_records
from halo_forge.errors import DataError
from halo_forge.training.interrupt import StopRequest
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.language_names import reported_language
from halo_forge.verifiers.records import VerifiedRecords, verify_records
from halo_forge.verifiers.result import compiled_of

#: Samples handed to the verifier per appended chunk (the unit a kill can lose).
VERIFY_CHUNK = 64
#: Longest verifier message stored per sample (compiler output can be long).
DETAILS_LIMIT = 500

#: `(formatted prompts, seed) -> completions[i][j]`, one batch of generation.
BatchSampler = Callable[[list[str], int], list[list[str]]]


@dataclass(frozen=True)
class CyclePaths:
    """Where cycle `cycle` of the run in `output_dir` keeps its files."""

    output_dir: Path
    cycle: int

    @property
    def directory(self) -> Path:
        return self.output_dir / f"cycle_{self.cycle}"

    @property
    def samples(self) -> Path:
        return self.directory / "samples.jsonl"

    @property
    def verified(self) -> Path:
        return self.directory / "verified.jsonl"

    @property
    def kept(self) -> Path:
        return self.directory / "kept.jsonl"

    @property
    def stats(self) -> Path:
        return self.directory / "stats.json"

    @property
    def train_dir(self) -> Path:
        return self.directory / "train"

    @property
    def checkpoint(self) -> Path:
        return self.output_dir / f"cycle_{self.cycle}_final"

    def is_finished(self) -> bool:
        return self.stats.is_file() and self.checkpoint.is_dir()


@dataclass(frozen=True)
class CyclePrompt:
    """A prompt of the run: its stable key, the text the model sees, and its record."""

    key: str
    text: str
    record: PromptRecord
    system_prompt: str | None = None


def prompt_key(index: int, record: PromptRecord) -> str:
    """A key that names the prompt across cycles: its position, plus its task id if it has one."""
    return f"{index}:{record.task_id}" if record.task_id is not None else str(index)


def prompt_records(
    prompts: str | Path | Iterable[PromptRecord | dict[str, Any]],
) -> tuple[list[PromptRecord], list[int] | None, str]:
    """The prompt records, their file lines (None for records given in code), and their source."""
    line_numbers: list[int] | None = None
    source = "prompts"
    if isinstance(prompts, (str, Path)):
        numbered = list(read_records(prompts, RecordKind.RLVR).numbered())
        records = [record for _, record in numbered]
        line_numbers = [line_number for line_number, _ in numbered]
        source = str(prompts)
    else:
        records = []
        for index, item in enumerate(prompts):
            try:
                records.append(
                    item if isinstance(item, PromptRecord) else parse_record(item, RecordKind.RLVR)
                )
            except ValueError as error:
                raise DataError(f"prompt {index}: {error}") from None
    if not records:
        raise DataError("no prompts to train on; pass RLVR prompt records (JSONL with `prompt`)")
    return records, line_numbers, source  # type: ignore[return-value]


def expected_samples(prompts: Sequence[CyclePrompt], samples_per_prompt: int) -> int:
    return len(prompts) * samples_per_prompt


def samples_complete(path: Path, prompts: Sequence[CyclePrompt], samples_per_prompt: int) -> bool:
    """Whether the samples file holds every sample of the cycle (a torn last line does not count)."""
    if not path.is_file():
        return False
    complete = sum(1 for _ in iter_jsonl(path, skip_invalid=True))
    return complete == expected_samples(prompts, samples_per_prompt)


def generate_samples(
    path: Path,
    prompts: Sequence[CyclePrompt],
    sample_batch: BatchSampler,
    *,
    samples_per_prompt: int,
    batch_size: int,
    seed: int,
    stop: StopRequest | None = None,
) -> int:
    """Append the missing batches of samples to `path`; returns how many samples were generated.

    Batches are fixed slices of `prompts` with seed `seed + batch index`, so a resumed run draws
    the same batches as an uninterrupted one would. A batch with fewer lines than it should
    have (a kill during its write) is removed before generation resumes.
    """
    batches = [prompts[start : start + batch_size] for start in range(0, len(prompts), batch_size)]
    done = _complete_batches(path, batches, samples_per_prompt)
    generated = 0
    with JsonlAppender(path) as appender, ui.progress() as bar:
        task = bar.add_task("Generating", total=len(prompts), completed=0)
        for index, batch in enumerate(batches):
            if index not in done:
                completions = sample_batch([prompt.text for prompt in batch], seed + index)
                appender.append_batch(
                    _sample_records(batch, completions, index, samples_per_prompt)
                )
                generated += len(batch) * samples_per_prompt
            bar.advance(task, len(batch))
            if stop is not None and index + 1 < len(batches):
                stop.raise_if_requested()
    return generated


def _complete_batches(
    path: Path, batches: Sequence[Sequence[CyclePrompt]], samples_per_prompt: int
) -> set[int]:
    if not path.is_file():
        return set()
    with JsonlAppender(path) as appender:  # opening drops a torn last line
        records = appender.existing()
    counts: dict[int, int] = {}
    for record in records:
        counts[record["batch"]] = counts.get(record["batch"], 0) + 1
    done = {
        index
        for index, batch in enumerate(batches)
        if counts.get(index) == len(batch) * samples_per_prompt
    }
    whole = [record for record in records if record["batch"] in done]
    if len(whole) != len(records):
        write_jsonl(path, whole)
    return done


def _sample_records(
    batch: Sequence[CyclePrompt],
    completions: list[list[str]],
    batch_index: int,
    samples_per_prompt: int,
) -> list[dict[str, Any]]:
    if len(completions) != len(batch) or any(
        len(per_prompt) != samples_per_prompt for per_prompt in completions
    ):
        raise ValueError(
            f"the sampler returned {[len(c) for c in completions]} completions for "
            f"{len(batch)} prompts x {samples_per_prompt}; expected {samples_per_prompt} each"
        )
    return [
        {
            "sample_id": f"{prompt.key}#{number}",
            "prompt_key": prompt.key,
            "batch": batch_index,
            "prompt": prompt.record.prompt,
            **({"system_prompt": prompt.system_prompt} if prompt.system_prompt else {}),
            "completion": completion,
        }
        for prompt, per_prompt in zip(batch, completions, strict=True)
        for number, completion in enumerate(per_prompt)
    ]


def verify_samples(
    samples_path: Path,
    verified_path: Path,
    prompts: Sequence[CyclePrompt],
    verifier: Verifier,
    *,
    stop: StopRequest | None = None,
    chunk_size: int | None = None,
) -> VerifiedRecords:
    """Verify the samples not yet in `verified_path`, chunk by chunk; returns every record.

    The one resumable loop (`verify_records`) does the work: the verified file holds the
    samples in their order, each with `reward`, `success`, `compiled`, `language` and the
    verifier's `details` and `error` cut to `DETAILS_LIMIT`. Each prompt record's own
    verification context (tests, expected output, stdin) goes with its samples. The run
    fingerprint covers the verifier, so the file keeps no fingerprint of its own.
    `chunk_size` defaults to `VERIFY_CHUNK`.
    """
    contexts = {prompt.key: prompt.record.verification_context() for prompt in prompts}

    def scored(sample: Mapping[str, Any], result: VerifyResult) -> dict[str, Any]:
        return {
            **sample,
            "reward": result.reward,
            "success": result.success,
            "compiled": compiled_of(result),
            "language": reported_language(contexts[sample["prompt_key"]].get("language"), result),
            "details": result.details[:DETAILS_LIMIT],
            "error": (result.error or "")[:DETAILS_LIMIT] or None,
        }

    return verify_records(
        verifier,
        read_jsonl(samples_path),
        verified_path,
        fingerprint=None,
        batch_size=chunk_size or VERIFY_CHUNK,
        source=str(samples_path),
        code=lambda sample: sample["completion"],
        context=lambda sample: contexts[sample["prompt_key"]],
        scored=scored,
        stop=stop.raise_if_requested if stop is not None else None,
    )


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """`function()` and the seconds it took."""
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start
