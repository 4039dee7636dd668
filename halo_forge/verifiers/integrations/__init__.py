"""Verifiers inside other trainers: adapters that speak another library's reward interface.

`trl_reward.VerifierReward` turns any verifier into a TRL reward function. Nothing here imports
the other library (or torch): the adapters only follow its calling convention, so this package
keeps the verifiers package's rule and loads as fast as a verifier does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.verifiers.integrations.trl_reward import VerifierReward, completion_text

_EXPORTS = {"VerifierReward": "trl_reward", "completion_text": "trl_reward"}

__all__ = ["VerifierReward", "completion_text"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
