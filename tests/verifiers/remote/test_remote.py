"""The remote MSVC verifier end to end: a real sshd, SFTP uploads, clang-cl standing in for cl."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from verifiers.cpp_programs import BY_TIER as LOCAL_TIERS
from verifiers.cpp_programs import ECHO_SUM, HELLO
from verifiers.ssh_server import BuildHost

from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.remote.msvc import RemoteMSVCVerifier

BY_TIER = {
    **LOCAL_TIERS,
    "unresolved_external": (
        "int helper();\nint main() { return helper(); }\n",
        RewardLevel.SEMANTIC_ERROR,
    ),
}


def remote_verifier(host: BuildHost, remote_dir: Path, **overrides: Any) -> RemoteMSVCVerifier:
    return RemoteMSVCVerifier(**host.options(remote_dir, **overrides))


def test_compile_rewards_follow_msvc_style_diagnostics(
    build_host: BuildHost, tmp_path: Path
) -> None:
    names = sorted(BY_TIER)
    with remote_verifier(build_host, tmp_path) as verifier:
        results = verifier.verify_batch([f"```cpp\n{BY_TIER[name][0]}```" for name in names])
    by_name = dict(zip(names, results, strict=True))
    for name in names:
        assert by_name[name].reward == BY_TIER[name][1], (name, by_name[name])
    assert by_name["clean"].success and by_name["clean"].metadata["warnings"] == 0
    assert by_name["warnings"].success and by_name["warnings"].metadata["warnings"] == 1
    assert by_name["syntax"].metadata["failure"] == "syntax"
    assert "expected ';'" in (by_name["syntax"].error or "")
    assert by_name["unresolved_external"].metadata["stage"] == "link"
    assert by_name["clean"].metadata["compiler_version"].startswith("Debian clang")
    assert list(tmp_path.iterdir()) == []  # every per-sample directory was removed


def test_runs_score_each_samples_own_test_cases(build_host: BuildHost, tmp_path: Path) -> None:
    crash = "#include <cstdlib>\nint main() { std::abort(); }\n"
    endless = "int main() { volatile int x = 0; for (;;) { x = x + 1; } }\n"
    two_cases = {
        "test_cases": [
            {"stdin": "1 2", "expected_output": "3"},
            {"stdin": "20 22\n", "expected_output": "42\n"},
        ]
    }
    plus_only_small = ECHO_SUM.replace("a + b", "(a < 10 ? a + b : 0)")
    samples = [
        (ECHO_SUM, two_cases, RewardLevel.CORRECT),
        (plus_only_small, two_cases, RewardLevel.PARTIAL_OUTPUT),
        (ECHO_SUM.replace("a + b", "a - b"), two_cases, RewardLevel.WRONG_OUTPUT),
        (crash, {"expected_output": "x"}, RewardLevel.RUNTIME_FAILURE),
        (endless, {"expected_output": "x"}, RewardLevel.RUNTIME_FAILURE),
        (HELLO, {}, RewardLevel.CORRECT),  # the verifier's default expected_output
    ]
    with remote_verifier(
        build_host, tmp_path, run_after_compile=True, run_timeout=1, expected_output="hello\n"
    ) as verifier:
        results = verifier.verify_batch(
            [code for code, _, _ in samples], contexts=[context for _, context, _ in samples]
        )
    for (code, _, reward), result in zip(samples, results, strict=True):
        assert result.reward == reward, (code, result)
    assert results[0].metadata["test_cases_passed"] == 2 and results[0].success
    assert results[1].metadata["test_cases_passed"] == 1
    assert "signal 6" in (results[3].error or "")
    assert "timed out" in (results[4].error or "")
    assert list(tmp_path.iterdir()) == []


def test_default_runs_the_samples_that_carry_checks_and_compiles_the_rest(
    build_host: BuildHost, tmp_path: Path
) -> None:
    wrong_sum = ECHO_SUM.replace("a + b", "a - b")
    function = "long add(long a, long b) { return a - b; }\n"
    test_main = (
        "#include <iostream>\n"
        "int main() { long a, b; std::cin >> a >> b; std::cout << add(a, b) << '\\n'; }\n"
    )
    sums = {"test_cases": [{"stdin": "1 2", "expected_output": "3"}]}
    with remote_verifier(build_host, tmp_path) as verifier:
        checked, tested, unchecked = verifier.verify_batch(
            [wrong_sum, function, wrong_sum],
            contexts=[sums, {**sums, "tests": test_main}, {}],
        )
    assert (checked.success, checked.reward, checked.metadata["stage"]) == (False, 0.7, "run")
    assert (tested.success, tested.reward) == (False, RewardLevel.WRONG_OUTPUT)
    assert (unchecked.success, unchecked.reward) == (True, RewardLevel.COMPILE_CLEAN)
    assert "compile_only" not in unchecked.metadata
    with remote_verifier(build_host, tmp_path, run_after_compile=False) as compile_only:
        skipped = compile_only.verify(wrong_sum, **sums)
    assert (skipped.success, skipped.metadata["compile_only"]) == (True, True)


def test_batch_uses_one_connection_per_worker_and_reuses_it(
    build_host: BuildHost, tmp_path: Path
) -> None:
    programs = [HELLO.replace("hello", f"hello {number}") for number in range(6)]
    before = build_host.accepted_logins()
    with remote_verifier(build_host, tmp_path, max_workers=2, max_connections=2) as verifier:
        first = verifier.verify_batch(programs)
        after_first = build_host.accepted_logins()
        second = verifier.verify_batch([program.replace("hello", "bye") for program in programs])
        assert verifier._pool.opened == 2
    assert all(result.reward == RewardLevel.COMPILE_CLEAN for result in first + second)
    assert after_first - before == 2  # two workers, two logins, for six samples
    assert build_host.accepted_logins() == after_first  # the next batch reuses them


def test_results_are_cached_under_host_compiler_and_flags(
    build_host: BuildHost, tmp_path: Path
) -> None:
    program = HELLO.replace("hello", f"cached {tmp_path.name}")
    with remote_verifier(build_host, tmp_path, use_cache=True, max_connections=1) as verifier:
        fingerprint = verifier.cache_fingerprint()
        [fresh] = verifier.verify_batch([program])
        logins = build_host.accepted_logins()
        [again] = verifier.verify_batch([program])
    assert fingerprint is not None
    assert fingerprint["options"]["host"] == "127.0.0.1"
    assert fingerprint["options"]["flags"] == ["/nologo", "/EHsc", "/W4"]
    assert fingerprint["compiler_version"].startswith("Debian clang")
    assert not fresh.metadata["cached"] and again.metadata["cached"]
    assert again.reward == fresh.reward == RewardLevel.COMPILE_CLEAN
    assert build_host.accepted_logins() == logins


def test_binary_cache_dir_receives_the_built_exe(build_host: BuildHost, tmp_path: Path) -> None:
    remote_dir, binaries = tmp_path / "remote", tmp_path / "binaries"
    with remote_verifier(build_host, remote_dir, binary_cache_dir=binaries) as verifier:
        assert verifier.cache_fingerprint() is None
        result = verifier.verify(HELLO)
    binary = Path(result.metadata["binary_path"])
    assert binary.parent == binaries and binary.suffix == ".exe"
    assert binary.read_bytes()[:4] == b"\x7fELF"  # the stand-in cl builds Linux executables
    assert list(remote_dir.iterdir()) == []


def test_output_without_code_scores_zero_without_a_build(
    build_host: BuildHost, tmp_path: Path
) -> None:
    with remote_verifier(build_host, tmp_path) as verifier:
        result = verifier.verify("I cannot solve this.\n```python\nprint(1)\n```")
    assert result.reward == 0.0 and result.metadata["stage"] == "extract"


def test_lost_connection_is_reopened_for_the_next_sample(
    build_host: BuildHost, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with remote_verifier(build_host, tmp_path, max_connections=1) as verifier:
        assert verifier.verify(HELLO).reward == RewardLevel.COMPILE_CLEAN
        logins = build_host.accepted_logins()
        [connection] = verifier._pool._idle
        connection.close()  # as if the network dropped it
        with caplog.at_level(logging.WARNING):
            result = verifier.verify(HELLO.replace("hello", "again"))
    assert result.reward == RewardLevel.COMPILE_CLEAN
    assert "was lost; reconnecting" in caplog.text
    assert build_host.accepted_logins() == logins + 1
