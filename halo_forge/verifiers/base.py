"""The reward contract: every verifier turns a program into a `VerifyResult` on one graduated scale.

`Verifier` is what a verifier implements; the result types it returns (`VerifyResult`,
`RewardLevel`, `reward_from_pass_fraction`) are defined in `result.py`, which the batch runner
and the result cache use without depending on this module, and are part of this contract too.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from halo_forge.verifiers.executors.local import LocalExecutor
from halo_forge.verifiers.extract import extract_code
from halo_forge.verifiers.result import (
    ERROR_EXCERPT_CHARS,
    STAGES,
    RewardLevel,
    Stage,
    VerifyResult,
    compiled_of,
    reward_from_pass_fraction,
)

__all__ = [
    "ERROR_EXCERPT_CHARS",
    "STAGES",
    "RewardLevel",
    "Stage",
    "Verifier",
    "VerifyResult",
    "compiled_of",
    "reward_from_pass_fraction",
]

if TYPE_CHECKING:
    from pydantic import BaseModel

    from halo_forge.verifiers.executors.base import BatchExecutor


class Verifier(ABC):
    """Base class of every verifier, built-in or user-written.

    Subclasses implement `verify(code, **context)`; `context` carries per-sample expectations
    (`expected_output`, `stdin`, `test_cases`, `tests`, `task_id`, `prompt`, ...). Batches run in
    parallel through `verify_batch`. Use as a context manager so `cleanup` runs.
    """

    #: The registered name and options model, set by `register_verifier` (absent otherwise).
    verifier_name: ClassVar[str]
    options_model: ClassVar[type[BaseModel]]
    #: Fenced-block language tags this verifier accepts when extracting code; empty = any.
    languages: tuple[str, ...] = ()
    #: Context keys that can change a result. The pool deduplicates and caches on the extracted
    #: code plus these keys; None means every key (including `prompt` and `task_id`) counts.
    context_keys: tuple[str, ...] | None = None
    #: Runs a batch's unique, uncached samples: this process's thread pool unless the registry
    #: attached another for the `executor` option every verifier takes (`executor: ray`).
    batch_executor: BatchExecutor = LocalExecutor()

    def __init__(self, max_workers: int | None = None, use_cache: bool = True) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self.use_cache = use_cache

    @abstractmethod
    def verify(self, code: str, **context: Any) -> VerifyResult:
        """Verify one model output (raw text; `extract_code` pulls the program out of it)."""

    def extract_code(self, text: str) -> str:
        """The program inside a model's answer (fenced block of this language, <code>, or raw)."""
        return extract_code(text, self.languages)

    def cache_context(self, text: str, context: dict[str, Any]) -> dict[str, Any]:
        """What besides the extracted program can change this sample's result: the pool
        deduplicates and caches on the program plus this. Default: the `context_keys` present
        (every key when None); a verifier that reads something from the answer itself beyond the
        program (a fence tag deciding the language) adds it here."""
        keys = self.context_keys
        return dict(context) if keys is None else {k: context[k] for k in keys if k in context}

    def verify_batch(
        self,
        codes: list[str],
        prompts: list[str] | None = None,
        task_ids: list[Any] | None = None,
        contexts: list[dict[str, Any]] | None = None,
    ) -> list[VerifyResult]:
        """Verify many outputs in parallel; results come back in input order."""
        # Imported here: the thread pool and progress bar load only once a batch runs.
        from halo_forge.verifiers.batch import run_batch

        return run_batch(self, codes, prompts=prompts, task_ids=task_ids, contexts=contexts)

    def cache_fingerprint(self) -> dict[str, Any] | None:
        """Everything besides the code and context that decides a result, or None: never cache.

        Built-in verifiers return their name, options and tool version, so a changed option or
        an upgraded compiler never serves a stale result. A subclass that returns None (the
        default) is still deduplicated within a batch but never cached across batches, since
        the pool cannot know what its results depend on.
        """
        return None

    def missing_context(self, context: dict[str, Any]) -> str | None:
        """Why a sample with this `context` cannot be scored for real, or None when it can.

        Checked on every prompt before a run starts: a test verifier handed prompts without
        their tests scores every sample 0 and the run still "succeeds" hours later. The reason
        names what the context lacks and how to give it (a sentence fragment, no record name).
        The default asks nothing of the context: compile verifiers score the program alone.
        """
        return None

    def prepare(self, programs: list[str]) -> None:  # noqa: B027 - an optional hook
        """Warm shared resources (e.g. precompiled headers) for the extracted programs of a batch.

        The pool calls this once per batch, before any `verify`, with the programs that were
        not served from the cache. The default does nothing.
        """

    def cleanup(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Release resources (temporary directories, connections, worker processes)."""

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()
