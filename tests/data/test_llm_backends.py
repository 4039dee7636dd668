"""Chat backends through the official SDKs against a real local HTTP server."""

from __future__ import annotations

import asyncio
import random
import socket
import sys

import pytest
from data.fake_llm_server import FakeLLMServer
from hypothesis import given
from hypothesis import strategies as st

from halo_forge.data.llm_backends import (
    BACKENDS,
    ChatBackend,
    LLMBackendError,
    LLMRequestError,
    RetryPolicy,
    build_backend,
)
from halo_forge.errors import ConfigError, DataError

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.001, max_delay_s=0.01)
MESSAGES = [
    {"role": "system", "content": "You write C."},
    {"role": "user", "content": "Print 42."},
]


def ask(backend: ChatBackend, messages: list[dict[str, str]] = MESSAGES) -> str:
    """One completion in its own event loop, then close the client."""

    async def run() -> str:
        try:
            return await backend.complete(
                messages, model="test-model", temperature=0.2, max_tokens=64
            )
        finally:
            await backend.aclose()

    return asyncio.run(run())


@pytest.fixture
def server():
    with FakeLLMServer(
        reply=lambda prompt: f"```c\n/* {prompt} */\nint main(void) {{ return 0; }}\n```"
    ) as running:
        yield running


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in BACKENDS.values():
        if spec.api_key_env:
            monkeypatch.setenv(spec.api_key_env, f"key-for-{spec.name}")


def test_openai_protocol_round_trip_through_the_sdk(server: FakeLLMServer, keys: None) -> None:
    backend = build_backend("openai", base_url=server.openai_base_url, retry=FAST_RETRY)
    answer = ask(backend)
    assert answer == "```c\n/* Print 42. */\nint main(void) { return 0; }\n```"
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "test-model"
    assert request.body["messages"] == MESSAGES
    assert request.body["temperature"] == 0.2
    assert request.body["max_tokens"] == 64
    assert request.headers["authorization"] == "Bearer key-for-openai"


def test_anthropic_protocol_sends_the_system_prompt_in_its_own_field(
    server: FakeLLMServer, keys: None
) -> None:
    backend = build_backend("anthropic", base_url=server.anthropic_base_url, retry=FAST_RETRY)
    answer = ask(backend)
    assert "/* Print 42. */" in answer
    (request,) = server.requests
    assert request.path == "/v1/messages"
    assert request.body["system"] == "You write C."
    assert request.body["messages"] == [{"role": "user", "content": "Print 42."}]
    assert request.body["max_tokens"] == 64
    sent_key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
    assert "key-for-anthropic" in sent_key


@pytest.mark.parametrize("name", ["deepseek", "ollama", "vllm"])
def test_openai_compatible_backends_speak_chat_completions(
    server: FakeLLMServer, keys: None, name: str
) -> None:
    backend = build_backend(name, base_url=server.openai_base_url, retry=FAST_RETRY)
    assert "/* Print 42. */" in ask(backend)
    assert server.requests[0].path == "/v1/chat/completions"


def test_local_backends_need_no_key(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    for name in ("ollama", "vllm"):
        backend = build_backend(name, base_url=server.openai_base_url, retry=FAST_RETRY)
        assert "/* Print 42. */" in ask(backend)


def test_default_endpoints_and_models_are_documented_per_backend() -> None:
    assert BACKENDS["deepseek"].base_url == "https://api.deepseek.com"
    assert BACKENDS["ollama"].base_url == "http://localhost:11434/v1"
    assert BACKENDS["vllm"].base_url == "http://localhost:8000/v1"
    assert all(spec.default_model for spec in BACKENDS.values())
    backend = build_backend("ollama")
    assert backend.default_model == BACKENDS["ollama"].default_model
    asyncio.run(backend.aclose())


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("deepseek", "DEEPSEEK_API_KEY"),
        ("openai", "OPENAI_API_KEY"),
        ("anthropic", "ANTHROPIC_API_KEY"),
    ],
)
def test_missing_api_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, variable: str
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(DataError, match=variable):
        build_backend(name)


def test_unknown_backend_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="deepseek, openai, anthropic, ollama, vllm"):
        build_backend("gpt-local")


def test_missing_sdk_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, keys: None
) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)  # makes `import anthropic` fail
    with pytest.raises(DataError, match=r"pip install 'halo-forge\[llm\]'"):
        build_backend("anthropic")


@pytest.mark.parametrize("mode", ["429", "500"])
@pytest.mark.parametrize("name", ["openai", "anthropic"])
def test_transient_errors_are_retried_until_success(
    server: FakeLLMServer, keys: None, name: str, mode: str
) -> None:
    base_url = server.anthropic_base_url if name == "anthropic" else server.openai_base_url
    server.fail_next(2, mode)
    answer = ask(build_backend(name, base_url=base_url, retry=FAST_RETRY))
    assert "/* Print 42. */" in answer
    assert [request.status for request in server.requests] == [int(mode), int(mode), 200]


def test_attempts_are_bounded_by_our_policy_alone(server: FakeLLMServer, keys: None) -> None:
    server.fail_next(10, "500")
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.001, max_delay_s=0.01)
    with pytest.raises(LLMRequestError, match="failed 3 times, last: HTTP 500"):
        ask(build_backend("openai", base_url=server.openai_base_url, retry=policy))
    # The SDK's own retries are off: exactly one request per attempt of our policy.
    assert len(server.requests) == 3
    assert {request.headers["x-stainless-retry-count"] for request in server.requests} == {"0"}


def test_retry_after_header_sets_the_wait(server: FakeLLMServer, keys: None) -> None:
    server.fail_next(1, "429", retry_after="0.3")
    policy = RetryPolicy(max_attempts=2, base_delay_s=0.001, max_delay_s=5.0)
    ask(build_backend("openai", base_url=server.openai_base_url, retry=policy))
    first, second = server.requests
    assert second.arrived_at - first.arrived_at >= 0.3


@pytest.mark.parametrize("name", ["openai", "anthropic"])
def test_bad_request_fails_at_once_without_retry(
    server: FakeLLMServer, keys: None, name: str
) -> None:
    base_url = server.anthropic_base_url if name == "anthropic" else server.openai_base_url
    server.fail_next(1, "400")
    with pytest.raises(LLMRequestError, match=r"rejected the request \(HTTP 400: injected 400\)"):
        ask(build_backend(name, base_url=base_url, retry=FAST_RETRY))
    assert len(server.requests) == 1


def test_refused_key_stops_with_a_backend_error(server: FakeLLMServer, keys: None) -> None:
    server.fail_next(1, "401")
    with pytest.raises(LLMBackendError, match="refused the API key"):
        ask(build_backend("deepseek", base_url=server.openai_base_url, retry=FAST_RETRY))
    assert len(server.requests) == 1


@pytest.mark.parametrize("name", ["openai", "anthropic"])
def test_malformed_body_is_a_clear_request_error(
    server: FakeLLMServer, keys: None, name: str
) -> None:
    base_url = server.anthropic_base_url if name == "anthropic" else server.openai_base_url
    server.fail_next(1, "malformed")
    with pytest.raises(LLMRequestError, match="body that is not JSON"):
        ask(build_backend(name, base_url=base_url, retry=FAST_RETRY))


def test_unreachable_server_is_retried_then_reported(keys: None) -> None:
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = build_backend("openai", base_url=f"http://127.0.0.1:{port}/v1", retry=FAST_RETRY)
    with pytest.raises(LLMRequestError, match=f"failed 4 times, last: cannot reach .*:{port}"):
        ask(backend)


@given(
    retry=st.integers(min_value=0, max_value=30),
    seed=st.integers(min_value=0, max_value=2**32),
    retry_after=st.one_of(st.none(), st.floats(min_value=0, max_value=1000)),
)
def test_backoff_doubles_with_jitter_and_respects_retry_after(
    retry: int, seed: int, retry_after: float | None
) -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=20.0)
    backoff = min(20.0, 0.5 * 2**retry)
    delay = policy.delay_s(retry, random.Random(seed), retry_after)
    assert delay <= 20.0
    assert delay >= backoff / 2
    if retry_after is None:
        assert delay <= backoff
    else:
        assert delay >= min(retry_after, 20.0)


def test_invalid_retry_policy_is_refused() -> None:
    with pytest.raises(ConfigError, match="max_attempts >= 1"):
        RetryPolicy(max_attempts=0)
