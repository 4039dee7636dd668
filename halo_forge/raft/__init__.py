"""RAFT: cycles of generate -> verify -> filter -> train, with the files of each cycle as state.

`RAFTTrainer` is imported lazily, so the pure strategy and filtering modules load without torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RAFTResult", "RAFTTrainer"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from halo_forge.raft import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
