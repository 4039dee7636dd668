"""The reward contract: the graduated scale, JSON-serialisable results, the Verifier protocol."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from halo_forge.verifiers.base import (
    RewardLevel,
    Verifier,
    VerifyResult,
    reward_from_pass_fraction,
)


class LengthVerifier(Verifier):
    """A user-written verifier: success when the program has at least `minimum` characters."""

    languages = ("python",)

    def __init__(self, minimum: int) -> None:
        super().__init__(max_workers=2)
        self.minimum = minimum
        self.cleaned_up = False

    def verify(self, code: str, **context: Any) -> VerifyResult:
        program = self.extract_code(code)
        ok = len(program.strip()) >= self.minimum
        return VerifyResult(
            success=ok, reward=1.0 if ok else 0.0, metadata={"length": len(program)}
        )

    def cleanup(self) -> None:
        self.cleaned_up = True


def test_reward_scale_is_ordered_as_documented() -> None:
    ladder = [
        RewardLevel.SYNTAX_ERROR,
        RewardLevel.MISSING_DECLARATION,
        RewardLevel.SEMANTIC_ERROR,
        RewardLevel.COMPILE_WARNINGS,
        RewardLevel.COMPILE_CLEAN,
        RewardLevel.RUNTIME_FAILURE,
        RewardLevel.WRONG_OUTPUT,
        RewardLevel.PARTIAL_OUTPUT,
        RewardLevel.CORRECT,
    ]
    assert [float(level) for level in ladder] == [0.0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0]


def test_from_compile_result_separates_warnings_from_clean() -> None:
    assert RewardLevel.from_compile_result(False, has_warnings=False) == 0.0
    assert RewardLevel.from_compile_result(True, has_warnings=True) == 0.3
    assert RewardLevel.from_compile_result(True, has_warnings=False) == 0.5


def test_from_execution_result_follows_the_scale() -> None:
    assert RewardLevel.from_execution_result(compiles=False, runs=False, correct=False) == 0.0
    assert RewardLevel.from_execution_result(compiles=True, runs=False, correct=False) == 0.6
    assert RewardLevel.from_execution_result(compiles=True, runs=True, correct=False) == 0.7
    assert RewardLevel.from_execution_result(compiles=True, runs=True, correct=True) == 1.0


def test_pass_fraction_scale() -> None:
    assert [reward_from_pass_fraction(p, 4) for p in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert reward_from_pass_fraction(0, 0) == 0.0


def test_verify_result_round_trips_through_json() -> None:
    result = VerifyResult(
        success=False,
        reward=RewardLevel.COMPILE_WARNINGS,
        details="compiled with 1 warning(s)",
        error=None,
        metadata={"stage": "compile", "warnings": 1, "cached": False},
    )
    text = json.dumps(result.to_dict())
    assert json.loads(text)["reward"] == 0.3
    assert VerifyResult.from_dict(json.loads(text)) == result


def test_verify_batch_returns_results_in_input_order() -> None:
    verifier = LengthVerifier(minimum=5)
    codes = ["```python\nprint('long enough')\n```", "x", "```python\nabc\n```", "y = 12345"]
    results = verifier.verify_batch(codes)
    assert [result.success for result in results] == [True, False, False, True]
    assert [result.metadata["length"] for result in results] == [21, 2, 4, 10]


def test_max_workers_defaults_to_cpu_count() -> None:
    class Plain(Verifier):
        def verify(self, code: str, **context: Any) -> VerifyResult:
            return VerifyResult(True, 1.0)

    assert Plain().max_workers == (os.cpu_count() or 1)
    assert Plain(max_workers=3).max_workers == 3


def test_context_manager_runs_cleanup() -> None:
    with LengthVerifier(minimum=1) as verifier:
        assert not verifier.cleaned_up
    assert verifier.cleaned_up


def test_verifier_must_implement_verify() -> None:
    class Incomplete(Verifier):
        pass

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_verifiers_package_never_imports_torch() -> None:
    script = (
        "import sys\n"
        "import halo_forge.verifiers as v\n"
        "from halo_forge.verifiers import GCCVerifier, ClangVerifier, MinGWVerifier\n"
        "from halo_forge.verifiers import ChainedVerifier, SubprocessVerifier, run_batch\n"
        "from halo_forge.verifiers import available_verifiers\n"
        "import halo_forge.verifiers.registry as r\n"
        "r.available_verifiers()\n"
        "import halo_forge.rlvr, halo_forge.rlvr.verifiers, halo_forge.rlvr.verifiers.base\n"
        "print('torch' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert completed.stdout.strip() == "False"


def test_documented_import_paths_work() -> None:
    from halo_forge.rlvr.verifiers import (
        ChainedVerifier,
        ClangVerifier,
        GCCVerifier,
        MinGWVerifier,
        SubprocessVerifier,
    )
    from halo_forge.rlvr.verifiers import RewardLevel as LegacyRewardLevel
    from halo_forge.rlvr.verifiers.base import Verifier as LegacyVerifier
    from halo_forge.rlvr.verifiers.base import VerifyResult as LegacyVerifyResult
    from halo_forge.verifiers import custom
    from halo_forge.verifiers.cpp import compile as compile_module

    assert LegacyVerifier is Verifier and LegacyVerifyResult is VerifyResult
    assert LegacyRewardLevel is RewardLevel
    assert GCCVerifier is compile_module.GCCVerifier
    assert ClangVerifier is compile_module.ClangVerifier
    assert MinGWVerifier is compile_module.MinGWVerifier
    assert ChainedVerifier is custom.ChainedVerifier
    assert SubprocessVerifier is custom.SubprocessVerifier
    for cls in (GCCVerifier, ClangVerifier, MinGWVerifier, ChainedVerifier, SubprocessVerifier):
        assert issubclass(cls, Verifier)


def test_documented_test_verifier_imports_work() -> None:
    from halo_forge.rlvr.verifiers import (
        HumanEvalVerifier,
        MBPPVerifier,
        PytestVerifier,
        UnittestVerifier,
    )
    from halo_forge.verifiers.python import verifiers as python_tests

    assert PytestVerifier is python_tests.PytestVerifier
    assert UnittestVerifier is python_tests.UnittestVerifier
    assert HumanEvalVerifier is python_tests.HumanEvalVerifier
    assert MBPPVerifier is python_tests.MBPPVerifier


def test_every_public_verifier_name_resolves_under_both_import_paths() -> None:
    import halo_forge.rlvr.verifiers as legacy
    import halo_forge.verifiers as verifiers

    assert legacy.__all__ == verifiers.__all__
    for name in verifiers.__all__:
        assert getattr(legacy, name) is getattr(verifiers, name), name
    with pytest.raises(AttributeError, match="no attribute 'NoSuchVerifier'"):
        legacy.NoSuchVerifier  # noqa: B018
