"""Where a batch's samples are verified: this process's thread pool, or a Ray cluster.

See `base.py` for the interface and the `executor` option, `local.py` and `ray_executor.py`
for the two executors. `build_executor` picks one for a verifier built by the registry.
"""

from __future__ import annotations

from halo_forge.verifiers.executors.base import BatchExecutor, ExecutorOptions, VerifierRecipe
from halo_forge.verifiers.executors.local import LocalExecutor
from halo_forge.verifiers.executors.ray_executor import RayExecutor


def build_executor(options: ExecutorOptions, recipe: VerifierRecipe) -> BatchExecutor:
    """The executor `options` ask for; a Ray one rebuilds the verifier from `recipe` on workers."""
    if options.type == "ray":
        return RayExecutor(options, recipe)
    return LocalExecutor()
