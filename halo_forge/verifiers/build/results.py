"""The results of the compile stage, shared by every verifier that builds code.

GCC, Clang, MinGW, remote MSVC, Rust, Go and C# differ in how they build and how they read
their compiler's diagnostics, not in what a result says: one shape per outcome keeps the
`details`, `stage`, `compiled` and `failure` of their results comparable across languages.
`metadata["stage"]` repeats the typed `stage` for readers of the metadata alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from halo_forge.verifiers.build.diagnostics import CompileFailure
from halo_forge.verifiers.result import ERROR_EXCERPT_CHARS, RewardLevel, Stage, VerifyResult


def no_code_result(
    language: str, fence_tags: Sequence[str], metadata: dict[str, Any]
) -> VerifyResult:
    """The result of an answer with no code in `language` to build (stage "extract")."""
    return VerifyResult(
        success=False,
        reward=float(RewardLevel.FAILURE),
        details=f"no {language} code found in the output",
        error=f"no code block tagged {'/'.join(fence_tags)} (or untagged) and no raw code",
        metadata={**metadata, "stage": "extract"},
        stage="extract",
        compiled=False,
    )


def compiled_result(warnings: int, metadata: dict[str, Any]) -> VerifyResult:
    """The result of a program that compiled and is not run: 0.3 with warnings, else 0.5."""
    reward = RewardLevel.from_compile_result(True, has_warnings=warnings > 0)
    return VerifyResult(
        success=True,
        reward=float(reward),
        details=f"compiled with {warnings} warning(s)" if warnings else "compiled",
        metadata={**metadata, "stage": "compile"},
        stage="compile",
        compiled=True,
    )


def failure_result(
    failure: CompileFailure, output: str, returncode: int, metadata: dict[str, Any]
) -> VerifyResult:
    """The result of a failed compile: stage "link" for link errors, else "compile"."""
    stage: Stage = "link" if failure.kind == "link" else "compile"
    return VerifyResult(
        success=False,
        reward=float(failure.reward),
        details=f"{stage} failed ({failure.kind.replace('_', ' ')}): {failure.message}",
        error=output[:ERROR_EXCERPT_CHARS] or f"compiler exited with {returncode}",
        metadata={**metadata, "stage": stage, "failure": failure.kind},
        stage=stage,
        compiled=False,
    )


def timeout_result(timeout_s: float, output: str, metadata: dict[str, Any]) -> VerifyResult:
    """The result of a compile (or build) stopped at its time limit: it never compiled."""
    return VerifyResult(
        success=False,
        reward=float(RewardLevel.FAILURE),
        details=f"compiler timed out after {timeout_s:g} s",
        error=output[:ERROR_EXCERPT_CHARS] or "compiler timed out",
        metadata={**metadata, "stage": "compile", "failure": "compiler_timeout"},
        stage="compile",
        compiled=False,
    )
