"""The local executor: verify samples on a thread pool in this process.

Threads, not processes: every verification spends its time waiting on a child process (a
compiler, the program, a test runner) that the sandbox starts, so threads keep all cores busy
without pickling verifiers or results. A Ray worker runs its chunk through `verify_samples` too,
so a sample is verified the same way on a cluster as here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, cast

from halo_forge.errors import VerifierError
from halo_forge.verifiers.result import VerifyResult

if TYPE_CHECKING:
    from halo_forge.verifiers.base import Verifier
    from halo_forge.verifiers.executors.base import Sample

logger = logging.getLogger(__name__)


def crash_result(error: BaseException) -> VerifyResult:
    """The result of a sample whose verification raised: reward 0, the exception as error."""
    return VerifyResult(
        success=False,
        reward=0.0,
        details="verification raised an exception",
        error=f"{type(error).__name__}: {error}",
        metadata={"crashed": True},
    )


def verify_samples(
    verifier: Verifier,
    samples: Sequence[Sample],
    workers: int,
    advance: Callable[[int], None],
) -> list[VerifyResult]:
    """`verifier.verify` on every sample, `workers` at a time; results in input order."""
    if not samples:
        return []
    results: list[VerifyResult | None] = [None] * len(samples)
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(samples)))) as pool:
        futures: dict[Future[VerifyResult], int] = {
            pool.submit(verifier.verify, sample.text, **sample.context): index
            for index, sample in enumerate(samples)
        }
        # as_completed hands out each future once; waiting on the shrinking rest instead
        # would cost time quadratic in the batch size.
        for future in as_completed(futures):
            error = future.exception()
            if isinstance(error, VerifierError):
                for other in futures:
                    other.cancel()
                raise error
            if error is not None:
                logger.warning("verification raised %s: %s", type(error).__name__, error)
            results[futures[future]] = crash_result(error) if error else future.result()
            advance(1)
    return cast("list[VerifyResult]", results)


class LocalExecutor:
    """The default executor: `verifier.prepare`, then `verifier.max_workers` threads."""

    def run(
        self, verifier: Verifier, samples: Sequence[Sample], advance: Callable[[int], None]
    ) -> list[VerifyResult]:
        """Verify `samples` here; see `BatchExecutor`."""
        verifier.prepare([sample.program for sample in samples])
        return verify_samples(verifier, samples, verifier.max_workers, advance)
