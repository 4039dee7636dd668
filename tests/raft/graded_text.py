"""A verifier for RAFT runs of the untrained tiny model, whose noise gcc scores 0.0 (never kept)."""

from __future__ import annotations

from halo_forge.verifiers.base import Verifier, VerifyResult


class AnyTextVerifier(Verifier):
    """0.3 for an answer with text in it, 0.0 for an empty one: a tier below the usual threshold,
    kept through `raft.min_samples`, so every cycle trains."""

    def verify(self, code: str, **context: object) -> VerifyResult:
        reward = 0.3 if code.strip() else 0.0
        return VerifyResult(success=False, reward=reward, details=f"{len(code)} characters")
