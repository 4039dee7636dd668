"""Go verifier end to end: the real go build, go vet and go test, through the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.data.records import PromptRecord
from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.languages.go import GO_DIAGNOSTICS, GoVerifier
from halo_forge.verifiers.registry import build_verifier

HEADER = 'package main\n\nimport "fmt"\n\n'
ADD_ONE = HEADER + "func main() {\n\tvar n int\n\tfmt.Scan(&n)\n\tfmt.Println(n + 1)\n}\n"
#: One program per classifier row, and the message go build gives for it.
BY_TIER = {
    "syntax error": (
        HEADER + 'func main() { fmt.Println("hi" }\n',
        RewardLevel.SYNTAX_ERROR,
        "syntax error: unexpected",
    ),
    "undefined name": (
        HEADER + "func main() { fmt.Println(y) }\n",
        RewardLevel.MISSING_DECLARATION,
        "undefined: y",
    ),
    "missing import": (
        "package main\n\nfunc main() { fmt.Println(1) }\n",
        RewardLevel.MISSING_DECLARATION,
        "undefined: fmt",
    ),
    "package outside std": (
        HEADER + 'import "notstd/zz"\n\nfunc main() { fmt.Println(zz.A) }\n',
        RewardLevel.MISSING_DECLARATION,
        "is not in GOROOT",
    ),
    "module offline": (
        HEADER + 'import "github.com/x/y"\n\nfunc main() { fmt.Println(y.A) }\n',
        RewardLevel.MISSING_DECLARATION,
        "github.com/x/y",
    ),
    "cannot use": (
        HEADER + "func main() { var s string = 5; fmt.Println(s) }\n",
        RewardLevel.SEMANTIC_ERROR,
        "cannot use 5",
    ),
    "mismatched types": (
        HEADER + "func main() { a, b := 1, 2.5; fmt.Println(a + b) }\n",
        RewardLevel.SEMANTIC_ERROR,
        "mismatched types",
    ),
}
TESTS = (
    'package main\n\nimport "testing"\n\n'
    "func TestAdds(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal(Add(1, 2))\n\t}\n}\n"
)
ADD = "package main\n\nfunc Add(a, b int) int { return a + b }\n\nfunc main() {}\n"


def fenced(code: str) -> str:
    return f"Solution:\n```go\n{code}```\n"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("go-cache")


@pytest.fixture(scope="module")
def runner(cache_dir: Path) -> GoVerifier:
    return GoVerifier(use_cache=False, run_after_compile=True, run_timeout=2.0, cache_dir=cache_dir)


def test_build_failures_are_classified_by_go_messages(cache_dir: Path) -> None:
    verifier = GoVerifier(use_cache=False, cache_dir=cache_dir)
    names = sorted(BY_TIER)
    results = verifier.verify_batch([fenced(BY_TIER[name][0]) for name in names])
    for name, result in zip(names, results, strict=True):
        _, reward, message = BY_TIER[name]
        assert result.reward == reward, (name, result)
        assert message in result.details, (name, result.details)
        assert (result.metadata["stage"], result.metadata["warnings"]) == ("compile", 0)


def test_vet_findings_are_the_warning_tier(cache_dir: Path) -> None:
    verifier = GoVerifier(use_cache=False, cache_dir=cache_dir)
    vetted, clean = verifier.verify_batch(
        [
            fenced(HEADER + 'func main() { fmt.Printf("%d\\n", "three") }\n'),
            fenced(HEADER + "func main() { fmt.Println(3) }\n"),
        ]
    )
    assert (vetted.success, vetted.reward, vetted.metadata["warnings"]) == (True, 0.3, 1)
    assert (clean.success, clean.reward, clean.metadata["warnings"]) == (True, 0.5, 0)
    unvetted = GoVerifier(use_cache=False, cache_dir=cache_dir, vet=False)
    assert unvetted.verify(fenced(HEADER + 'func main() { fmt.Printf("%d", "x") }\n')).reward == 0.5


def test_table_reads_real_go_build_lines() -> None:
    output = "# prog\n./main.go:4:56: undefined: y\n./main.go:4:64: cannot use 5\n"
    failure = GO_DIAGNOSTICS.classify(output)
    assert (failure.reward, failure.message) == (RewardLevel.MISSING_DECLARATION, "undefined: y")


def test_runs_score_each_sample_against_its_own_cases(runner: GoVerifier) -> None:
    crashes = HEADER + "func main() { var a []int; fmt.Println(a[3]) }\n"
    results = runner.verify_batch(
        [fenced(ADD_ONE), fenced(ADD_ONE), fenced(ADD_ONE), fenced(crashes)],
        contexts=[
            {"test_cases": [{"stdin": "1\n", "expected_output": "2\n"}]},
            {
                "test_cases": [
                    {"stdin": "1\n", "expected_output": "2\n"},
                    {"stdin": "1\n", "expected_output": "5\n"},
                ]
            },
            {"stdin": "1\n", "expected_output": "7\n"},
            {"expected_output": "0\n"},
        ],
    )
    assert [result.reward for result in results] == [1.0, 0.8, 0.7, 0.6]
    assert results[0].metadata["language"] == "go"


def test_go_test_files_score_the_fraction_of_passing_tests(runner: GoVerifier) -> None:
    failing = (
        TESTS + "\nfunc TestWrong(t *testing.T) {\n\tif Add(1, 2) != 4 {\n\t\tt.Fail()\n\t}\n}\n"
    )
    hanging = TESTS + "\nfunc TestHangs(t *testing.T) {\n\tfor {\n\t}\n}\n"
    all_pass, half, hung = runner.verify_batch(
        [fenced(ADD)] * 3,
        contexts=[
            {"files": {"main_test.go": TESTS}},
            {"files": {"main_test.go": failing}},
            {"files": {"main_test.go": hanging}},
        ],
    )
    assert (all_pass.success, all_pass.reward, all_pass.metadata["tests_total"]) == (True, 1.0, 1)
    assert (half.success, half.reward) == (False, 0.75)
    assert "TestWrong failed" in (half.error or "")
    assert (hung.metadata["tests_passed"], hung.metadata["tests_total"]) == (1, 2)


def test_a_prompt_records_files_reach_the_verifier(runner: GoVerifier) -> None:
    record = PromptRecord.model_validate(
        {"prompt": "Write Add.", "language": "go", "files": {"main_test.go": TESTS}}
    )
    result = runner.verify(fenced(ADD), **record.verification_context())
    assert (result.success, result.metadata["tests_total"]) == (True, 1)


def test_a_broken_test_file_is_a_build_failure(runner: GoVerifier) -> None:
    broken = 'package main\n\nimport "testing"\n\nfunc TestX(t *testing.T) { Missing() }\n'
    result = runner.verify(fenced(ADD), files={"main_test.go": broken})
    assert (result.reward, result.metadata["stage"]) == (0.1, "compile")


def test_the_shared_build_cache_is_written_through_the_sandbox(
    runner: GoVerifier, cache_dir: Path
) -> None:
    assert runner.verify(fenced(ADD_ONE), stdin="1\n", expected_output="2\n").success
    assert any((cache_dir / "build").iterdir())  # GOCACHE lives in the verifier's directory
    assert runner.writable_paths() == (cache_dir.resolve(),)


def test_missing_toolchain_names_the_debian_package() -> None:
    with pytest.raises(VerifierError, match=r"apt-get install golang-go"):
        GoVerifier(compiler="no-such-go")


def test_cache_key_has_the_go_version_but_not_the_cache_location(tmp_path: Path) -> None:
    here, there = GoVerifier(cache_dir=tmp_path / "a"), GoVerifier(cache_dir=tmp_path / "b")
    fingerprint = here.cache_fingerprint()
    assert fingerprint == there.cache_fingerprint()
    assert fingerprint is not None and fingerprint["versions"]["go"].startswith("go version go")
    assert GoVerifier(cache_dir=tmp_path / "a", vet=False).cache_fingerprint() != fingerprint


def test_registered_as_go() -> None:
    assert isinstance(build_verifier("go", vet=False), GoVerifier)
