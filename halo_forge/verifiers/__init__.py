"""The reward contract: verifiers score generated code; this package never imports torch.

    from halo_forge.verifiers import GCCVerifier
    with GCCVerifier(run_after_compile=True, expected_output="42\\n") as verifier:
        results = verifier.verify_batch(completions)  # parallel, cached, sandboxed

Names are imported on first use, so `import halo_forge.verifiers` stays cheap and a worker
that needs only `base` loads only `base`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.verifiers.auto import AutoVerifier
    from halo_forge.verifiers.base import (
        RewardLevel,
        Verifier,
        VerifyResult,
        reward_from_pass_fraction,
    )
    from halo_forge.verifiers.cache import ResultCache
    from halo_forge.verifiers.compile import ClangVerifier, GCCVerifier, MinGWVerifier
    from halo_forge.verifiers.csharp import CSharpVerifier
    from halo_forge.verifiers.custom import ChainedVerifier, SubprocessVerifier
    from halo_forge.verifiers.extract import extract_code
    from halo_forge.verifiers.go import GoVerifier
    from halo_forge.verifiers.pool import run_batch
    from halo_forge.verifiers.python_tests import (
        HumanEvalVerifier,
        MBPPVerifier,
        PytestVerifier,
        PythonVerifier,
        UnittestVerifier,
    )
    from halo_forge.verifiers.registry import (
        available_verifiers,
        build_verifier,
        build_verifier_from_config,
        register_verifier,
        verifier_options_schema,
    )
    from halo_forge.verifiers.remote import RemoteMSVCVerifier
    from halo_forge.verifiers.rust import RustVerifier

_EXPORTS = {
    "RewardLevel": "base",
    "Verifier": "base",
    "VerifyResult": "base",
    "reward_from_pass_fraction": "base",
    "ResultCache": "cache",
    "GCCVerifier": "compile",
    "ClangVerifier": "compile",
    "MinGWVerifier": "compile",
    "ChainedVerifier": "custom",
    "SubprocessVerifier": "custom",
    "extract_code": "extract",
    "run_batch": "pool",
    "HumanEvalVerifier": "python_tests",
    "MBPPVerifier": "python_tests",
    "PytestVerifier": "python_tests",
    "PythonVerifier": "python_tests",
    "UnittestVerifier": "python_tests",
    "RemoteMSVCVerifier": "remote",
    "RustVerifier": "rust",
    "GoVerifier": "go",
    "CSharpVerifier": "csharp",
    "AutoVerifier": "auto",
    "available_verifiers": "registry",
    "build_verifier": "registry",
    "build_verifier_from_config": "registry",
    "register_verifier": "registry",
    "verifier_options_schema": "registry",
}

__all__ = [
    "AutoVerifier",
    "CSharpVerifier",
    "ChainedVerifier",
    "ClangVerifier",
    "GCCVerifier",
    "GoVerifier",
    "HumanEvalVerifier",
    "MBPPVerifier",
    "MinGWVerifier",
    "PytestVerifier",
    "PythonVerifier",
    "RemoteMSVCVerifier",
    "ResultCache",
    "RewardLevel",
    "RustVerifier",
    "SubprocessVerifier",
    "UnittestVerifier",
    "Verifier",
    "VerifyResult",
    "available_verifiers",
    "build_verifier",
    "build_verifier_from_config",
    "extract_code",
    "register_verifier",
    "reward_from_pass_fraction",
    "run_batch",
    "verifier_options_schema",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
