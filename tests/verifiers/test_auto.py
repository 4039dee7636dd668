"""AutoVerifier: each sample goes to its language's real verifier, one batch per language."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from halo_forge.data.records import PromptRecord
from halo_forge.errors import VerifierError
from halo_forge.verifiers import registry
from halo_forge.verifiers.auto import AutoVerifier
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.language_names import normalise_language
from halo_forge.verifiers.registry import build_verifier, register_verifier

C_PROGRAM = '#include <stdio.h>\nint main(void) { puts("1"); return 0; }\n'
CPP_PROGRAM = "#include <iostream>\nint main() { std::cout << 1 << '\\n'; }\n"
PYTHON_PROGRAM = "print(1)\n"
RUST_PROGRAM = 'fn main() { println!("1"); }\n'
GO_PROGRAM = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }\n'
CSHARP_PROGRAM = 'class P { static void Main() { System.Console.WriteLine("1"); } }\n'
RUNNING = {
    "c": {"type": "gcc", "language": "c", "run_after_compile": True},
    "cpp": {"type": "gcc", "run_after_compile": True},
    "rust": {"type": "rust", "run_after_compile": True},
    "go": {"type": "go", "run_after_compile": True},
    "csharp": {"type": "csharp", "run_after_compile": True},
}


def fenced(tag: str, code: str) -> str:
    return f"```{tag}\n{code}```"


class _CallLog(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BatchLogVerifier(Verifier):
    """Accepts everything and records each verify_batch call (to count them)."""

    calls: ClassVar[list[list[dict[str, Any]]]] = []

    def verify(self, code: str, **context: Any) -> VerifyResult:
        return VerifyResult(True, 1.0, details=self.extract_code(code).strip())

    def verify_batch(self, codes, prompts=None, task_ids=None, contexts=None):  # type: ignore[no-untyped-def]
        BatchLogVerifier.calls.append(list(contexts or []))
        return [self.verify(code) for code in codes]


def test_a_mixed_batch_goes_to_each_languages_real_verifier() -> None:
    samples = [
        (fenced("c", C_PROGRAM), {"language": "c"}),
        (fenced("cpp", CPP_PROGRAM), {}),  # language from the fence tag
        (fenced("python", PYTHON_PROGRAM), {"language": "py"}),
        (fenced("rust", RUST_PROGRAM), {}),
        (GO_PROGRAM, {"language": "golang"}),
        (fenced("cs", CSHARP_PROGRAM), {}),
        (fenced("rust", 'fn main() { println!("2"); }\n'), {"language": "Rust"}),
    ]
    with AutoVerifier(verifiers=RUNNING) as verifier:
        results = verifier.verify_batch(
            [code for code, _ in samples],
            contexts=[{**context, "expected_output": "1\n"} for _, context in samples],
        )
    languages = [result.metadata["language"] for result in results]
    assert languages == ["c", "cpp", "python", "rust", "go", "csharp", "rust"]
    assert [result.success for result in results] == [True] * 6 + [False]
    assert results[-1].reward == 0.7  # wrong output, scored by the Rust verifier
    assert results[3].metadata["compiler"] == "rustc"


@pytest.fixture
def batch_log_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """`BatchLogVerifier` in a copy of the registry, so no other test sees it."""
    registry.available_verifiers()  # the built-ins are in the copy too
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register_verifier("batch-log-for-auto-tests", options=_CallLog)(BatchLogVerifier)


@pytest.mark.usefixtures("batch_log_registered")
def test_verify_batch_calls_each_languages_verifier_once() -> None:
    BatchLogVerifier.calls.clear()
    config = {
        "rust": {"type": "batch-log-for-auto-tests"},
        "go": {"type": "batch-log-for-auto-tests"},
    }
    verifier = AutoVerifier(verifiers=config)
    codes = [fenced("rust", "a\n"), fenced("go", "b\n"), fenced("rs", "c\n"), fenced("go", "d\n")]
    results = verifier.verify_batch(codes, task_ids=[1, 2, 3, 4])
    assert [result.details for result in results] == ["a", "b", "c", "d"]
    assert [[context["task_id"] for context in call] for call in BatchLogVerifier.calls] == [
        [1, 3],
        [2, 4],
    ]
    # each verifier learns the language that chose it (canonical name, `rs` -> rust)
    assert [[context["language"] for context in call] for call in BatchLogVerifier.calls] == [
        ["rust", "rust"],
        ["go", "go"],
    ]


def test_unknown_language_scores_zero_and_says_why() -> None:
    verifier = AutoVerifier()
    java, untagged = verifier.verify_batch(
        [fenced("java", "class A {}\n"), "just prose"], contexts=[{}, {}]
    )
    # a fence tag counts only when it names a configured language
    assert java.metadata["language"] == untagged.metadata["language"] == "unknown"
    assert (java.success, java.reward) == (False, 0.0)
    assert "no language given" in java.details and "configured languages" in java.details
    declared = verifier.verify("class A {}", language="java")
    assert (declared.reward, declared.metadata["language"]) == (0.0, "java")
    assert "no verifier configured for language 'java'" in declared.details


def test_unknown_language_can_stop_the_batch() -> None:
    verifier = AutoVerifier(on_unknown_language="raise")
    with pytest.raises(VerifierError, match="language 'java'"):
        verifier.verify_batch(["x"], contexts=[{"language": "java"}])


def test_default_language_applies_only_without_a_language_or_tag() -> None:
    verifier = AutoVerifier(default_language="C++")
    assert verifier.language_of("int main() {}", {}) == "cpp"
    assert verifier.language_of(fenced("go", "x"), {}) == "go"
    assert verifier.language_of("x", {"language": "rust"}) == "rust"


def test_language_names_are_normalised() -> None:
    spellings = {"C++": "cpp", "cxx": "cpp", "py": "python", "C#": "csharp", "cs": "csharp"}
    spellings |= {"golang": "go", "rs": "rust", "h": "c", "Java": "java"}
    assert {name: normalise_language(name) for name in spellings} == spellings


def test_a_prompt_records_language_reaches_the_auto_verifier() -> None:
    record = PromptRecord(prompt="Print 1.", language="rust", expected_output="1\n")
    context = record.verification_context()
    assert context["language"] == "rust"
    verifier = AutoVerifier(verifiers={"rust": {"type": "rust", "run_after_compile": True}})
    result = verifier.verify(RUST_PROGRAM, **context)  # untagged code: the record decides
    assert (result.success, result.metadata["language"]) == (True, "rust")


def test_default_auto_runs_the_test_cases_of_a_record_that_carries_them() -> None:
    cases = [{"stdin": "", "expected_output": "2\n"}]
    record = PromptRecord(prompt="Print 2.", language="c", test_cases=cases)
    with AutoVerifier() as verifier:
        wrong, right = verifier.verify_batch(
            [C_PROGRAM, C_PROGRAM.replace('"1"', '"2"')],
            contexts=[record.verification_context()] * 2,
        )
    assert (wrong.success, wrong.reward, wrong.metadata["stage"]) == (False, 0.7, "run")
    assert (right.success, right.reward) == (True, 1.0)
    assert right.metadata["language"] == "c"


def test_a_c_record_compiles_as_c_under_a_config_without_a_language() -> None:
    c_only = "#include <stdlib.h>\nint main(void) { int *p = malloc(4); free(p); return 0; }\n"
    with AutoVerifier(verifiers={"c": {"type": "gcc"}}) as verifier:
        result = verifier.verify(c_only, language="c")  # untagged: only the record says C
    assert (result.success, result.metadata["compiler"]) == (True, "gcc")


def test_configs_are_checked_early_but_built_on_first_use() -> None:
    with pytest.raises(VerifierError, match="available verifiers"):
        AutoVerifier(verifiers={"rust": {"type": "no-such-verifier"}})
    with pytest.raises(VerifierError, match="unknown option 'colour'"):
        AutoVerifier(verifiers={"rust": {"type": "rust", "colour": True}})
    verifier = AutoVerifier(verifiers={"rust": {"type": "rust", "compiler": "no-such-rustc"}})
    assert verifier.verify(fenced("c", C_PROGRAM)).success  # rustc is needed only for Rust
    with pytest.raises(VerifierError, match="apt-get install rustc"):
        verifier.verify(fenced("rust", RUST_PROGRAM))


def test_registered_as_auto() -> None:
    assert isinstance(build_verifier("auto", default_language="c"), AutoVerifier)
