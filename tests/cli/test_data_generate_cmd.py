"""`data generate` through typer's runner, against a real local HTTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from data.fake_llm_server import FakeLLMServer
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli.data_generate_cmd import generate
from halo_forge.data.jsonl import read_jsonl, write_jsonl
from halo_forge.data.topics import list_topics
from halo_forge.errors import ConfigError, DataError

app = typer.Typer()
app.command()(generate)
runner = CliRunner()

GOOD_CPP = '```cpp\n#include <cstdio>\nint main() { std::puts("ok"); return 0; }\n```'
BROKEN_CPP = "```cpp\nint main( {\n```"


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """Leave no console bound to a runner's closed output behind for later tests."""
    yield
    ui.set_quiet(False)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as running:
        yield running


def invoke(*arguments: str):
    """Run the command; `ui` keeps one console, rebuilt here to write into this run's output."""
    ui.set_quiet(False)
    return runner.invoke(app, list(arguments))


def newest_log(log_dir: str) -> str:
    logs = sorted(Path(log_dir).glob("data_generate_*.log"), key=lambda path: path.stat().st_mtime)
    return logs[-1].read_text(encoding="utf-8")


def test_list_prints_every_builtin_topic() -> None:
    result = invoke("--list")
    assert result.exit_code == 0, result.output
    for spec in list_topics():
        assert spec.name in result.output


def test_topic_generation_writes_records_and_a_summary(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_dir: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    output = tmp_path / "sft.jsonl"
    result = invoke(
        "--topic", "python_algorithms", "--backend", "openai", "--base-url",
        server.openai_base_url, "--model", "tiny-model", "--output", str(output),
        "--samples", "4", "--concurrency", "2", "--seed", "3", "--max-tokens", "99",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    records = read_jsonl(output)
    assert len(records) == 4
    assert {record["metadata"]["model"] for record in records} == {"tiny-model"}
    assert {request.body["max_tokens"] for request in server.requests} == {99}
    for line in ("requested", "ok (written)", "failed", "seconds"):
        assert line in result.output
    assert "ok (written)" in newest_log(log_dir)

    rerun = invoke(
        "--topic", "python_algorithms", "--backend", "openai", "--base-url",
        server.openai_base_url, "--output", str(output), "--samples", "4", "--seed", "3",
    )  # fmt: skip
    assert rerun.exit_code == 0, rerun.output
    assert len(server.requests) == 4  # everything was already done
    assert re.search(r"already done \(skipped\)\s+│ 4 ", rerun.output)


def test_prompts_file_through_the_anthropic_backend(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [{"prompt": "Print 1."}, {"prompt": "Print 2."}])
    output = tmp_path / "out.jsonl"
    result = invoke(
        "--prompts", str(prompts), "--backend", "anthropic",
        "--base-url", server.anthropic_base_url, "--output", str(output),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {record["prompt"] for record in read_jsonl(output)} == {"Print 1.", "Print 2."}
    assert {request.path for request in server.requests} == {"/v1/messages"}


@pytest.mark.parametrize("sources", [[], ["--topic", "c_systems", "--prompts", "p.jsonl"]])
def test_exactly_one_prompt_source_is_required(tmp_path: Path, sources: list[str]) -> None:
    result = invoke(*sources, "--output", str(tmp_path / "out.jsonl"))
    assert isinstance(result.exception, ConfigError)
    assert "exactly one of --topic NAME" in str(result.exception)


def test_missing_output_is_a_clear_error() -> None:
    result = invoke("--topic", "c_systems")
    assert isinstance(result.exception, ConfigError)
    assert "--output is required" in str(result.exception)


def test_missing_api_key_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    output = tmp_path / "out.jsonl"
    result = invoke("--topic", "c_systems", "--output", str(output))  # default backend: deepseek
    assert isinstance(result.exception, DataError)
    assert "DEEPSEEK_API_KEY" in str(result.exception)
    assert not output.exists()


def test_unknown_backend_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("--topic", "c_systems", "--backend", "gpt-local", "--output", "x.jsonl")
    assert result.exit_code == 2
    assert "deepseek" in result.output


def test_failed_prompts_exit_1_and_say_how_to_retry(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    server.fail_next(1, "400")
    result = invoke(
        "--topic", "go_concurrency", "--backend", "openai", "--base-url",
        server.openai_base_url, "--output", str(tmp_path / "out.jsonl"), "--samples", "3",
        "--concurrency", "1",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "HTTP 400" in result.output
    assert "1 prompts failed; rerun the same command" in result.output
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 2


def test_verify_keeps_only_passing_answers_and_counts_rejections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [{"prompt": "good one"}, {"prompt": "broken one"}, {"prompt": "good two"}])
    output = tmp_path / "out.jsonl"
    reply = lambda prompt: BROKEN_CPP if prompt.startswith("broken") else GOOD_CPP  # noqa: E731
    with FakeLLMServer(reply=reply) as server:
        result = invoke(
            "--prompts", str(prompts), "--backend", "openai", "--base-url",
            server.openai_base_url, "--output", str(output), "--verify", "gcc",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {record["prompt"] for record in read_jsonl(output)} == {"good one", "good two"}
    assert re.search(r"rejected by gcc\s+│ 1 ", result.output)
