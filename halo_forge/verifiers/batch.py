"""Verify a batch in parallel: deduplicate, consult the cache, hand the rest to an executor.

The steps of `run_batch`:

1. extract the program of each sample and key it by (extracted code, the context keys the
   verifier reads), so identical samples are verified once;
2. serve the keys already in the on-disk cache (only for verifiers with a cache fingerprint);
3. hand the remaining unique samples to the verifier's `batch_executor`, with a progress bar:
   by default this process's thread pool (`Verifier.prepare`, then `max_workers` threads),
   or Ray tasks on a cluster (`executor: ray`, see `executors/`); either way only work that
   must run leaves this function;
4. store the new results in the cache and hand every sample its result, in input order.

A verification that raises gets an error result (reward 0) and the batch goes on; only
`VerifierError` (a verifier that cannot run at all, e.g. a missing compiler) stops the batch,
because scoring every sample 0 would silently train on noise.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from halo_forge import ui
from halo_forge.verifiers.cache import ResultCache, content_key
from halo_forge.verifiers.executors.base import Sample
from halo_forge.verifiers.result import VerifyResult

if TYPE_CHECKING:  # `Verifier.verify_batch` calls into this module, never the reverse
    from halo_forge.verifiers.base import Verifier


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
    """Run the pending samples on the verifier's executor; results by key, never from cache."""
    if not pending:
        return {}
    samples = [Sample(entry.text, entry.program, entry.context) for entry in pending.values()]
    with ui.progress(transient=True, shown=show_progress) as bar:
        task = bar.add_task("verifying", total=len(samples))
        fresh = verifier.batch_executor.run(verifier, samples, lambda done: bar.advance(task, done))
    for result in fresh:
        result.metadata["cached"] = False
    return dict(zip(pending, fresh, strict=True))
