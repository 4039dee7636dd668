"""Verify a batch in parallel: deduplicate, consult the cache, run the rest on a thread pool.

Threads, not processes: every verification spends its time waiting on a child process (a
compiler, the program, a test runner) that the sandbox starts, so threads keep all cores busy
without pickling verifiers or results. The steps of `run_batch`:

1. extract the program of each sample and key it by (extracted code, the context keys the
   verifier reads), so identical samples are verified once;
2. serve the keys already in the on-disk cache (only for verifiers with a cache fingerprint);
3. let the verifier prepare shared resources for the remaining programs (`Verifier.prepare`);
4. verify the remaining unique samples on `max_workers` threads, with a progress bar;
5. store the new results in the cache and hand every sample its result, in input order.

A verification that raises gets an error result (reward 0) and the batch goes on; only
`VerifierError` (a verifier that cannot run at all, e.g. a missing compiler) stops the batch,
because scoring every sample 0 would silently train on noise.
"""

from __future__ import annotations

import copy
import logging
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from halo_forge import ui
from halo_forge.errors import VerifierError
from halo_forge.verifiers.cache import ResultCache, content_key
from halo_forge.verifiers.result import VerifyResult

if TYPE_CHECKING:  # `Verifier.verify_batch` calls into this module, never the reverse
    from halo_forge.verifiers.base import Verifier

logger = logging.getLogger(__name__)


@dataclass
class _UniqueSample:
    """One distinct (program, relevant context) of a batch and the samples that share it."""

    text: str
    program: str
    context: dict[str, Any]  # the first sample's full context, handed to `verify`
    relevant_context: dict[str, Any]  # the part that can change the result: the key
    indices: list[int]


def sample_contexts(
    count: int,
    prompts: list[str] | None = None,
    task_ids: list[Any] | None = None,
    contexts: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Per-sample context dicts: `contexts[i]` plus `prompt` and `task_id` when given."""
    for name, values in (("prompts", prompts), ("task_ids", task_ids), ("contexts", contexts)):
        if values is not None and len(values) != count:
            raise ValueError(f"{name} has {len(values)} entries for {count} codes; give one each")
    merged: list[dict[str, Any]] = []
    for index in range(count):
        context = dict(contexts[index] or {}) if contexts is not None else {}
        if prompts is not None:
            context["prompt"] = prompts[index]
        if task_ids is not None:
            context["task_id"] = task_ids[index]
        merged.append(context)
    return merged


def crash_result(error: BaseException) -> VerifyResult:
    """The result of a sample whose verification raised: reward 0, the exception as error."""
    return VerifyResult(
        success=False,
        reward=0.0,
        details="verification raised an exception",
        error=f"{type(error).__name__}: {error}",
        metadata={"crashed": True},
    )


def run_batch(
    verifier: Verifier,
    codes: list[str],
    prompts: list[str] | None = None,
    task_ids: list[Any] | None = None,
    contexts: list[dict[str, Any]] | None = None,
    *,
    cache: ResultCache | None = None,
    show_progress: bool = True,
) -> list[VerifyResult]:
    """Verify `codes` (raw model outputs) with `verifier`; results come back in input order.

    `cache` overrides the default on-disk cache (used when the verifier has a fingerprint and
    `verifier.use_cache` is true). Every result's `metadata["cached"]` says whether it came
    from the cache.
    """
    per_sample_context = sample_contexts(len(codes), prompts, task_ids, contexts)
    fingerprint = verifier.cache_fingerprint() if verifier.use_cache else None
    unique = _deduplicate(verifier, codes, per_sample_context)

    results: dict[str, VerifyResult] = {}
    keys = {
        key: content_key(fingerprint, sample.program, sample.relevant_context)
        for key, sample in unique.items()
    }
    owned_cache = None
    if fingerprint is not None and cache is None:
        cache = owned_cache = ResultCache()
    try:
        if fingerprint is not None and cache is not None:
            stored = cache.get_many(keys.values())
            for key in unique:
                if keys[key] in stored:
                    results[key] = stored[keys[key]]
                    results[key].metadata["cached"] = True

        pending = {key: sample for key, sample in unique.items() if key not in results}
        fresh = _verify_pending(verifier, pending, show_progress)
        results.update(fresh)

        if fingerprint is not None and cache is not None:
            cache.put_many(
                {
                    keys[key]: result
                    for key, result in fresh.items()
                    if not result.metadata.get("crashed")
                }
            )
    finally:
        if owned_cache is not None:
            owned_cache.close()

    ordered: list[VerifyResult | None] = [None] * len(codes)
    for key, sample in unique.items():
        for position, index in enumerate(sample.indices):
            ordered[index] = results[key] if position == 0 else copy.deepcopy(results[key])
    return cast("list[VerifyResult]", ordered)


def _deduplicate(
    verifier: Verifier, codes: list[str], contexts: list[dict[str, Any]]
) -> dict[str, _UniqueSample]:
    """Group samples by (extracted program, relevant context); the first sample represents each."""
    unique: dict[str, _UniqueSample] = {}
    for index, (text, context) in enumerate(zip(codes, contexts, strict=True)):
        try:
            program = verifier.extract_code(text)
        except Exception:  # the verify call will hit the same problem and report it per sample
            program = text
        relevant = verifier.cache_context(text, context)
        key = content_key(None, program, relevant)
        if key in unique:
            unique[key].indices.append(index)
        else:
            unique[key] = _UniqueSample(
                text=text,
                program=program,
                context=context,
                relevant_context=relevant,
                indices=[index],
            )
    return unique


def _verify_pending(
    verifier: Verifier, pending: dict[str, _UniqueSample], show_progress: bool
) -> dict[str, VerifyResult]:
    """Run `verifier.verify` on every pending sample in a thread pool."""
    if not pending:
        return {}
    verifier.prepare([sample.program for sample in pending.values()])
    results: dict[str, VerifyResult] = {}
    workers = max(1, min(verifier.max_workers, len(pending)))
    with ui.progress(transient=True) as bar, ThreadPoolExecutor(max_workers=workers) as executor:
        task = bar.add_task("verifying", total=len(pending), visible=show_progress)
        futures: dict[Future[VerifyResult], str] = {
            executor.submit(verifier.verify, sample.text, **sample.context): key
            for key, sample in pending.items()
        }
        # as_completed hands out each future once; waiting on the shrinking rest instead
        # would cost time quadratic in the batch size.
        for future in as_completed(futures):
            key = futures[future]
            error = future.exception()
            if isinstance(error, VerifierError):
                for other in futures:
                    other.cancel()
                raise error
            if error is not None:
                logger.warning("verification raised %s: %s", type(error).__name__, error)
                results[key] = crash_result(error)
            else:
                results[key] = future.result()
            results[key].metadata["cached"] = False
            bar.advance(task)
    return results
