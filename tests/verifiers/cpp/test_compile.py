"""Compile verifiers end to end: real gcc/g++, clang++ and MinGW, run through the sandbox."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from verifiers.cpp_programs import BY_TIER, ECHO_SUM, HELLO

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.cpp.compile import ClangVerifier, GCCVerifier, MinGWVerifier


def fenced(code: str) -> str:
    return f"Here is my solution:\n```cpp\n{code}```\nIt prints the answer."


def test_compile_only_rewards_follow_the_diagnostics() -> None:
    names = sorted(BY_TIER)
    with GCCVerifier(use_cache=False) as verifier:
        results = verifier.verify_batch([fenced(BY_TIER[name][0]) for name in names])
    for name, result in zip(names, results, strict=True):
        assert result.reward == BY_TIER[name][1], (name, result)
        assert result.metadata["compiler"] == "g++"
    by_name = dict(zip(names, results, strict=True))
    assert by_name["warnings"].success and by_name["warnings"].metadata["warnings"] == 1
    assert by_name["clean"].metadata["warnings"] == 0
    assert not by_name["syntax"].success and by_name["syntax"].metadata["failure"] == "syntax"
    assert "expected" in (by_name["syntax"].error or "")


def test_program_without_main_compiles_only_when_link_is_off() -> None:
    function_only = "int add(int a, int b) { return a + b; }\n"
    with GCCVerifier(use_cache=False) as linking:
        linked = linking.verify(function_only)
    with GCCVerifier(link=False, use_cache=False) as unit_only:
        unit = unit_only.verify(function_only)
    assert not linked.success and linked.metadata["stage"] == "link"
    assert linked.reward == RewardLevel.SEMANTIC_ERROR
    assert unit.success and unit.reward == RewardLevel.COMPILE_CLEAN


def test_link_check_builds_at_the_reference_optimisation() -> None:
    # std::max takes S::size by reference; unoptimised code then needs a definition that
    # g++ -O2 never asks for, so the verdict depends on the optimisation level.
    odr_used_constant = (
        "#include <algorithm>\nstruct S { static const int size = 4; };\n"
        "int main() { return std::max(S::size, 1) - 4; }\n"
    )
    with GCCVerifier(use_cache=False) as reference_level:
        assert reference_level.verify(odr_used_constant).success
    with GCCVerifier(optimization="-O0", use_cache=False) as unoptimised:
        result = unoptimised.verify(odr_used_constant)
    assert not result.success and result.metadata["failure"] == "link"


def test_link_check_rebuilds_at_the_reference_level_only_after_a_failed_link() -> None:
    programs = [
        "#include <algorithm>\nstruct S { static const int size = 4; };\n"
        "int main() { return std::max(S::size, 1) - 4; }\n",  # links only at -O2
        "int main() { return 0; }\n",
        "int helper();\nint main() { return helper(); }\n",  # fails at both levels
    ]
    with GCCVerifier(use_cache=False) as verifier:
        odr_used, clean, undefined = verifier.verify_batch(programs)
    assert odr_used.success and odr_used.metadata["optimization"] == "-O2"
    assert clean.success and clean.metadata["optimization"] == "-O0"
    assert not undefined.success and undefined.metadata["optimization"] == "-O2"
    assert undefined.metadata["failure"] == "link"


def test_program_without_main_is_not_rebuilt_at_the_reference_level() -> None:
    with GCCVerifier(use_cache=False) as verifier:
        result = verifier.verify("int helper() { return 1; }\n")
    assert not result.success and result.metadata["failure"] == "link"
    assert result.metadata["optimization"] == "-O0"


def test_fast_link_check_off_and_runs_build_at_the_reference_level() -> None:
    with GCCVerifier(use_cache=False, fast_link_check=False) as every_build_at_o2:
        assert every_build_at_o2.verify("int main() {}\n").metadata["optimization"] == "-O2"
    with GCCVerifier(use_cache=False, run_after_compile=True) as runs:
        assert runs.verify("int main() {}\n").metadata["optimization"] == "-O2"


def test_rebuild_after_a_failed_link_uses_a_pch_of_its_own_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))
    header = "#include <algorithm>\n#include <cstdio>\n"
    programs = [
        header + f'int main() {{ std::printf("%d", std::max({n}, 1)); }}\n' for n in range(4)
    ]
    programs.append(
        header + "struct S { static const int size = 4; };\n"
        "int main() { return std::max(S::size, 1) - 4; }\n"
    )
    with GCCVerifier(use_cache=False) as verifier:
        results = verifier.verify_batch(programs)
        first, rebuild = (verifier.toolsets.get("c++").headers[level] for level in ("-O0", "-O2"))
        assert first.directory != rebuild.directory
        assert list(rebuild.directory.glob("*/prefix.h.gch"))  # built lazily for the rebuild
    assert all(result.success for result in results)
    assert all(result.metadata["precompiled_header"] for result in results)
    assert results[-1].metadata["optimization"] == "-O2"


def test_undefined_reference_fails_at_link() -> None:
    with GCCVerifier(use_cache=False) as verifier:
        result = verifier.verify("int helper();\nint main() { return helper(); }\n")
    assert not result.success and result.metadata["failure"] == "link"
    assert "undefined reference" in (result.error or "")


def test_run_rewards_correct_wrong_and_partial_output() -> None:
    cases = [
        {"stdin": "1 2\n", "expected_output": "3\n"},
        {"stdin": "5 5", "expected_output": "10"},
    ]
    off_by_one = ECHO_SUM.replace("a + b", "a + b + (a == 5)")
    with GCCVerifier(run_after_compile=True, use_cache=False) as verifier:
        correct, partial, wrong = verifier.verify_batch(
            [ECHO_SUM, off_by_one, ECHO_SUM.replace("a + b", "a - b")],
            contexts=[{"test_cases": cases}] * 3,
        )
    assert (correct.reward, correct.success) == (1.0, True)
    assert correct.metadata["stage"] == "run"
    assert (correct.metadata["test_cases_passed"], correct.metadata["test_cases_total"]) == (2, 2)
    assert partial.reward == RewardLevel.PARTIAL_OUTPUT and not partial.success
    assert partial.metadata["test_cases_passed"] == 1
    assert wrong.reward == RewardLevel.WRONG_OUTPUT
    assert "expected '3', got '-1'" in (wrong.error or "")


def test_each_sample_is_checked_against_its_own_expectation() -> None:
    with GCCVerifier(run_after_compile=True, use_cache=False) as verifier:
        results = verifier.verify_batch(
            [ECHO_SUM, ECHO_SUM],
            contexts=[
                {"stdin": "2 2", "expected_output": "4 \n\n"},
                {"stdin": "2 2", "expected_output": "5"},
            ],
        )
    assert [result.reward for result in results] == [1.0, 0.7]


def test_option_defaults_supply_stdin_and_expected_output() -> None:
    with GCCVerifier(
        run_after_compile=True, stdin_input="20 22\n", expected_output="42\n", use_cache=False
    ) as verifier:
        assert verifier.verify(ECHO_SUM).reward == 1.0


def test_run_without_expectation_scores_completion() -> None:
    with GCCVerifier(run_after_compile=True, use_cache=False) as verifier:
        ran, crashed = verifier.verify_batch(
            [HELLO, "#include <cstdlib>\nint main() { std::abort(); }\n"]
        )
    assert (ran.reward, ran.success) == (RewardLevel.RUNS_NO_CRASH, True)
    assert (crashed.reward, crashed.success) == (RewardLevel.RUNTIME_FAILURE, False)


def test_infinite_loop_in_a_batch_scores_below_pass_and_others_are_scored() -> None:
    hang = "int main() { volatile unsigned long i = 0; for (;;) ++i; }\n"
    with GCCVerifier(
        run_after_compile=True,
        run_timeout=1.0,
        expected_output="3\n",
        max_workers=2,
        use_cache=False,
    ) as verifier:
        results = verifier.verify_batch(
            [ECHO_SUM, hang, ECHO_SUM.replace("a + b", "a * b")],
            contexts=[{"stdin": "1 2"}, {"stdin": "1 2"}, {"stdin": "1 2"}],
        )
    correct, hung, wrong = results
    assert hung.reward == RewardLevel.RUNTIME_FAILURE and not hung.success
    assert "timed out" in (hung.error or "")
    assert (correct.reward, wrong.reward) == (1.0, RewardLevel.WRONG_OUTPUT)


def test_warn_as_error_fails_programs_that_warn() -> None:
    with GCCVerifier(warn_as_error=True, use_cache=False) as verifier:
        warned, clean = verifier.verify_batch([BY_TIER["warnings"][0], HELLO])
    assert not warned.success and warned.reward == RewardLevel.COMPILE_WARNINGS
    assert warned.metadata["failure"] == "warning_as_error"
    assert clean.success and clean.reward == RewardLevel.COMPILE_CLEAN


def test_binary_cache_dir_keeps_a_runnable_binary(tmp_path: Path) -> None:
    with GCCVerifier(binary_cache_dir=tmp_path / "bin") as verifier:
        result = verifier.verify(HELLO)
        assert verifier.cache_fingerprint() is None  # the binary is the product: never cached
    binary = Path(result.metadata["binary_path"])
    assert binary.parent == tmp_path / "bin"
    completed = subprocess.run([str(binary)], capture_output=True, text=True, timeout=30)
    assert completed.stdout == "hello\n"


def test_c_programs_compile_with_gcc() -> None:
    program = '#include <stdio.h>\nint main(void) { printf("%d\\n", 6 * 7); return 0; }\n'
    with GCCVerifier(
        language="c", run_after_compile=True, expected_output="42", use_cache=False
    ) as verifier:
        result = verifier.verify(f"```c\n{program}```")
    assert result.reward == 1.0 and result.metadata["compiler"] == "gcc"


def test_clang_compiles_and_runs() -> None:
    with ClangVerifier(
        run_after_compile=True, expected_output="hello", use_cache=False
    ) as verifier:
        good, bad = verifier.verify_batch([HELLO, BY_TIER["missing_include"][0]])
    assert good.reward == 1.0 and good.metadata["compiler"] == "clang++"
    assert bad.reward == RewardLevel.MISSING_DECLARATION


def test_mingw_builds_a_windows_executable(tmp_path: Path) -> None:
    with MinGWVerifier(binary_cache_dir=tmp_path) as verifier:
        built, broken = verifier.verify_batch([HELLO, BY_TIER["syntax"][0]])
    assert built.success and built.reward == RewardLevel.COMPILE_CLEAN
    binary = Path(built.metadata["binary_path"])
    assert binary.suffix == ".exe" and binary.read_bytes()[:2] == b"MZ"  # a PE image
    assert broken.reward == RewardLevel.SYNTAX_ERROR


def test_mingw_refuses_to_run_windows_binaries() -> None:
    with pytest.raises(VerifierError, match="run_after_compile=false"):
        MinGWVerifier(run_after_compile=True)


def test_missing_compiler_names_the_package_to_install() -> None:
    with pytest.raises(VerifierError, match=r"apt-get install clang"):
        ClangVerifier(compiler="clang++-that-does-not-exist")
    with pytest.raises(VerifierError, match=r"apt-get install mingw-w64"):
        MinGWVerifier(compiler="x86_64-w64-mingw32-g++-missing")


def test_misspelt_option_names_the_allowed_options() -> None:
    with pytest.raises(
        VerifierError, match=r"unknown option 'run_after_compiling'.*run_after_compile"
    ):
        GCCVerifier(run_after_compiling=True)


def test_answer_without_code_scores_zero() -> None:
    with GCCVerifier(use_cache=False) as verifier:
        result = verifier.verify("```python\nprint('hi')\n```")
    assert result.reward == 0.0 and result.metadata["stage"] == "extract"


def test_results_are_cached_across_batches_and_keyed_by_options() -> None:
    program = HELLO.replace("hello", f"hello from {os.getpid()}")
    with GCCVerifier() as verifier:
        first = verifier.verify_batch([program])
        second = verifier.verify_batch([program])
    with GCCVerifier(warn_as_error=True) as stricter:
        third = stricter.verify_batch([program])
    assert first[0].metadata["cached"] is False
    assert second[0].metadata["cached"] is True and second[0].reward == first[0].reward
    assert third[0].metadata["cached"] is False


def test_fingerprint_names_the_compiler_version_of_each_language_it_may_use() -> None:
    fingerprint = GCCVerifier().cache_fingerprint()
    assert fingerprint is not None
    assert fingerprint["verifier"] == "gcc"
    cpp_path, cpp_version = fingerprint["compilers"]["c++"]
    c_path, c_version = fingerprint["compilers"]["c"]
    assert Path(cpp_path).name == "g++" and Path(c_path).name == "gcc"
    assert "g++" in cpp_version or "GCC" in cpp_version
    assert "gcc" in c_version.lower()
    assert fingerprint["options"]["run_after_compile"] is None
    only_c = GCCVerifier(language="c").cache_fingerprint()
    assert only_c is not None and list(only_c["compilers"]) == ["c"]
