"""The reward contract: verifiers score generated code; this package never imports torch.

    from halo_forge.verifiers import GCCVerifier
    with GCCVerifier(run_after_compile=True, expected_output="42\\n") as verifier:
        results = verifier.verify_batch(completions)  # parallel, cached, sandboxed

Names are imported on first use, so `import halo_forge.verifiers` stays cheap and a worker
that needs only `base` loads only `base`.

Layout, one concern per subpackage and no import cycles (`tests/verifiers/test_layout.py`):
the contract (`base`, `result`), `extract`, `registry`, `batch` (parallel runs, dedupe, the
`cache`), `records` (the resumable `verify_records`), `requirements`, `language_names`, `auto`
and `custom` at the top; `sandbox/` (where untrusted programs run), `build/` (what compiled
languages share), `cpp/` (GCC, Clang, MinGW), `languages/` (Rust, Go, C#), `python/` (test
verifiers and their harness) and `remote/` (MSVC over SSH).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.verifiers.auto import AutoVerifier
    from halo_forge.verifiers.base import Verifier
    from halo_forge.verifiers.batch import run_batch
    from halo_forge.verifiers.cache import ResultCache
    from halo_forge.verifiers.cpp.compile import ClangVerifier, GCCVerifier, MinGWVerifier
    from halo_forge.verifiers.custom import ChainedVerifier, SubprocessVerifier
    from halo_forge.verifiers.extract import extract_code
    from halo_forge.verifiers.languages.csharp import CSharpVerifier
    from halo_forge.verifiers.languages.go import GoVerifier
    from halo_forge.verifiers.languages.rust import RustVerifier
    from halo_forge.verifiers.python.verifiers import (
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
    from halo_forge.verifiers.remote.msvc import RemoteMSVCVerifier
    from halo_forge.verifiers.result import (
        RewardLevel,
        Stage,
        VerifyResult,
        compile_rate,
        compiled_of,
        reward_from_pass_fraction,
    )

_EXPORTS = {
    "RewardLevel": "result",
    "Stage": "result",
    "Verifier": "base",
    "VerifyResult": "result",
    "compile_rate": "result",
    "compiled_of": "result",
    "reward_from_pass_fraction": "result",
    "ResultCache": "cache",
    "GCCVerifier": "cpp.compile",
    "ClangVerifier": "cpp.compile",
    "MinGWVerifier": "cpp.compile",
    "ChainedVerifier": "custom",
    "SubprocessVerifier": "custom",
    "extract_code": "extract",
    "run_batch": "batch",
    "HumanEvalVerifier": "python.verifiers",
    "MBPPVerifier": "python.verifiers",
    "PytestVerifier": "python.verifiers",
    "PythonVerifier": "python.verifiers",
    "UnittestVerifier": "python.verifiers",
    "RemoteMSVCVerifier": "remote.msvc",
    "RustVerifier": "languages.rust",
    "GoVerifier": "languages.go",
    "CSharpVerifier": "languages.csharp",
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
    "Stage",
    "SubprocessVerifier",
    "UnittestVerifier",
    "Verifier",
    "VerifyResult",
    "available_verifiers",
    "build_verifier",
    "build_verifier_from_config",
    "compile_rate",
    "compiled_of",
    "extract_code",
    "register_verifier",
    "reward_from_pass_fraction",
    "run_batch",
    "verifier_options_schema",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
