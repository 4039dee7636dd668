"""The cycle's file stages: batch-by-batch generation with resume, chunked verification, stats."""

from __future__ import annotations

import json
import os
import signal

import pytest

from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import read_jsonl
from halo_forge.data.records import PromptRecord
from halo_forge.raft.cycle import (
    CyclePaths,
    CyclePrompt,
    StopRequest,
    generate_samples,
    prompt_key,
    samples_complete,
    verify_samples,
)
from halo_forge.raft.stats import VerificationSummary, reward_histogram
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.registry import build_verifier


def _prompts(count: int) -> list[CyclePrompt]:
    records = [PromptRecord.model_validate(task) for task in generate_tasks("builtin_c", count, 0)]
    return [
        CyclePrompt(prompt_key(index, record), record.prompt, record)
        for index, record in enumerate(records)
    ]


class RecordingSampler:
    """Answers each prompt with numbered text and remembers every call (prompts, seed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], int]] = []

    def __call__(self, texts: list[str], seed: int) -> list[list[str]]:
        self.calls.append((texts, seed))
        return [[f"answer {seed} {text[:10]} {j}" for j in range(2)] for text in texts]


def test_generation_appends_every_batch_with_its_samples(tmp_path):
    prompts = _prompts(5)
    sampler = RecordingSampler()
    path = tmp_path / "samples.jsonl"
    count = generate_samples(path, prompts, sampler, samples_per_prompt=2, batch_size=2, seed=100)
    records = read_jsonl(path)
    assert count == len(records) == 10
    assert [seed for _, seed in sampler.calls] == [100, 101, 102]
    assert [record["batch"] for record in records] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert len({record["sample_id"] for record in records}) == 10
    assert samples_complete(path, prompts, 2)


def test_resume_skips_finished_batches_and_redoes_a_torn_one(tmp_path):
    prompts = _prompts(5)
    path = tmp_path / "samples.jsonl"
    generate_samples(path, prompts, RecordingSampler(), samples_per_prompt=2, batch_size=2, seed=0)
    complete = path.read_text().splitlines(keepends=True)
    # A kill during batch 1: its first sample line is whole, the second torn, later batches absent.
    path.write_text("".join(complete[:5]) + complete[5][:20])
    assert not samples_complete(path, prompts, 2)
    sampler = RecordingSampler()
    count = generate_samples(path, prompts, sampler, samples_per_prompt=2, batch_size=2, seed=0)
    assert [seed for _, seed in sampler.calls] == [1, 2]
    assert count == 6
    assert path.read_text().splitlines(keepends=True) == complete


def test_a_finished_samples_file_is_not_regenerated(tmp_path):
    prompts = _prompts(3)
    path = tmp_path / "samples.jsonl"
    generate_samples(path, prompts, RecordingSampler(), samples_per_prompt=2, batch_size=2, seed=0)
    sampler = RecordingSampler()
    assert generate_samples(path, prompts, sampler, samples_per_prompt=2, batch_size=2, seed=0) == 0
    assert sampler.calls == []


def test_stop_request_ends_generation_after_the_current_batch(tmp_path):
    prompts = _prompts(6)
    path = tmp_path / "samples.jsonl"
    stop = StopRequest()

    def sampler_that_asks_to_stop(texts: list[str], seed: int) -> list[list[str]]:
        stop.requested = True  # as if Ctrl-C arrived while this batch was generated
        return [["x", "y"] for _ in texts]

    with pytest.raises(KeyboardInterrupt):
        generate_samples(
            path,
            prompts,
            sampler_that_asks_to_stop,
            samples_per_prompt=2,
            batch_size=2,
            seed=0,
            stop=stop,
        )
    assert len(read_jsonl(path)) == 4  # the batch in flight was written, nothing after it


def test_verification_uses_each_prompts_tests_and_resumes_from_its_file(tmp_path):
    prompts = _prompts(2)
    solutions = [prompt.record.model_extra["solution"] for prompt in prompts]
    path = tmp_path / "samples.jsonl"

    def sampler(texts: list[str], seed: int) -> list[list[str]]:
        # the right function for each prompt, and the same function off by one (wrong output)
        index = [prompt.text for prompt in prompts].index(texts[0])
        return [[solutions[index], solutions[index].replace("return ", "return 1 + ", 1)]]

    generate_samples(path, prompts, sampler, samples_per_prompt=2, batch_size=1, seed=0)
    verified_path = tmp_path / "verified.jsonl"
    with build_verifier("gcc", run_after_compile=True) as verifier:
        assert verify_samples(path, verified_path, prompts, verifier, chunk_size=1).verified == 4
        first_run = verified_path.read_text()
        lines = first_run.splitlines(keepends=True)
        verified_path.write_text("".join(lines[:2]))  # a kill after two chunks
        resumed = verify_samples(path, verified_path, prompts, verifier, chunk_size=1)
    assert (resumed.resumed, resumed.verified) == (2, 2)
    assert verified_path.read_text() == first_run
    records = read_jsonl(verified_path)
    assert resumed.records == records
    assert [record["sample_id"] for record in records] == [r["sample_id"] for r in read_jsonl(path)]
    assert [record["success"] for record in records] == [True, False, True, False]
    assert all(record["compiled"] for record in records)
    summary = VerificationSummary.of(records)
    assert summary.pass_rate == 0.5
    assert summary.compile_rate == 1.0
    assert summary.reward_histogram["1"] == 2


class CountingVerifier(Verifier):
    """Passes every sample and remembers which programs it was asked about."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.seen: list[str] = []

    def verify(self, code: str, **context: object) -> VerifyResult:
        self.seen.append(code)
        return VerifyResult(success=True, reward=1.0, details="ok")


def test_a_half_verified_cycle_verifies_only_the_rest_in_the_same_file_format(tmp_path):
    prompts = _prompts(3)
    path = tmp_path / "samples.jsonl"
    generate_samples(path, prompts, RecordingSampler(), samples_per_prompt=2, batch_size=1, seed=0)
    samples = read_jsonl(path)
    verified_path = tmp_path / "verified.jsonl"
    with CountingVerifier() as verifier:
        verify_samples(path, verified_path, prompts, verifier, chunk_size=2)
    complete = verified_path.read_text().splitlines(keepends=True)
    verified_path.write_text("".join(complete[:4]) + complete[4][:15])  # killed mid-chunk

    with CountingVerifier() as verifier:
        resumed = verify_samples(path, verified_path, prompts, verifier, chunk_size=2)
        assert sorted(verifier.seen) == sorted(sample["completion"] for sample in samples[4:])
    assert (resumed.resumed, resumed.verified) == (4, 2)
    assert verified_path.read_text().splitlines(keepends=True) == complete
    assert set(resumed.records[0]) == {
        *samples[0],
        "reward",
        "success",
        "compiled",
        "language",
        "details",
        "error",
    }


def test_verified_records_and_summary_are_broken_down_by_language(tmp_path):
    records = [
        PromptRecord(prompt="Print 1 in C.", language="c", expected_output="1\n"),
        PromptRecord(prompt="Print 1 in Python.", language="python", expected_output="1\n"),
        PromptRecord(prompt="Print 1.", expected_output="1\n"),  # language from the fence
    ]
    prompts = [
        CyclePrompt(prompt_key(index, record), record.prompt, record)
        for index, record in enumerate(records)
    ]
    answers = {
        "Print 1 in C.": ['#include <stdio.h>\nint main(void) { puts("1"); return 0; }\n'],
        "Print 1 in Python.": ["print(2)\n"],
        "Print 1.": ['```go\npackage main\nimport "fmt"\nfunc main() { fmt.Println(1) }\n```'],
    }
    path = tmp_path / "samples.jsonl"
    generate_samples(
        path,
        prompts,
        lambda texts, seed: [answers[texts[0]]],
        samples_per_prompt=1,
        batch_size=1,
        seed=0,
    )
    verified_path = tmp_path / "verified.jsonl"
    config = {
        "c": {"type": "gcc", "language": "c", "run_after_compile": True},
        "go": {"type": "go", "run_after_compile": True},
    }
    with build_verifier("auto", verifiers=config) as verifier:
        verified = verify_samples(path, verified_path, prompts, verifier).records

    assert [record["language"] for record in verified] == ["c", "python", "go"]
    by_language = VerificationSummary.of(verified).by_language
    assert {name: stats.pass_rate for name, stats in by_language.items()} == {
        "c": 1.0,
        "go": 1.0,
        "python": 0.0,
    }
    assert by_language["python"].samples == 1


def test_reward_histogram_counts_each_tier_highest_first():
    assert reward_histogram([0.0, 1.0, 0.5, 1.0]) == {"1": 2, "0.5": 1, "0": 1}


def test_cycle_is_finished_only_with_stats_and_checkpoint(tmp_path):
    paths = CyclePaths(tmp_path, 3)
    assert paths.samples == tmp_path / "cycle_3" / "samples.jsonl"
    paths.directory.mkdir()
    paths.stats.write_text(json.dumps({"cycle": 3}))
    assert not paths.is_finished()
    paths.checkpoint.mkdir()
    assert paths.is_finished()


def test_ctrl_c_sets_the_stop_request_instead_of_interrupting():
    # Whatever handler was there (a background job inherits SIG_IGN) comes back afterwards.
    previous = signal.getsignal(signal.SIGINT)
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            stop.raise_if_requested()
    assert signal.getsignal(signal.SIGINT) is previous
