"""What a batch executor is: it verifies a batch's unique, uncached samples and returns their results.

`run_batch` deduplicates a batch and serves what the result cache holds before it hands the
rest to an executor, so every executor sees only work that must run. Two implement the
`BatchExecutor` interface: `LocalExecutor` (this process's thread pool, the default) and
`RayExecutor` (chunks of samples as Ray tasks on a cluster). A Ray worker cannot receive the
driver's verifier (it holds temporary directories, worker processes and locks), so it rebuilds
one from a `VerifierRecipe`: the registered factory and the validated options it was built with.
`ExecutorOptions` is the `executor` option every verifier takes, declared once, here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from halo_forge.verifiers.base import Verifier
    from halo_forge.verifiers.result import VerifyResult


@dataclass(frozen=True)
class Sample:
    """One sample to verify: the model output, its extracted program and its context."""

    text: str  # what `Verifier.verify` receives
    program: str  # what `Verifier.prepare` receives
    context: dict[str, Any] = field(default_factory=dict)


class BatchExecutor(Protocol):
    """Verifies samples somewhere; results in input order, like `verify` on each one.

    A sample whose `verify` raises gets a crash result (reward 0) and the batch goes on; a
    `VerifierError` (the verifier cannot run at all) stops the batch. `advance(n)` reports that
    n more samples are done, for the progress bar.
    """

    def run(
        self, verifier: Verifier, samples: Sequence[Sample], advance: Callable[[int], None]
    ) -> list[VerifyResult]: ...


@dataclass(frozen=True)
class VerifierRecipe:
    """How to build a verifier again in another process: its factory and validated options."""

    name: str
    factory: Callable[..., Verifier]
    options: dict[str, Any]

    def build(self) -> Verifier:
        """A fresh verifier with these options (it runs its batches on its own thread pool)."""
        return self.factory(**self.options)


class ExecutorOptions(BaseModel):
    """Where a verifier's batches run: `executor: ray` (or a mapping with the keys below)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["local", "ray"] = Field(
        "local", description="local: this process's thread pool; ray: tasks on a Ray cluster."
    )
    address: str | None = Field(
        None,
        description=(
            "Ray only. Cluster address (`HEAD_IP:6379`); none: `RAY_ADDRESS`, else a cluster "
            "started on this machine with `ray start`, else a new local Ray."
        ),
    )
    num_cpus_per_task: int = Field(
        1, ge=1, description="Ray only. CPUs a task reserves; its samples run on that many threads."
    )
    chunk_size: int = Field(
        16, ge=1, description="Ray only. Samples per Ray task: larger hides per-task overhead."
    )
    max_retries: int = Field(
        3, ge=0, description="Ray only. Times a task lost with its worker or node is run again."
    )
