"""Chat backends that ask a hosted or local LLM for training examples, through the official SDKs.

Two protocols cover every supported backend:
- OpenAI chat completions (`openai.AsyncOpenAI`): `openai`, `deepseek`, `ollama`, `vllm`, and any
  other OpenAI-compatible server through `base_url`;
- Anthropic messages (`anthropic.AsyncAnthropic`): `anthropic`.

Both SDKs are built with `max_retries=0` so that one retry policy applies, `RetryPolicy`: rate
limits (429), server errors (5xx, 408) and connection failures are retried with exponential
backoff, jitter and the server's `retry-after`, a bounded number of times. Any other answer
(400 bad request, 401/403 bad key, 404 unknown model) is not worth repeating and fails at once.
The SDKs are an optional extra (`pip install 'halo-forge[llm]'`) and are imported only when a
backend is built.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, Protocol

from halo_forge.errors import ConfigError, DataError

WireProtocol = Literal["openai", "anthropic"]


class LLMRequestError(DataError):
    """One request failed for good (retries spent, request rejected, or an unreadable answer).

    Other prompts may still succeed, so a generation job records it and carries on.
    """


class LLMBackendError(DataError):
    """The backend refuses every request (bad key, no access, unknown model): stop the job."""


@dataclass(frozen=True)
class BackendSpec:
    """Where a named backend lives and how it authenticates."""

    name: str
    protocol: WireProtocol
    default_model: str
    base_url: str
    api_key_env: str | None  # environment variable holding the key
    api_key_required: bool  # local servers run without a key unless started with one


_SPECS = (
    BackendSpec(
        name="deepseek",
        protocol="openai",
        default_model="deepseek-chat",
        base_url="https://api.deepseek.com",
        api_key_env="DEEPSEEK_API_KEY",
        api_key_required=True,
    ),
    BackendSpec(
        name="openai",
        protocol="openai",
        default_model="gpt-4.1-mini",
        base_url="https://api.openai.com/v1",
        api_key_env="OPENAI_API_KEY",
        api_key_required=True,
    ),
    BackendSpec(
        name="anthropic",
        protocol="anthropic",
        default_model="claude-sonnet-4-6",
        base_url="https://api.anthropic.com",
        api_key_env="ANTHROPIC_API_KEY",
        api_key_required=True,
    ),
    BackendSpec(
        name="ollama",
        protocol="openai",
        default_model="qwen2.5-coder:7b",
        base_url="http://localhost:11434/v1",
        api_key_env=None,
        api_key_required=False,
    ),
    BackendSpec(
        name="vllm",
        protocol="openai",
        default_model="Qwen/Qwen2.5-Coder-7B-Instruct",
        base_url="http://localhost:8000/v1",
        api_key_env="VLLM_API_KEY",  # only if the server was started with --api-key
        api_key_required=False,
    ),
)
#: Supported backends by name; `default_model` is used when no model is given.
BACKENDS: dict[str, BackendSpec] = {spec.name: spec for spec in _SPECS}

#: Statuses below 500 worth retrying: rate limited, request timeout.
_RETRYABLE_STATUS = (408, 429)
# Sent when a local server needs no key: the OpenAI SDK refuses to build a client without one.
_NO_KEY = "not-needed"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    The wait before retry `n` (0-based) is drawn from [backoff/2, backoff] where
    backoff = min(max_delay_s, base_delay_s * 2**n): doubling spreads the load while a rate
    limit lasts, and the jitter keeps many concurrent requests from retrying in lockstep. A
    server's `retry-after` raises the wait to at least what it asked for (up to max_delay_s).
    """

    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ConfigError(
                f"invalid retry policy {self}: need max_attempts >= 1 and "
                "0 <= base_delay_s <= max_delay_s"
            )

    def delay_s(self, retry: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        backoff = min(self.max_delay_s, self.base_delay_s * 2**retry)
        delay = rng.uniform(backoff / 2, backoff)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.max_delay_s))
        return delay


class ChatBackend(Protocol):
    """What generation needs from an LLM: one chat turn in, the answer's text out."""

    name: str
    default_model: str

    async def complete(
        self, messages: list[dict[str, str]], *, model: str, temperature: float, max_tokens: int
    ) -> str:
        """The assistant's reply to `messages` (`{"role", "content"}` dicts, system first)."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        ...


def import_sdk(module: str) -> ModuleType:
    """Import an optional SDK, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"the '{module}' package is needed for LLM generation; "
            "install it with: pip install 'halo-forge[llm]'"
        ) from None


def build_backend(
    name: str,
    *,
    base_url: str | None = None,
    retry: RetryPolicy | None = None,
    timeout_s: float = 300.0,
) -> ChatBackend:
    """The backend called `name` (a key of BACKENDS), its key read from the environment.

    `base_url` replaces the backend's endpoint (an OpenAI-compatible proxy, a vLLM on another
    host). A backend that needs a key and finds its variable unset raises `DataError`
    naming the variable.
    """
    spec = BACKENDS.get(name)
    if spec is None:
        raise ConfigError(f"unknown LLM backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    api_key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    if spec.api_key_required and not api_key:
        raise DataError(
            f"backend '{name}' needs an API key: set the {spec.api_key_env} environment variable "
            f"(export {spec.api_key_env}=...)"
        )
    backend_class = OpenAIChatBackend if spec.protocol == "openai" else AnthropicChatBackend
    return backend_class(
        spec,
        api_key=api_key or _NO_KEY,
        base_url=base_url or spec.base_url,
        retry=retry or RetryPolicy(),
        timeout_s=timeout_s,
    )


class _SDKChatBackend(ABC):
    """Shared retry loop; subclasses build the SDK client and make one request."""

    sdk_module: str

    def __init__(
        self,
        spec: BackendSpec,
        *,
        api_key: str,
        base_url: str,
        retry: RetryPolicy,
        timeout_s: float,
    ) -> None:
        self.name = spec.name
        self.default_model = spec.default_model
        self.base_url = base_url
        self.api_key_env = spec.api_key_env
        self.retry = retry
        self._sdk = import_sdk(self.sdk_module)
        self._client = self._make_client(api_key, base_url, timeout_s)
        self._rng = random.Random()

    @abstractmethod
    def _make_client(self, api_key: str, base_url: str, timeout_s: float) -> Any:
        """The SDK's async client, with the SDK's own retries off."""

    @abstractmethod
    async def _request(
        self, messages: list[dict[str, str]], model: str, temperature: float, max_tokens: int
    ) -> str:
        """One request, no retry: the reply text, or the SDK's exception."""

    async def complete(
        self, messages: list[dict[str, str]], *, model: str, temperature: float, max_tokens: int
    ) -> str:
        """The reply text, retrying transient failures under `self.retry`."""
        for attempt in range(self.retry.max_attempts):
            try:
                return await self._request(messages, model, temperature, max_tokens)
            except json.JSONDecodeError as error:
                raise LLMRequestError(
                    f"{self.name} at {self.base_url} answered with a body that is not JSON "
                    f"({error.msg}); check that --base-url points at an LLM API"
                ) from None
            except self._sdk.APIStatusError as error:
                status = error.status_code
                if status in (401, 403):
                    raise LLMBackendError(
                        f"{self.name} refused the API key (HTTP {status}: {_reason(error)}); "
                        f"check {self.api_key_env or 'the server key'} and its access to {model}"
                    ) from None
                if status == 404:
                    raise LLMBackendError(
                        f"{self.name} at {self.base_url} answered 404 ({_reason(error)}); check "
                        f"--model '{model}' and --base-url"
                    ) from None
                if status < 500 and status not in _RETRYABLE_STATUS:
                    raise LLMRequestError(
                        f"{self.name} rejected the request (HTTP {status}: {_reason(error)})"
                    ) from None
                failure = f"HTTP {status}: {_reason(error)}"
                hint = (
                    "lower --concurrency"
                    if status == 429
                    else "the service is failing, retry later"
                )
                retry_after = _retry_after_s(error.response.headers)
            except self._sdk.APIConnectionError as error:
                failure = f"cannot reach {self.base_url}: {error.__cause__ or error}"
                hint = "check that the server runs and --base-url points at it"
                retry_after = None
            if attempt + 1 < self.retry.max_attempts:
                await asyncio.sleep(self.retry.delay_s(attempt, self._rng, retry_after))
        raise LLMRequestError(
            f"{self.name} failed {self.retry.max_attempts} times, last: {failure}; {hint}"
        )

    async def aclose(self) -> None:
        await self._client.close()


class OpenAIChatBackend(_SDKChatBackend):
    """Any OpenAI-compatible chat-completions endpoint."""

    sdk_module = "openai"

    def _make_client(self, api_key: str, base_url: str, timeout_s: float) -> Any:
        return self._sdk.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s
        )

    async def _request(
        self, messages: list[dict[str, str]], model: str, temperature: float, max_tokens: int
    ) -> str:
        response = await self._client.chat.completions.create(
            model=model, messages=messages, temperature=temperature, max_tokens=max_tokens
        )
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise LLMRequestError(f"{self.name} returned no text (model {model})")
        return content


class AnthropicChatBackend(_SDKChatBackend):
    """The Anthropic messages API.

    The system prompt travels in its own field, not as a message. `temperature` is not sent:
    the messages API of the current SDK takes no sampling parameters, the model's own apply.
    """

    sdk_module = "anthropic"

    def _make_client(self, api_key: str, base_url: str, timeout_s: float) -> Any:
        return self._sdk.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s
        )

    async def _request(
        self, messages: list[dict[str, str]], model: str, temperature: float, max_tokens: int
    ) -> str:
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        turns = [m for m in messages if m["role"] != "system"]
        response = await self._client.messages.create(
            model=model,
            max_tokens=max_tokens,
            messages=turns,
            **({"system": system} if system else {}),
        )
        text = "".join(
            block.text for block in response.content or [] if getattr(block, "type", "") == "text"
        )
        if not text:
            raise LLMRequestError(f"{self.name} returned no text (model {model})")
        return text


def _reason(error: Any) -> str:
    """The server's own error message, short."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:200]
    return str(getattr(error, "message", error))[:200]


def _retry_after_s(headers: Any) -> float | None:
    """Seconds the server asked to wait (`retry-after-ms` or numeric `retry-after`), if any."""
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            continue
    return None
