"""Compile verifier defaults follow the data: run what can be checked, compile what it is written in.

A record with tests is scored by its tests, so the pass rate never equals the compile rate;
a C answer compiles as C. Real gcc/g++ and MinGW, through the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.build.toolchain import Toolchain
from halo_forge.verifiers.cpp.compile import GCCVerifier, MinGWVerifier
from halo_forge.verifiers.cpp.toolsets import GCC

#: Valid C, invalid C++: C++ does not convert `void *` to `int *` without a cast.
PRINTS_41 = (
    "#include <stdio.h>\n#include <stdlib.h>\n\n"
    "int main(void) {\n    int *p = malloc(4);\n    *p = 41;\n"
    '    printf("%d\\n", *p);\n    free(p);\n    return 0;\n}\n'
)
PRINTS_42 = PRINTS_41.replace("*p = 41", "*p = 42")
WANTS_42 = [{"stdin": "", "expected_output": "42\n"}]


def fenced_c(code: str) -> str:
    return f"Here is the program:\n```c\n{code}```\n"


@pytest.fixture(scope="module")
def gcc() -> GCCVerifier:
    return GCCVerifier(use_cache=False)


def test_default_gcc_runs_the_records_test_cases_and_fails_a_wrong_program(
    gcc: GCCVerifier,
) -> None:
    result = gcc.verify(fenced_c(PRINTS_41), test_cases=WANTS_42)
    assert (result.success, result.reward) == (False, RewardLevel.WRONG_OUTPUT)
    assert result.metadata["stage"] == "run"
    assert (result.metadata["test_cases_passed"], result.metadata["test_cases_total"]) == (0, 1)
    assert result.metadata["language"] == "c" and result.metadata["compiler"] == "gcc"
    assert "compile_only" not in result.metadata


def test_default_gcc_passes_a_program_whose_runs_match_the_test_cases(gcc: GCCVerifier) -> None:
    result = gcc.verify(fenced_c(PRINTS_42), test_cases=WANTS_42)
    assert (result.success, result.reward) == (True, 1.0)
    assert result.metadata["stage"] == "run"


def test_a_single_expected_output_in_the_context_is_checked_too(gcc: GCCVerifier) -> None:
    result = gcc.verify(fenced_c(PRINTS_41), expected_output="42\n")
    assert (result.success, result.reward) == (False, RewardLevel.WRONG_OUTPUT)


def test_the_verifiers_own_expected_output_makes_every_sample_run() -> None:
    with GCCVerifier(expected_output="42\n", use_cache=False) as verifier:
        result = verifier.verify(fenced_c(PRINTS_41))
    assert (result.success, result.metadata["stage"]) == (False, "run")


def test_a_sample_without_checks_is_compiled_only_and_not_marked(gcc: GCCVerifier) -> None:
    result = gcc.verify(fenced_c(PRINTS_41))
    assert (result.success, result.reward) == (True, RewardLevel.COMPILE_CLEAN)
    assert result.metadata["stage"] == "compile"
    assert "compile_only" not in result.metadata


def test_explicit_compile_only_marks_the_results_whose_checks_were_skipped() -> None:
    with GCCVerifier(run_after_compile=False, use_cache=False) as verifier:
        skipped, syntax_error, unchecked = verifier.verify_batch(
            [fenced_c(PRINTS_41), fenced_c("int main(void) { return 0 }\n"), fenced_c(PRINTS_42)],
            contexts=[{"test_cases": WANTS_42}, {"test_cases": WANTS_42}, {}],
        )
    assert (skipped.success, skipped.reward) == (True, RewardLevel.COMPILE_CLEAN)
    assert skipped.metadata["stage"] == "compile" and skipped.metadata["compile_only"] is True
    assert not syntax_error.success and syntax_error.metadata["compile_only"] is True
    assert "compile_only" not in unchecked.metadata


def test_a_record_language_c_compiles_an_untagged_answer_as_c(gcc: GCCVerifier) -> None:
    as_c = gcc.verify(PRINTS_42, language="c", test_cases=WANTS_42)
    as_cpp = gcc.verify(PRINTS_42, test_cases=WANTS_42)
    assert (as_c.success, as_c.metadata["language"], as_c.metadata["compiler"]) == (
        True,
        "c",
        "gcc",
    )
    assert not as_cpp.success and as_cpp.metadata["language"] == "c++"
    assert as_cpp.reward == RewardLevel.SEMANTIC_ERROR  # the missing cast, as C++


@pytest.mark.parametrize(
    ("text", "context", "language"),
    [
        ("int main() {}", {"language": "cxx"}, "c++"),
        ("int main() {}", {"language": "CC"}, "c++"),
        ("int main() {}", {"language": "C"}, "c"),
        ("```c\nint main() {}\n```", {"language": "cpp"}, "c++"),  # the record wins
        ("```bash\nmake\n```\n```h\nint main() {}\n```", {}, "c"),  # first C/C++ block
        ("```cpp\nint main() {}\n```", {"language": "python"}, "c++"),
        ("int main() {}", {}, "c++"),
    ],
)
def test_language_comes_from_the_record_then_the_first_c_family_fence(
    gcc: GCCVerifier, text: str, context: dict[str, str], language: str
) -> None:
    assert gcc.language_of(text, context) == language


def test_an_explicit_language_option_wins_over_the_sample() -> None:
    with GCCVerifier(language="c++", use_cache=False) as verifier:
        result = verifier.verify(fenced_c(PRINTS_42), language="c")
    assert result.metadata["language"] == "c++" and not result.success


def test_only_c_plus_plus_programs_use_precompiled_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))
    cpp = '#include <cstdio>\n#include <vector>\nint main() {{ std::printf("%d", {n}); }}\n'
    c = '#include <stdio.h>\n#include <stdlib.h>\nint main(void) {{ printf("%d", {n}); }}\n'
    answers = [f"```cpp\n{cpp.format(n=n)}```" for n in range(4)]
    answers += [fenced_c(c.format(n=n)) for n in range(4)]
    with GCCVerifier(use_cache=False) as verifier:
        results = verifier.verify_batch(answers)
        assert verifier.toolsets.get("c").headers == {}
    assert all(result.success for result in results)
    assert [result.metadata["precompiled_header"] for result in results] == [True] * 4 + [False] * 4
    assert [result.metadata["language"] for result in results] == ["c++"] * 4 + ["c"] * 4


def test_c_and_c_plus_plus_verdicts_of_the_same_code_are_cached_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))
    with GCCVerifier() as verifier:
        first = verifier.verify_batch(
            [PRINTS_42, PRINTS_42], contexts=[{"language": "c"}, {"language": "cpp"}]
        )
        again = verifier.verify_batch(
            [PRINTS_42, PRINTS_42], contexts=[{"language": "cpp"}, {"language": "c"}]
        )
    assert [result.success for result in first] == [True, False]
    assert [result.success for result in again] == [False, True]
    assert all(result.metadata["cached"] for result in again)


def test_the_same_code_under_a_c_and_a_cpp_fence_is_judged_apart_in_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))
    as_c, as_cpp = fenced_c(PRINTS_42), fenced_c(PRINTS_42).replace("```c\n", "```cpp\n")

    with GCCVerifier() as verifier:
        results = verifier.verify_batch([as_c, as_cpp, as_c])

    assert [result.success for result in results] == [True, False, True]
    assert [result.metadata["language"] for result in results] == ["c", "c++", "c"]


class _GCCWithoutCCompiler(GCCVerifier):
    """GCC whose C compiler is not installed (a machine with only g++)."""

    toolchain: ClassVar[Toolchain] = Toolchain(
        name="gcc",
        executables={"c++": GCC.executables["c++"], "c": "gcc-that-is-not-installed"},
        package="gcc",
        elf_target=True,
    )


def test_a_languages_compiler_is_needed_only_when_a_sample_in_it_comes() -> None:
    with _GCCWithoutCCompiler(use_cache=False) as verifier:
        assert verifier.verify("```cpp\nint main() {}\n```").success
        fingerprint = verifier.cache_fingerprint()
        assert fingerprint is not None and fingerprint["compilers"]["c"] is None
        with pytest.raises(VerifierError, match=r"apt-get install gcc"):
            verifier.verify(fenced_c(PRINTS_42))


def test_mingw_compiles_only_and_marks_samples_with_tests() -> None:
    with MinGWVerifier(use_cache=False) as verifier:
        checked, unchecked = verifier.verify_batch(
            [fenced_c(PRINTS_41), fenced_c(PRINTS_41)], contexts=[{"test_cases": WANTS_42}, {}]
        )
    assert (checked.success, checked.reward) == (True, RewardLevel.COMPILE_CLEAN)
    assert checked.metadata["compile_only"] is True and checked.metadata["language"] == "c"
    assert "compile_only" not in unchecked.metadata
