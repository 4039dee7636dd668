"""The batch pool: parallel threads, deduplication, the cache, per-sample crashes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.batch import run_batch
from halo_forge.verifiers.cache import ResultCache


class RecordingVerifier(Verifier):
    """Scores by program length and records every call it receives."""

    languages = ("python",)

    def __init__(self, fingerprint: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fingerprint = fingerprint
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.prepared: list[list[str]] = []
        self._lock = threading.Lock()

    def verify(self, code: str, **context: Any) -> VerifyResult:
        with self._lock:
            self.calls.append((code, context))
        program = self.extract_code(code)
        if "raise" in program:
            raise RuntimeError("verifier bug triggered by this sample")
        if "toolchain" in program:
            raise VerifierError("tool missing: install it")
        reward = min(1.0, len(program) / 100)
        return VerifyResult(True, reward, metadata={"expected": context.get("expected_output")})

    def cache_fingerprint(self) -> dict[str, Any] | None:
        return self.fingerprint

    def prepare(self, programs: list[str]) -> None:
        self.prepared.append(programs)


def test_identical_programs_are_verified_once(tmp_path: Path) -> None:
    verifier = RecordingVerifier(max_workers=2)
    codes = ["```python\nx = 1\n```", "x = 1", "Answer:\n```python\nx = 1\n```", "y = 2"]
    results = run_batch(verifier, codes, cache=ResultCache(tmp_path))
    assert len(verifier.calls) == 2
    assert [result.reward for result in results[:3]] == [results[0].reward] * 3
    results[1].metadata["changed"] = True
    assert "changed" not in results[0].metadata  # duplicates get their own copies


def test_different_context_is_verified_separately(tmp_path: Path) -> None:
    verifier = RecordingVerifier()
    results = run_batch(
        verifier,
        ["x = 1", "x = 1", "x = 1"],
        contexts=[{"expected_output": "1"}, {"expected_output": "2"}, {"expected_output": "1"}],
        cache=ResultCache(tmp_path),
    )
    assert len(verifier.calls) == 2
    assert [result.metadata["expected"] for result in results] == ["1", "2", "1"]


def test_declared_context_keys_limit_what_distinguishes_samples(tmp_path: Path) -> None:
    verifier = RecordingVerifier()
    verifier.context_keys = ("expected_output",)
    run_batch(
        verifier,
        ["x = 1", "x = 1"],
        prompts=["first prompt", "second prompt"],
        task_ids=[1, 2],
        cache=ResultCache(tmp_path),
    )
    assert len(verifier.calls) == 1
    assert verifier.calls[0][1] == {"prompt": "first prompt", "task_id": 1}


def test_undeclared_context_keys_all_count(tmp_path: Path) -> None:
    verifier = RecordingVerifier()
    run_batch(verifier, ["x = 1", "x = 1"], prompts=["a", "b"], cache=ResultCache(tmp_path))
    assert sorted(call[1]["prompt"] for call in verifier.calls) == ["a", "b"]


def test_second_batch_is_served_from_cache(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    first = RecordingVerifier(fingerprint={"verifier": "length", "version": 1})
    cold = run_batch(first, ["a = 1", "b = 22"], cache=cache)
    assert [result.metadata["cached"] for result in cold] == [False, False]

    second = RecordingVerifier(fingerprint={"verifier": "length", "version": 1})
    warm = run_batch(second, ["b = 22", "a = 1", "c = 333"], cache=cache)
    assert len(second.calls) == 1 and second.calls[0][0] == "c = 333"
    assert second.prepared == [["c = 333\n"]]
    assert [result.metadata["cached"] for result in warm] == [True, True, False]
    assert [result.reward for result in warm[:2]] == [cold[1].reward, cold[0].reward]


def test_changed_fingerprint_misses_the_cache(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    run_batch(RecordingVerifier(fingerprint={"version": 1}), ["a = 1"], cache=cache)
    upgraded = RecordingVerifier(fingerprint={"version": 2})
    run_batch(upgraded, ["a = 1"], cache=cache)
    assert len(upgraded.calls) == 1


def test_verifier_without_fingerprint_is_never_cached(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    run_batch(RecordingVerifier(), ["a = 1"], cache=cache)
    again = RecordingVerifier()
    run_batch(again, ["a = 1"], cache=cache)
    assert len(again.calls) == 1
    assert len(cache) == 0


def test_use_cache_false_skips_the_cache(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    run_batch(RecordingVerifier(fingerprint={"v": 1}), ["a = 1"], cache=cache)
    uncached = RecordingVerifier(fingerprint={"v": 1}, use_cache=False)
    results = run_batch(uncached, ["a = 1"], cache=cache)
    assert len(uncached.calls) == 1 and results[0].metadata["cached"] is False


def test_crashing_sample_gets_error_result_and_batch_finishes(tmp_path: Path) -> None:
    verifier = RecordingVerifier(fingerprint={"v": 1}, max_workers=2)
    cache = ResultCache(tmp_path)
    results = run_batch(verifier, ["a = 1", "raise", "b = 2"], cache=cache)
    assert results[1].reward == 0.0 and not results[1].success
    assert "RuntimeError: verifier bug" in (results[1].error or "")
    assert results[0].success and results[2].success
    assert len(cache) == 2  # the crash is not cached: a fixed verifier retries it


def test_missing_toolchain_stops_the_batch(tmp_path: Path) -> None:
    with pytest.raises(VerifierError, match="install it"):
        run_batch(RecordingVerifier(), ["a = 1", "toolchain"], cache=ResultCache(tmp_path))


def test_samples_run_concurrently_up_to_max_workers(tmp_path: Path) -> None:
    barrier = threading.Barrier(3, timeout=10)

    class Rendezvous(Verifier):
        def verify(self, code: str, **context: Any) -> VerifyResult:
            barrier.wait()  # passes only when three verifications run at the same time
            return VerifyResult(True, 1.0)

    results = run_batch(Rendezvous(max_workers=3), ["a", "b", "c"], cache=ResultCache(tmp_path))
    assert all(result.success for result in results)


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="prompts has 1 entries for 2 codes"):
        run_batch(RecordingVerifier(), ["a", "b"], prompts=["only one"])


def test_empty_batch_returns_nothing(tmp_path: Path) -> None:
    verifier = RecordingVerifier(fingerprint={"v": 1})
    assert run_batch(verifier, [], cache=ResultCache(tmp_path)) == []
    assert verifier.prepared == []


def test_a_batch_without_progress_prints_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """GRPO verifies a batch per training step: no line of its own may reach the step logs."""
    verifier = RecordingVerifier(use_cache=False)
    run_batch(verifier, ["x = 1", "y = 2"], show_progress=False)
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
