"""Verifier names -> factories with typed options, as the CLI and YAML configs use them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from halo_forge.errors import VerifierError
from halo_forge.verifiers import registry
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.cpp.compile import ClangVerifier, GCCVerifier, MinGWVerifier
from halo_forge.verifiers.custom import SubprocessVerifier


def test_builtin_names_are_registered_with_descriptions() -> None:
    verifiers = registry.available_verifiers()
    assert {"gcc", "clang", "mingw", "subprocess", "chain"} <= set(verifiers)
    for entry in verifiers.values():
        assert entry.description and issubclass(entry.options, BaseModel)


def test_build_by_name_passes_typed_options() -> None:
    verifier = registry.build_verifier("gcc", run_after_compile=True, run_timeout=2)
    assert isinstance(verifier, GCCVerifier)
    assert verifier.options.run_after_compile is True and verifier.options.run_timeout == 2.0
    assert isinstance(registry.build_verifier("clang"), ClangVerifier)
    assert isinstance(registry.build_verifier("mingw"), MinGWVerifier)
    subprocess_verifier = registry.build_verifier("subprocess", command=["true"])
    assert isinstance(subprocess_verifier, SubprocessVerifier)


def test_build_from_config_mapping() -> None:
    verifier = registry.build_verifier_from_config({"type": "gcc", "link": False, "timeout": 5})
    assert isinstance(verifier, GCCVerifier)
    assert verifier.options.link is False and verifier.options.timeout == 5.0


def test_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(VerifierError, match=r"unknown verifier 'gcc13'.*clang.*gcc.*mingw"):
        registry.build_verifier("gcc13")


def test_config_without_type_says_what_is_missing() -> None:
    with pytest.raises(VerifierError, match="needs a 'type'"):
        registry.build_verifier_from_config({"run_after_compile": True})


def test_misspelt_option_names_the_key_and_allowed_keys() -> None:
    with pytest.raises(VerifierError) as caught:
        registry.build_verifier("gcc", run_afer_compile=True)
    message = str(caught.value)
    assert "unknown option 'run_afer_compile'" in message
    assert "run_after_compile" in message and "binary_cache_dir" in message


def test_bad_value_names_the_allowed_values() -> None:
    with pytest.raises(VerifierError, match=r"language.*'rust'.*'c\+\+' or 'c'"):
        registry.build_verifier("gcc", language="rust")
    with pytest.raises(VerifierError, match=r"optimization.*-O0, -O1, -O2"):
        registry.build_verifier("gcc", optimization="fast")


def test_options_schema_lists_every_option_with_a_description() -> None:
    schema = registry.verifier_options_schema("gcc")
    expected = {
        "flags", "timeout", "max_workers", "run_after_compile", "run_timeout",
        "expected_output", "stdin_input", "memory_limit_mb", "warn_as_error",
        "binary_cache_dir", "link",
    }  # fmt: skip
    assert expected <= set(schema["properties"])
    assert all("description" in spec for spec in schema["properties"].values())


def test_user_verifier_registers_and_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    class KeywordOptions(BaseModel):
        model_config = ConfigDict(extra="forbid")
        keyword: str

    @registry.register_verifier("keyword", options=KeywordOptions)
    class KeywordVerifier(Verifier):
        """Pass programs that mention a keyword."""

        def __init__(self, keyword: str) -> None:
            super().__init__()
            self.keyword = keyword

        def verify(self, code: str, **context: Any) -> VerifyResult:
            found = self.keyword in code
            return VerifyResult(found, 1.0 if found else 0.0)

    assert (
        registry.available_verifiers()["keyword"].description
        == "Pass programs that mention a keyword."
    )
    verifier = registry.build_verifier_from_config({"type": "keyword", "keyword": "constexpr"})
    assert verifier.verify("constexpr int x = 1;").success

    with pytest.raises(VerifierError, match="already registered"):
        registry.register_verifier("keyword", options=KeywordOptions)(GCCVerifier)


def test_misspelt_name_suggests_the_closest_verifier() -> None:
    with pytest.raises(
        VerifierError,
        match=r"unknown verifier 'gcx'; available verifiers: .*; did you mean 'gcc'\?$",
    ):
        registry.build_verifier("gcx")


def test_misspelt_option_suggests_the_closest_option() -> None:
    with pytest.raises(
        VerifierError,
        match=r"unknown option 'run_timout' \(allowed: .*\); did you mean 'run_timeout'\?$",
    ):
        registry.build_verifier("gcc", run_timout=2)


def test_config_problems_are_listed_without_building_the_verifier() -> None:
    assert registry.verifier_config_problems({"type": "gcc", "run_timeout": 2}) == []
    [unknown] = registry.verifier_config_problems({"type": "pytets"})
    assert "did you mean 'pytest'" in unknown
    problems = registry.verifier_config_problems({"type": "gcc", "run_timout": 2, "timeout": 0})
    assert len(problems) == 2
    assert any("did you mean 'run_timeout'" in problem for problem in problems)
    assert any("'timeout'=0" in problem for problem in problems)


def test_chain_stages_are_checked_with_the_chain() -> None:
    [problem] = registry.verifier_config_problems(
        {"type": "chain", "stages": [{"type": "gcc"}, {"type": "mbp"}]}
    )
    assert "stages[1]: unknown verifier 'mbp'; available verifiers:" in problem
    assert problem.endswith("did you mean 'mbpp'?")
