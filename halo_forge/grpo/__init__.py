"""GRPO beside RAFT: online RL through TRL's `GRPOTrainer`, rewarded by a halo-forge verifier.

    from halo_forge.grpo import GRPORunner
    GRPORunner(config=GRPOConfig(...)).run("data/prompts.jsonl")

`prompts` turns RLVR prompt records into TRL's dataset (the prompt text RAFT samples from, the
verification context as a column); `callbacks` keeps `training_log.json` and the progress bar;
`trainer` maps the `GRPOConfig` onto TRL's, resumes from the last checkpoint and saves the
final adapter. `GRPORunner` is imported on first use, so the package loads without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.grpo.trainer import GRPOResult, GRPORunner

_EXPORTS = {"GRPOResult": "trainer", "GRPORunner": "trainer"}

__all__ = ["GRPOResult", "GRPORunner"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
