"""RAFT: cycles of generate -> verify -> filter -> train, with the files of each cycle as state.

`RAFTTrainer` is imported on first use, so the pure strategy and filtering modules load
without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.raft.loop import RAFTResult, RAFTTrainer
    from halo_forge.raft.stats import CycleStats

_EXPORTS = {"RAFTResult": "loop", "RAFTTrainer": "loop", "CycleStats": "stats"}

__all__ = ["CycleStats", "RAFTResult", "RAFTTrainer"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
