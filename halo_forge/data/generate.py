"""Generate SFT examples by asking an LLM, optionally keeping only the ones a verifier accepts.

The job in one picture:

    requests (from a topic or a prompts file, each with a stable prompt id)
      -> skip ids already in the output (resume is the normal path)
      -> `concurrency` workers ask the backend, one request each at a time
      -> a queue of answers -> [verifier in batches] -> appended to the output, fsynced

Every kept answer becomes one record `{prompt, completion, metadata}` in the output JSONL,
written as soon as it arrives, so a kill loses only the answers in flight and a rerun with
the same arguments asks only for the prompts that are missing. With a verifier, rejected
answers go to `<output stem>.rejected.jsonl` with the verifier's verdict: a person can see
why, and a rerun does not pay for them again. Requests that fail (retries spent, a rejected
request, an unreadable answer) are counted and logged, not written, so a rerun retries them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.data.jsonl import JsonlAppender, PathLike, iter_jsonl
from halo_forge.data.llm_backends import ChatBackend, LLMRequestError
from halo_forge.data.topics import TopicSpec, expand_topic
from halo_forge.errors import ConfigError, DataError
from halo_forge.verifiers.base import Verifier, VerifyResult

logger = logging.getLogger(__name__)

#: System prompt for prompts-file records that bring none of their own.
DEFAULT_SYSTEM_PROMPT = (
    "You are an expert programmer. Answer with correct, complete, runnable code in a fenced "
    "code block tagged with its language."
)
#: How many failure messages the summary keeps (all of them go to the log).
_FAILURES_KEPT = 5
#: Characters of a rejection's details kept in its record.
_DETAILS_KEPT = 2000
#: Fields of a prompts-file record that are not passed on as verifier context.
_RECORD_FIELDS = ("prompt", "system", "metadata")


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to send: its id, the chat turn, and what travels with the answer."""

    prompt_id: str
    prompt: str
    system_prompt: str
    metadata: dict[str, Any] = field(default_factory=dict)  # copied into the record
    verify_context: dict[str, Any] = field(default_factory=dict)  # expected_output, tests, ...


@dataclass
class GenerationSummary:
    """What a generation job did; `ok` records were written to `output`."""

    requested: int
    already_done: int
    ok: int = 0
    failed: int = 0
    rejected: int = 0
    seconds: float = 0.0
    output: Path | None = None
    rejected_output: Path | None = None
    failures: list[str] = field(default_factory=list)  # the first few failure messages


def prompt_id(system_prompt: str, prompt: str, occurrence: int) -> str:
    """Stable id of the `occurrence`-th request (0-based) of this exact system prompt + prompt."""
    key = json.dumps([system_prompt, prompt, occurrence], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _with_ids(
    items: list[tuple[str, str, dict[str, Any], dict[str, Any]]],
) -> list[GenerationRequest]:
    """Requests with ids; a prompt asked several times gets one id per occurrence."""
    occurrences: Counter[tuple[str, str]] = Counter()
    requests = []
    for system_prompt, prompt, metadata, verify_context in items:
        occurrence = occurrences[(system_prompt, prompt)]
        occurrences[(system_prompt, prompt)] += 1
        requests.append(
            GenerationRequest(
                prompt_id(system_prompt, prompt, occurrence),
                prompt,
                system_prompt,
                metadata,
                verify_context,
            )
        )
    return requests


def requests_from_topic(spec: TopicSpec, samples: int, seed: int) -> list[GenerationRequest]:
    """`samples` requests expanded from a topic, the same ones for the same seed."""
    return _with_ids(
        [
            (
                spec.system_prompt.strip(),
                expanded.prompt,
                {
                    "topic": spec.name,
                    "language": spec.language,
                    "template": expanded.template,
                    "values": expanded.values,
                    "seed": seed,
                },
                {},
            )
            for expanded in expand_topic(spec, samples, seed)
        ]
    )


def requests_from_file(path: PathLike, samples: int | None = None) -> list[GenerationRequest]:
    """Requests from a JSONL file of `{prompt, [system], [metadata], ...}` records.

    Fields other than prompt/system/metadata (`expected_output`, `tests`, `task_id`, ...) are
    kept in the record's metadata and handed to the verifier as context. `samples` caps the
    number of requests; past the number of records, the file is used again from the top (one
    more answer per prompt, each with its own id).
    """
    records = []
    for line_number, record in iter_jsonl(path):
        prompt = record.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise DataError(f"{path}:{line_number}: 'prompt' must be a non-empty string")
        system_prompt = record.get("system") or DEFAULT_SYSTEM_PROMPT
        if not isinstance(system_prompt, str):
            raise DataError(f"{path}:{line_number}: 'system' must be a string")
        extra = {key: value for key, value in record.items() if key not in _RECORD_FIELDS}
        metadata = {**(record.get("metadata") or {}), **extra, "source": f"{path}:{line_number}"}
        records.append((system_prompt, prompt, metadata, extra))
    if not records:
        raise DataError(f"{path}: no prompts in the file; each line needs a 'prompt'")
    count = len(records) if samples is None else samples
    if count < 0:
        raise ConfigError(f"samples must be >= 0, got {count}")
    return _with_ids([records[position % len(records)] for position in range(count)])


def rejected_path_for(output: PathLike) -> Path:
    """Where a verified job puts the answers its verifier rejected."""
    output = Path(output)
    return output.with_name(f"{output.stem}.rejected.jsonl")


@dataclass
class _Answer:
    request: GenerationRequest
    completion: str | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class GenerationSettings:
    """How to ask: the model (None: the backend's default), sampling, and parallel requests."""

    model: str | None = None
    temperature: float = 0.7
    max_tokens: int = 2048
    concurrency: int = 8

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")


def generate_examples(
    requests: list[GenerationRequest],
    backend: ChatBackend,
    output: PathLike,
    settings: GenerationSettings | None = None,
    verifier: Verifier | None = None,
) -> GenerationSummary:
    """Run a generation job to completion (see the module docstring) and close the backend.

    The backend's connections belong to this job's event loop, hence the close. From code that
    already runs an event loop, await `agenerate_examples` instead.
    """

    async def run_and_close() -> GenerationSummary:
        try:
            return await agenerate_examples(requests, backend, output, settings, verifier)
        finally:
            await backend.aclose()

    return asyncio.run(run_and_close())


async def agenerate_examples(
    requests: list[GenerationRequest],
    backend: ChatBackend,
    output: PathLike,
    settings: GenerationSettings | None = None,
    verifier: Verifier | None = None,
) -> GenerationSummary:
    """The job of `generate_examples`, in the caller's event loop (the backend stays open)."""
    settings = settings or GenerationSettings()
    model = settings.model or backend.default_model
    started = time.monotonic()
    output = Path(output)
    rejected_output = rejected_path_for(output) if verifier else None
    with (
        JsonlAppender(output) as kept_file,
        JsonlAppender(rejected_output) if rejected_output else nullcontext() as rejected_file,
    ):
        done = _finished_ids(kept_file) | (_finished_ids(rejected_file) if rejected_file else set())
        todo = [request for request in requests if request.prompt_id not in done]
        summary = GenerationSummary(
            requested=len(requests),
            already_done=len(requests) - len(todo),
            output=output,
            rejected_output=rejected_output,
        )
        sampling = {"backend": backend.name, "model": model, "temperature": settings.temperature}
        answers: asyncio.Queue[_Answer] = asyncio.Queue(maxsize=2 * settings.concurrency)
        pending = iter(todo)  # shared by the workers: each request is taken exactly once

        async def worker() -> None:
            for request in pending:
                messages = [
                    {"role": "system", "content": request.system_prompt},
                    {"role": "user", "content": request.prompt},
                ]
                try:
                    text = await backend.complete(
                        messages,
                        model=model,
                        temperature=settings.temperature,
                        max_tokens=settings.max_tokens,
                    )
                    await answers.put(_Answer(request, completion=text))
                except LLMRequestError as error:  # this prompt failed; the others go on
                    await answers.put(_Answer(request, error=error))
                except Exception as error:  # the job cannot go on: the writer raises it
                    await answers.put(_Answer(request, error=error))
                    return

        workers = [
            asyncio.create_task(worker()) for _ in range(min(settings.concurrency, len(todo)))
        ]
        try:
            with ui.progress() as bar:
                task = bar.add_task(f"{backend.name}:{model}", total=len(todo))
                received = 0
                while received < len(todo):
                    batch = await _next_batch(answers)
                    received += len(batch)
                    answered = _drop_failures(batch, summary)
                    verdicts = await _verify(verifier, answered)
                    kept, rejected = [], []
                    for answer, verdict in zip(answered, verdicts, strict=True):
                        record = _record(answer, sampling, verdict)
                        passed = verdict is None or verdict.success
                        (kept if passed else rejected).append(record)
                    kept_file.append_batch(kept)
                    if rejected_file is not None:
                        rejected_file.append_batch(rejected)
                    summary.ok += len(kept)
                    summary.rejected += len(rejected)
                    bar.advance(task, len(batch))
        finally:
            for running in workers:
                running.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    summary.seconds = time.monotonic() - started
    return summary


def _finished_ids(appender: JsonlAppender) -> set[str]:
    """Prompt ids of the records already in a generation output."""
    ids = set()
    for record in appender.existing():
        prompt_id = (record.get("metadata") or {}).get("prompt_id")
        if not isinstance(prompt_id, str):
            raise DataError(
                f"{appender.path} holds records without metadata.prompt_id, so it was not "
                "written by data generate; choose another --output"
            )
        ids.add(prompt_id)
    return ids


async def _next_batch(answers: asyncio.Queue[_Answer]) -> list[_Answer]:
    """The next answer, plus every answer already waiting (verified and written together)."""
    batch = [await answers.get()]
    while not answers.empty():
        batch.append(answers.get_nowait())
    return batch


def _drop_failures(batch: list[_Answer], summary: GenerationSummary) -> list[_Answer]:
    """The answers that hold a completion; failed requests are counted and logged.

    A per-request failure (`LLMRequestError`) leaves the rest of the job running; any other
    error (a refused API key, a bug) stops the job here.
    """
    answered = []
    for answer in batch:
        if answer.error is None:
            answered.append(answer)
            continue
        if not isinstance(answer.error, LLMRequestError):
            raise answer.error
        summary.failed += 1
        if len(summary.failures) < _FAILURES_KEPT:
            summary.failures.append(str(answer.error))
        logger.warning("prompt %s failed: %s", answer.request.prompt_id, answer.error)
    return answered


async def _verify(verifier: Verifier | None, answered: list[_Answer]) -> list[VerifyResult | None]:
    """Verdicts of a batch (the verifier's own pool runs them in parallel), or None each."""
    if verifier is None or not answered:
        return [None] * len(answered)
    return await asyncio.to_thread(
        verifier.verify_batch,
        [answer.completion or "" for answer in answered],
        prompts=[answer.request.prompt for answer in answered],
        contexts=[answer.request.verify_context for answer in answered],
    )


def _record(
    answer: _Answer, sampling: dict[str, Any], verdict: VerifyResult | None
) -> dict[str, Any]:
    """The SFT record of one answer; a verdict is kept in its metadata."""
    metadata = {"prompt_id": answer.request.prompt_id, **sampling, **answer.request.metadata}
    if verdict is not None:
        metadata["verification"] = {"success": verdict.success, "reward": verdict.reward}
        if not verdict.success:  # what a person reads to see why an answer was dropped
            metadata["verification"]["error"] = verdict.error
            metadata["verification"]["details"] = verdict.details[:_DETAILS_KEPT]
    return {"prompt": answer.request.prompt, "completion": answer.completion, "metadata": metadata}
