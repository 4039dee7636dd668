"""RLVR, the documented entry points: RAFT and the verifiers that reward it.

    from halo_forge.rlvr import RAFTTrainer
    from halo_forge.rlvr.verifiers import GCCVerifier

The code lives in `halo_forge.raft` and `halo_forge.verifiers`. `RAFTTrainer` is imported on
first use, so `import halo_forge.rlvr.verifiers` never loads torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.raft.loop import RAFTResult, RAFTTrainer

_EXPORTS = {"RAFTResult": "loop", "RAFTTrainer": "loop"}

__all__ = ["RAFTResult", "RAFTTrainer"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, under="halo_forge.raft")
