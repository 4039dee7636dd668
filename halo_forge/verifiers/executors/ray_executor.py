"""The Ray executor: a batch's samples run as Ray tasks, a chunk of samples per task.

Ray is imported only when a batch runs with `executor: ray`. The driver (the process that calls
`run_batch`) has already deduplicated the batch and served the cached results, so only unique,
uncached samples travel. Each task rebuilds the verifier from its `VerifierRecipe` on the worker
(once per worker process, then reused), and runs its chunk through the same `verify_samples` as
the local pool: the same sandbox, limits and crash handling, on the worker's machine. So every
node needs the toolchains the verifier calls (gcc, python, ...) and halo-forge itself.

A task lost with its worker process or its node is run again by Ray (`max_retries`), on any node
with free CPUs; verification is idempotent, so a retry costs time, never a wrong result. Results
come back in input order, one `ray.get` per chunk.
"""

from __future__ import annotations

import atexit
import functools
import logging
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from halo_forge.errors import VerifierError
from halo_forge.verifiers.executors.local import verify_samples

if TYPE_CHECKING:
    from halo_forge.verifiers.base import Verifier
    from halo_forge.verifiers.executors.base import ExecutorOptions, Sample, VerifierRecipe
    from halo_forge.verifiers.result import VerifyResult

INSTALL_HINT = "pip install 'halo-forge[ray]'"

#: Verifiers this worker process has built, by recipe: a worker runs many chunks of one batch.
_built: list[tuple[VerifierRecipe, Verifier]] = []


def import_ray() -> ModuleType:
    """The `ray` module, or a VerifierError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise VerifierError(
            f"executor 'ray' needs Ray on this machine and on every node: {INSTALL_HINT}"
        ) from error
    return ray


def _worker_verifier(recipe: VerifierRecipe) -> Verifier:
    """The verifier of `recipe` in this worker process, built on first use."""
    for built_recipe, verifier in _built:
        if built_recipe == recipe:
            return verifier
    verifier = recipe.build()
    atexit.register(verifier.cleanup)
    _built.append((recipe, verifier))
    return verifier


def verify_chunk(
    recipe: VerifierRecipe, samples: Sequence[Sample], threads: int
) -> list[VerifyResult]:
    """The body of a Ray task: verify one chunk on this worker, `threads` samples at a time."""
    verifier = _worker_verifier(recipe)
    verifier.prepare([sample.program for sample in samples])
    return verify_samples(verifier, samples, threads, advance=lambda done: None)


@functools.cache
def _chunk_task() -> Any:
    """`verify_chunk` as a Ray remote function, declared once per driver process."""
    return import_ray().remote(verify_chunk)


class RayExecutor:
    """Verify a batch as Ray tasks of `options.chunk_size` samples (see the module docstring)."""

    def __init__(self, options: ExecutorOptions, recipe: VerifierRecipe) -> None:
        self.options = options
        self.recipe = recipe

    def connect(self) -> ModuleType:
        """Ray, connected to `options.address` unless this process already called `ray.init`."""
        ray = import_ray()
        if not ray.is_initialized():
            ray.init(
                address=self.options.address,
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
        return ray

    def run(
        self, verifier: Verifier, samples: Sequence[Sample], advance: Callable[[int], None]
    ) -> list[VerifyResult]:
        """Verify `samples` on the cluster; see `BatchExecutor`. `verifier` stays here: the
        workers build their own from the recipe."""
        ray = self.connect()
        task = _chunk_task().options(
            num_cpus=self.options.num_cpus_per_task, max_retries=self.options.max_retries
        )
        size = self.options.chunk_size
        chunks = [samples[start : start + size] for start in range(0, len(samples), size)]
        refs = [task.remote(self.recipe, chunk, self.options.num_cpus_per_task) for chunk in chunks]
        results: list[VerifyResult] = []
        try:
            for ref, chunk in zip(refs, chunks, strict=True):
                results.extend(self._result(ray, ref))
                advance(len(chunk))
        except BaseException:  # a failed chunk or Ctrl-C: the rest of the batch is not wanted
            for ref in refs:
                ray.cancel(ref)
            raise
        return results

    def _result(self, ray: ModuleType, ref: Any) -> list[VerifyResult]:
        """One chunk's results; a task's failure as a VerifierError that says what to fix."""
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as error:
            cause = error.cause
            if isinstance(cause, ray.exceptions.RaySystemError):  # the task's arguments did
                cause = cause.client_exc  # not unpickle there: the original error is inside
            if isinstance(cause, VerifierError):
                raise cause from None
            raise VerifierError(self._worker_failure(cause)) from error
        except ray.exceptions.RayError as error:  # a node or worker lost more often than retried
            raise VerifierError(
                f"a Ray task failed after {self.options.max_retries} retries: {error}; raise "
                "verifier.executor.max_retries, or check the cluster's nodes with `ray status`"
            ) from error

    def _worker_failure(self, cause: BaseException | None) -> str:
        factory = self.recipe.factory
        where = f"{factory.__module__}.{factory.__qualname__}"
        message = (
            f"a Ray worker could not verify with {self.recipe.name!r} ({where}): "
            f"{type(cause).__name__}: {cause}"
        )
        if isinstance(cause, ImportError):
            message += (
                f"; every node must be able to import {factory.__module__!r}: install it on "
                "each node, or ship it with ray.init(runtime_env={'py_modules': [...]}) "
                "before the first batch"
            )
        return message
