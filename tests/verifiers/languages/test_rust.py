"""Rust verifier end to end: the real rustc and cargo, through the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.batch import run_batch
from halo_forge.verifiers.cache import ResultCache
from halo_forge.verifiers.languages.rust import RUST_DIAGNOSTICS, RustVerifier
from halo_forge.verifiers.registry import build_verifier

ADD_ONE = "use std::io;\nfn main() {\n    let mut line = String::new();\n"
ADD_ONE += "    io::stdin().read_line(&mut line).unwrap();\n"
ADD_ONE += '    let n: i64 = line.trim().parse().unwrap();\n    println!("{}", n + 1);\n}\n'
#: One program per classifier row, with the rustc error code it must produce.
BY_TIER = {
    "parse error": ("fn main() { let x = 1 }\n", RewardLevel.SYNTAX_ERROR, "syntax"),
    "unclosed delimiter": ("fn main() {\n", RewardLevel.SYNTAX_ERROR, "syntax"),
    "E0425 unresolved name": (
        'fn main() { println!("{}", y); }\n',
        RewardLevel.MISSING_DECLARATION,
        "missing_declaration",
    ),
    "E0432 unresolved import": (
        "use std::collections::Foo;\nfn main() {}\n",
        RewardLevel.MISSING_DECLARATION,
        "missing_declaration",
    ),
    "E0433 undeclared module": (
        "fn main() { let m = HashMap::<i32, i32>::new(); }\n",
        RewardLevel.MISSING_DECLARATION,
        "missing_declaration",
    ),
    "E0308 mismatched types": (
        "fn main() { let s: String = 5; }\n",
        RewardLevel.SEMANTIC_ERROR,
        "semantic",
    ),
    "E0382 borrow of moved value": (
        'fn main() { let s = String::from("a"); let t = s; println!("{} {}", s, t); }\n',
        RewardLevel.SEMANTIC_ERROR,
        "semantic",
    ),
}


def fenced(code: str) -> str:
    return f"Here is the program:\n```rust\n{code}```\nDone."


@pytest.fixture(scope="module")
def defaults() -> RustVerifier:
    return RustVerifier(use_cache=False)


@pytest.fixture(scope="module")
def runner() -> RustVerifier:
    return RustVerifier(use_cache=False, run_after_compile=True, run_timeout=2.0)


def test_build_failures_are_classified_by_rustc_error_codes(defaults: RustVerifier) -> None:
    names = sorted(BY_TIER)
    results = defaults.verify_batch([fenced(BY_TIER[name][0]) for name in names])
    for name, result in zip(names, results, strict=True):
        _, reward, kind = BY_TIER[name]
        assert (result.reward, result.metadata["failure"]) == (reward, kind), (name, result)
        assert result.metadata["stage"] == "compile"
        assert result.metadata["language"] == "rust"
    code_of = {name: name.split()[0] for name in names if name.startswith("E0")}
    for name, result in zip(names, results, strict=True):
        if name in code_of:
            assert code_of[name] in result.details, result.details


def test_warnings_score_030_and_a_clean_build_050(defaults: RustVerifier) -> None:
    warned, clean = defaults.verify_batch(
        [fenced("fn main() { let x = 1; }\n"), fenced('fn main() { println!("hi"); }\n')]
    )
    assert (warned.success, warned.reward, warned.metadata["warnings"]) == (True, 0.3, 1)
    assert (clean.success, clean.reward, clean.metadata["warnings"]) == (True, 0.5, 0)


def test_table_reads_real_short_format_lines() -> None:
    output = (
        "p.rs:1:39: error[E0425]: cannot find value `y` in this scope\n"
        "error: aborting due to previous error\n"
    )
    failure = RUST_DIAGNOSTICS.classify(output)
    assert (failure.reward, failure.kind) == (
        RewardLevel.MISSING_DECLARATION,
        "missing_declaration",
    )
    assert RUST_DIAGNOSTICS.count_warnings("p.rs:1:17: warning: unused variable: `x`\n") == 1


def test_runs_score_each_sample_against_its_own_cases(runner: RustVerifier) -> None:
    cases = [
        {"stdin": "1\n", "expected_output": "2\n"},
        {"stdin": "41\n", "expected_output": "42\n"},
    ]
    half_right = [
        {"stdin": "1\n", "expected_output": "2\n"},
        {"stdin": "2\n", "expected_output": "9"},
    ]
    panics = 'fn main() { let v: Vec<i32> = Vec::new(); println!("{}", v[1]); }\n'
    results = runner.verify_batch(
        [fenced(ADD_ONE), fenced(ADD_ONE), fenced(ADD_ONE), fenced(panics)],
        contexts=[
            {"test_cases": cases},
            {"test_cases": half_right},
            {"stdin": "1\n", "expected_output": "3\n"},
            {"expected_output": "0\n"},
        ],
    )
    assert [result.reward for result in results] == [1.0, 0.8, 0.7, 0.6]
    assert results[0].success and results[0].metadata["stage"] == "run"
    assert results[1].metadata["test_cases_passed"] == 1


def test_default_verifier_runs_the_samples_test_cases(defaults: RustVerifier) -> None:
    cases = [{"stdin": "41\n", "expected_output": "43\n"}]
    wrong, unchecked = defaults.verify_batch(
        [fenced(ADD_ONE), fenced(ADD_ONE)], contexts=[{"test_cases": cases}, {}]
    )
    assert (wrong.success, wrong.reward, wrong.metadata["stage"]) == (False, 0.7, "run")
    assert (unchecked.success, unchecked.reward, unchecked.metadata["stage"]) == (
        True,
        0.5,
        "compile",
    )


def test_explicit_compile_only_marks_the_skipped_test_cases() -> None:
    cases = [{"stdin": "41\n", "expected_output": "43\n"}]
    verifier = RustVerifier(use_cache=False, run_after_compile=False)
    result = verifier.verify(fenced(ADD_ONE), test_cases=cases)
    assert (result.success, result.reward, result.metadata["compile_only"]) == (True, 0.5, True)


def test_inline_tests_run_with_cargo_and_score_the_passing_fraction(runner: RustVerifier) -> None:
    library = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    tests = "#[cfg(test)]\nmod tests {\n    use super::*;\n"
    passing = tests + "    #[test]\n    fn adds() { assert_eq!(add(1, 2), 3); }\n}\n"
    failing = passing.replace(
        "}\n}\n", "}\n    #[test]\n    fn wrong() { assert_eq!(add(1, 2), 4); }\n}\n"
    )
    hanging = passing.replace("}\n}\n", "}\n    #[test]\n    fn hangs() { loop {} }\n}\n")
    all_pass, half, hung = runner.verify_batch(
        [fenced(library + passing), fenced(library + failing), fenced(library + hanging)]
    )
    assert (all_pass.success, all_pass.reward, all_pass.metadata["tests_total"]) == (True, 1.0, 1)
    assert (half.success, half.reward) == (False, 0.75)
    assert "test tests::wrong failed" in (half.error or "")
    # the test that never finishes counts as a failure, not as a test that does not exist
    assert (hung.metadata["tests_passed"], hung.metadata["tests_total"]) == (1, 2)
    assert "timed out" in (hung.error or "")


def test_a_package_with_its_own_manifest_builds_and_runs_its_binary(runner: RustVerifier) -> None:
    manifest = '[package]\nname = "hello-app"\nversion = "0.1.0"\nedition = "2021"\n'
    result = runner.verify(
        fenced('fn main() { println!("{}", helper::greeting()); }\nmod helper;\n'),
        files={
            "Cargo.toml": manifest,
            "src/helper.rs": 'pub fn greeting() -> &\'static str { "hi" }\n',
        },
        expected_output="hi\n",
    )
    assert (result.success, result.reward) == (True, 1.0), result


def test_integration_tests_in_files_test_the_library(runner: RustVerifier) -> None:
    integration = "use prog::double;\n\n#[test]\nfn doubles() { assert_eq!(double(2), 4); }\n"
    integration += "\n#[test]\nfn doubles_zero() { assert_eq!(double(0), 1); }\n"
    result = runner.verify(
        fenced("pub fn double(x: i32) -> i32 { x * 2 }\n"), files={"tests/it.rs": integration}
    )
    assert (result.reward, result.metadata["tests_passed"], result.metadata["tests_total"]) == (
        0.75,
        1,
        2,
    )


def test_cargo_is_offline_so_a_registry_dependency_is_a_missing_declaration(
    defaults: RustVerifier,
) -> None:
    manifest = '[package]\nname = "prog"\nversion = "0.1.0"\n\n[dependencies]\nrand = "0.8"\n'
    result = defaults.verify("use rand::Rng;\nfn main() {}\n", files={"Cargo.toml": manifest})
    assert (result.reward, result.metadata["failure"]) == (0.1, "missing_declaration")
    assert "rand" in result.details


def test_missing_toolchain_names_the_debian_package() -> None:
    with pytest.raises(VerifierError, match=r"apt-get install rustc"):
        RustVerifier(compiler="no-such-rustc")
    with pytest.raises(VerifierError, match=r"apt-get install cargo"):
        RustVerifier(cargo="no-such-cargo")


def test_the_sandboxed_compiler_is_the_real_one_not_a_proxy(defaults: RustVerifier) -> None:
    # a rustup proxy needs the caller's home, which sandboxed runs do not see
    rustc = Path(defaults.tools["rustc"])
    assert rustc.name == "rustc" and rustc.is_file()
    assert Path(defaults.tools["cargo"]).is_file()
    assert defaults.tool_versions["rustc"].startswith("rustc ")


def test_results_are_cached_under_the_toolchain_version(tmp_path: Path) -> None:
    verifier = RustVerifier()
    fingerprint = verifier.cache_fingerprint()
    assert fingerprint is not None
    assert fingerprint["versions"]["rustc"] == verifier.tool_versions["rustc"]
    assert RustVerifier(edition="2018").cache_fingerprint() != fingerprint
    cache = ResultCache(tmp_path)
    program = fenced('fn main() { println!("cached"); }\n')
    first = run_batch(verifier, [program], cache=cache, show_progress=False)[0]
    second = run_batch(verifier, [program], cache=cache, show_progress=False)[0]
    assert (first.metadata["cached"], second.metadata["cached"]) == (False, True)
    assert second.reward == first.reward == 0.5


def test_registered_as_rust_with_typed_options() -> None:
    assert isinstance(build_verifier("rust", edition="2018"), RustVerifier)
    with pytest.raises(VerifierError, match="edition"):
        build_verifier("rust", edition="2030")
