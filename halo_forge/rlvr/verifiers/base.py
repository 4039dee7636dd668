"""`Verifier` and `VerifyResult` under their original import path (see `halo_forge.verifiers.base`)."""

from halo_forge.verifiers.base import RewardLevel, Verifier, VerifyResult

__all__ = ["RewardLevel", "Verifier", "VerifyResult"]
