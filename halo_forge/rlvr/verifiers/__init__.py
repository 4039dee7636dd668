"""Verifiers under their original import path; the code lives in `halo_forge.verifiers`."""

from halo_forge.verifiers.base import RewardLevel, Verifier, VerifyResult
from halo_forge.verifiers.compile import ClangVerifier, GCCVerifier, MinGWVerifier
from halo_forge.verifiers.custom import ChainedVerifier, SubprocessVerifier

__all__ = [
    "ChainedVerifier",
    "ClangVerifier",
    "GCCVerifier",
    "MinGWVerifier",
    "RewardLevel",
    "SubprocessVerifier",
    "Verifier",
    "VerifyResult",
]
