"""RLVR, the documented entry points: RAFT and the verifiers that reward it.

    from halo_forge.rlvr import RAFTTrainer
    from halo_forge.rlvr.verifiers import GCCVerifier

The code lives in `halo_forge.raft` and `halo_forge.verifiers`. `RAFTTrainer` is imported on
first use, so `import halo_forge.rlvr.verifiers` never loads torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from halo_forge.raft.trainer import RAFTResult, RAFTTrainer

__all__ = ["RAFTResult", "RAFTTrainer"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from halo_forge.raft import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'halo_forge.rlvr' has no attribute {name!r}")
