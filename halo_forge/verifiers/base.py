"""The reward contract: every verifier turns a program into a `VerifyResult` on one graduated scale.

Rewards are graduated, never just 0/1, so that RAFT can tell "almost compiles" from "garbage"
and rank samples that all fail the tests. Compile verifiers use `RewardLevel`; test verifiers
score the fraction of tests that pass with `reward_from_pass_fraction`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from halo_forge.verifiers.extract import extract_code


class RewardLevel(float, Enum):
    """The graduated scale of compile-and-run rewards (documented in docs/, tested in tests/)."""

    SYNTAX_ERROR = 0.0
    MISSING_DECLARATION = 0.1  # missing include, undeclared name
    SEMANTIC_ERROR = 0.2  # type errors and other semantic errors
    COMPILE_WARNINGS = 0.3
    COMPILE_CLEAN = 0.5
    RUNTIME_FAILURE = 0.6  # runs but crashes or times out
    WRONG_OUTPUT = 0.7  # runs to completion, wrong output
    PARTIAL_OUTPUT = 0.8  # some test cases pass
    CORRECT = 1.0

    # Names of the documented API, kept as aliases of the members above.
    FAILURE = 0.0
    RUNS_NO_CRASH = 0.7
    CORRECT_OUTPUT = 1.0

    @classmethod
    def from_compile_result(cls, success: bool, has_warnings: bool) -> RewardLevel:
        """Reward of a compile-only check without diagnostics to classify a failure by."""
        if not success:
            return cls.FAILURE
        return cls.COMPILE_WARNINGS if has_warnings else cls.COMPILE_CLEAN

    @classmethod
    def from_execution_result(cls, compiles: bool, runs: bool, correct: bool) -> RewardLevel:
        """Reward of a compile-and-run check."""
        if not compiles:
            return cls.FAILURE
        if not runs:
            return cls.RUNTIME_FAILURE
        return cls.CORRECT if correct else cls.WRONG_OUTPUT


def reward_from_pass_fraction(passed: int, total: int) -> float:
    """Test verifiers' scale: all 1.0, >=75% 0.75, >=50% 0.5, some 0.25, none 0.0."""
    if total <= 0 or passed <= 0:
        return 0.0
    if passed >= total:
        return 1.0
    fraction = passed / total
    if fraction >= 0.75:
        return 0.75
    if fraction >= 0.5:
        return 0.5
    return 0.25


#: Longest tool output (compiler diagnostics, run failures) kept in a result's `error`; the
#: start holds the first error.
ERROR_EXCERPT_CHARS = 2000


@dataclass
class VerifyResult:
    """Outcome of verifying one program; JSON-serialisable through `to_dict`/`from_dict`."""

    success: bool
    reward: float
    details: str = ""
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reward = float(self.reward)  # a RewardLevel member serialises as a plain number

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifyResult:
        return cls(
            success=bool(data["success"]),
            reward=float(data["reward"]),
            details=data.get("details", ""),
            error=data.get("error"),
            metadata=dict(data.get("metadata") or {}),
        )


class Verifier(ABC):
    """Base class of every verifier, built-in or user-written.

    Subclasses implement `verify(code, **context)`; `context` carries per-sample expectations
    (`expected_output`, `stdin`, `test_cases`, `tests`, `task_id`, `prompt`, ...). Batches run in
    parallel through `verify_batch`. Use as a context manager so `cleanup` runs.
    """

    #: Fenced-block language tags this verifier accepts when extracting code; empty = any.
    languages: tuple[str, ...] = ()
    #: Context keys that can change a result. The pool deduplicates and caches on the extracted
    #: code plus these keys; None means every key (including `prompt` and `task_id`) counts.
    context_keys: tuple[str, ...] | None = None

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
        from halo_forge.verifiers.pool import run_batch

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
