"""Generation jobs end to end: official SDKs, a real local HTTP server, real files, real kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from data.fake_llm_server import FakeLLMServer

from halo_forge.data.generate import (
    GenerationSettings,
    generate_examples,
    prompt_id,
    rejected_path_for,
    requests_from_file,
    requests_from_topic,
)
from halo_forge.data.jsonl import read_jsonl, write_jsonl
from halo_forge.data.llm_backends import LLMBackendError, RetryPolicy, build_backend
from halo_forge.data.topics import load_topic
from halo_forge.errors import ConfigError, DataError

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.001, max_delay_s=0.01)
GOOD_CPP = '```cpp\n#include <cstdio>\nint main() { std::puts("ok"); return 0; }\n```'
BROKEN_CPP = "```cpp\nint main( {\n```"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")


def openai_backend(server: FakeLLMServer):
    return build_backend("openai", base_url=server.openai_base_url, retry=FAST_RETRY)


def topic_requests(samples: int, seed: int = 0):
    return requests_from_topic(load_topic("cpp_algorithms"), samples, seed)


def test_topic_job_writes_one_sft_record_per_prompt(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    requests = topic_requests(6)
    with FakeLLMServer(reply=lambda prompt: f"answer to: {prompt[:30]}") as server:
        summary = generate_examples(
            requests, openai_backend(server), output, GenerationSettings(model="m1")
        )
    assert (summary.requested, summary.ok, summary.failed, summary.already_done) == (6, 6, 0, 0)
    records = read_jsonl(output)
    assert sorted(record["prompt"] for record in records) == sorted(r.prompt for r in requests)
    for record in records:
        assert record["completion"] == f"answer to: {record['prompt'][:30]}"
        metadata = record["metadata"]
        assert metadata["topic"] == "cpp_algorithms"
        assert metadata["language"] == "cpp"
        assert (metadata["backend"], metadata["model"]) == ("openai", "m1")
    assert {record["metadata"]["prompt_id"] for record in records} == {
        r.prompt_id for r in requests
    }
    sent_system = {request.body["messages"][0]["content"] for request in server.requests}
    assert sent_system == {load_topic("cpp_algorithms").system_prompt.strip()}


def test_prompts_file_job_through_the_anthropic_protocol(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(
        prompts,
        [
            {"prompt": "Print 1.", "task_id": "t1", "expected_output": "1\n"},
            {"prompt": "Print 2.", "system": "Answer in C.", "metadata": {"level": 3}},
        ],
    )
    output = tmp_path / "out.jsonl"
    with FakeLLMServer(reply=lambda prompt: prompt.upper()) as server:
        backend = build_backend("anthropic", base_url=server.anthropic_base_url, retry=FAST_RETRY)
        summary = generate_examples(requests_from_file(prompts), backend, output)
    assert summary.ok == 2
    by_prompt = {record["prompt"]: record for record in read_jsonl(output)}
    assert by_prompt["Print 1."]["completion"] == "PRINT 1."
    assert by_prompt["Print 1."]["metadata"]["task_id"] == "t1"
    assert by_prompt["Print 1."]["metadata"]["source"] == f"{prompts}:1"
    assert by_prompt["Print 2."]["metadata"]["level"] == 3
    systems = {request.prompt: request.body["system"] for request in server.requests}
    assert systems["Print 2."] == "Answer in C."
    assert by_prompt["Print 1."]["metadata"]["model"] == backend.default_model


def test_requests_overlap_up_to_the_concurrency_limit(tmp_path: Path) -> None:
    with FakeLLMServer(delay_s=0.25) as server:
        summary = generate_examples(
            topic_requests(12),
            openai_backend(server),
            tmp_path / "parallel.jsonl",
            GenerationSettings(concurrency=4),
        )
        assert summary.ok == 12
        assert server.max_in_flight == 4
    with FakeLLMServer(delay_s=0.05) as server:
        generate_examples(
            topic_requests(3),
            openai_backend(server),
            tmp_path / "serial.jsonl",
            GenerationSettings(concurrency=1),
        )
        assert server.max_in_flight == 1


def test_malformed_answer_fails_that_prompt_and_the_batch_completes(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    requests = topic_requests(10)
    with FakeLLMServer() as server:
        server.fail_next(1, "malformed")
        summary = generate_examples(
            requests, openai_backend(server), output, GenerationSettings(concurrency=3)
        )
        assert (summary.ok, summary.failed) == (9, 1)
        assert "not JSON" in summary.failures[0]
        assert len(read_jsonl(output)) == 9
        # A rerun asks again for the failed prompt only.
        asked_before = len(server.requests)
        rerun = generate_examples(requests, openai_backend(server), output)
        assert (rerun.already_done, rerun.ok, len(server.requests) - asked_before) == (9, 1, 1)
    assert len({record["metadata"]["prompt_id"] for record in read_jsonl(output)}) == 10


def test_rate_limits_and_server_errors_are_retried_inside_a_job(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        server.fail_next(3, "429", retry_after="0")
        server.fail_next(2, "500")
        summary = generate_examples(
            topic_requests(8),
            openai_backend(server),
            tmp_path / "out.jsonl",
            GenerationSettings(concurrency=4),
        )
        assert (summary.ok, summary.failed) == (8, 0)
        assert len(server.requests) == 8 + 5


def test_refused_key_stops_the_job(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        server.fail_next(1, "401")
        with pytest.raises(LLMBackendError, match="refused the API key"):
            generate_examples(
                topic_requests(20),
                openai_backend(server),
                tmp_path / "out.jsonl",
                GenerationSettings(concurrency=1),
            )
        assert len(server.requests) == 1


_KILLED_JOB = """
import sys
from halo_forge.data.generate import GenerationSettings, generate_examples, requests_from_topic
from halo_forge.data.llm_backends import build_backend
from halo_forge.data.topics import load_topic

requests = requests_from_topic(load_topic("cpp_algorithms"), 40, seed=5)
backend = build_backend("openai", base_url=sys.argv[1])
generate_examples(requests, backend, sys.argv[2], GenerationSettings(concurrency=2))
"""


def test_resume_after_a_kill_asks_only_for_missing_prompts(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    requests = requests_from_topic(load_topic("cpp_algorithms"), 40, seed=5)
    with FakeLLMServer(delay_s=0.1) as server:
        job = subprocess.Popen(
            [sys.executable, "-c", _KILLED_JOB, server.openai_base_url, str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "OPENAI_API_KEY": "test-key"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and job.poll() is None:
            if output.exists() and output.read_bytes().count(b"\n") >= 5:
                break
            time.sleep(0.01)
        job.send_signal(signal.SIGKILL)
        assert job.wait(timeout=30) == -signal.SIGKILL
        with output.open("a", encoding="utf-8") as handle:  # a write cut short by the kill
            handle.write('{"prompt": "Implement quicksort", "completion": "```cpp\\nint ma')
        done_before = {
            json.loads(line)["metadata"]["prompt_id"]
            for line in output.read_text(encoding="utf-8").splitlines()[:-1]
        }
        assert 5 <= len(done_before) < 40
        asked_before = len(server.requests)

        summary = generate_examples(requests, openai_backend(server), output)

        asked_again = {request.prompt for request in server.requests[asked_before:]}
    missing = {request.prompt for request in requests if request.prompt_id not in done_before}
    assert asked_again == missing
    assert (summary.already_done, summary.ok) == (len(done_before), 40 - len(done_before))
    records = read_jsonl(output)  # every line parses: the torn line is gone
    assert sorted(record["metadata"]["prompt_id"] for record in records) == sorted(
        request.prompt_id for request in requests
    )


def test_more_samples_on_rerun_generate_only_the_new_prompts(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    with FakeLLMServer() as server:
        generate_examples(topic_requests(5, seed=9), openai_backend(server), output)
        summary = generate_examples(topic_requests(8, seed=9), openai_backend(server), output)
        assert (summary.already_done, summary.ok, len(server.requests)) == (5, 3, 8)


def test_output_not_written_by_generate_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "sft.jsonl"
    write_jsonl(output, [{"prompt": "p", "completion": "c"}])
    with FakeLLMServer() as server, pytest.raises(DataError, match="choose another --output"):
        generate_examples(topic_requests(2), openai_backend(server), output)


def test_prompt_file_records_are_checked_with_file_and_line(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "ok"}\n{"text": "no prompt here"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"prompts\.jsonl:2: 'prompt' must be a non-empty string"):
        requests_from_file(prompts)
    prompts.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no prompts in the file"):
        requests_from_file(prompts)


def test_repeated_prompts_get_one_id_per_occurrence(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [{"prompt": "same"}, {"prompt": "same"}, {"prompt": "other"}])
    requests = requests_from_file(prompts, samples=5)
    assert [request.prompt for request in requests] == ["same", "same", "other", "same", "same"]
    assert len({request.prompt_id for request in requests}) == 5
    assert requests[0].prompt_id == prompt_id(requests[0].system_prompt, "same", 0)
    assert requests_from_file(prompts, samples=5) == requests  # ids are stable


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="concurrency must be >= 1"):
        GenerationSettings(concurrency=0)
    with pytest.raises(ConfigError, match="max_tokens must be >= 1"):
        GenerationSettings(max_tokens=0)


def test_verifier_keeps_only_answers_that_pass(tmp_path: Path) -> None:
    from halo_forge.verifiers.registry import build_verifier

    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(
        prompts,
        [{"prompt": f"{kind} program {n}"} for n in range(3) for kind in ("good", "broken")],
    )
    output = tmp_path / "out.jsonl"
    requests = requests_from_file(prompts)
    reply = lambda prompt: BROKEN_CPP if prompt.startswith("broken") else GOOD_CPP  # noqa: E731
    with FakeLLMServer(reply=reply) as server, build_verifier("gcc", use_cache=False) as verifier:
        summary = generate_examples(requests, openai_backend(server), output, verifier=verifier)
        assert (summary.ok, summary.rejected, summary.failed) == (3, 3, 0)
        kept = read_jsonl(output)
        assert {record["prompt"] for record in kept} == {f"good program {n}" for n in range(3)}
        assert all(record["metadata"]["verification"]["success"] for record in kept)
        rejected = read_jsonl(rejected_path_for(output))
        assert {record["prompt"] for record in rejected} == {
            f"broken program {n}" for n in range(3)
        }
        assert all(record["metadata"]["verification"]["error"] for record in rejected)
        # Kept and rejected prompts both count as done on a rerun.
        rerun = generate_examples(requests, openai_backend(server), output, verifier=verifier)
        assert (rerun.already_done, len(server.requests)) == (6, 6)
