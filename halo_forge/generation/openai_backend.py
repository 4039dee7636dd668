"""Sampling from a running OpenAI-compatible server: `vllm serve`, SGLang, llama.cpp's server.

The prompts are already formatted (chat template applied), so requests go to the plain
`/completions` endpoint with the exact text, never to `/chat/completions`, which would template
them a second time. One request per prompt carries `n`, and up to `max_concurrency` requests are
in flight at once; the server batches them. Results come back in prompt order.

Adapters. RAFT samples each cycle from a new LoRA adapter. vLLM's server loads one at runtime
through `POST /load_lora_adapter` when it was started with `--enable-lora` and the environment
variable `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`; `use_adapter` loads the adapter under a new
name, samples through it, and unloads the one before. The server reads the adapter directory
itself, so it must see the same path (same machine or a shared filesystem).

Seeds are sent per request (`request_seed`, as the in-process vLLM backend does); servers that
honour them (vLLM does) repeat a seeded call. Only the standard library is used: the backend
needs no extra package.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from halo_forge.errors import ConfigError, ModelError
from halo_forge.generation.base import (
    Sampler,
    check_sampling_options,
    request_seed,
    truncate_at_stop,
)

#: How vLLM's server must be started so that RAFT can hand it each cycle's adapter.
ADAPTER_SERVER_HINT = (
    "start vLLM with --enable-lora --max-lora-rank R (R at least the adapter's rank) and the "
    "environment variable VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"
)


class ServerError(ModelError):
    """The server answered with an error status; `status` is the HTTP code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class OpenAISampler(Sampler):
    """A `Sampler` over an OpenAI-compatible server at `base_url` (".../v1").

    `model` is a served model name; None takes the server's only model. `api_key` is sent as a
    bearer token when given. Construction asks the server for its models, so a wrong address,
    key or model name fails here, with the fix in the message, and not in the first batch.
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        max_concurrency: int = 8,
        timeout: float = 600.0,
    ) -> None:
        if max_concurrency < 1:
            raise ConfigError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.tokens_generated = 0  # running total, for throughput reports
        self._count_lock = threading.Lock()
        self.model = self._served_model(model)
        self.adapter: str | None = None  # the served name of the adapter in use
        self._adapters_loaded = 0

    def _served_model(self, wanted: str | None) -> str:
        listed = self._request("GET", "/models").get("data") or []
        names = [str(entry.get("id")) for entry in listed if isinstance(entry, dict)]
        if wanted is not None and wanted in names:
            return wanted
        if wanted is None and len(names) == 1:
            return names[0]
        served = ", ".join(names) or "none"
        what = f"does not serve {wanted!r}" if wanted else "serves several models"
        raise ConfigError(
            f"the server at {self.base_url} {what} (it serves: {served}); set "
            "generation.openai.model to one of them"
        )

    def generate(
        self,
        prompts: Sequence[str],
        n: int = 1,
        temperature: float = 0.7,
        top_p: float = 0.95,
        max_new_tokens: int = 512,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> list[list[str]]:
        """See `Sampler.generate`. Greedy decoding asks for one completion, repeated n times."""
        check_sampling_options(n, temperature, top_p, max_new_tokens)
        greedy = temperature == 0
        stops = [marker for marker in stop or () if marker]

        def sample(index: int) -> list[str]:
            body: dict[str, Any] = {
                "model": self.adapter or self.model,
                "prompt": prompts[index],
                "n": 1 if greedy else n,
                "temperature": temperature,
                "top_p": 1.0 if greedy else top_p,
                "max_tokens": max_new_tokens,
            }
            if stops:
                body["stop"] = stops
            if seed is not None and not greedy:
                body["seed"] = request_seed(seed, index)
            reply = self._request("POST", "/completions", body)
            choices = sorted(reply.get("choices") or [], key=lambda choice: choice.get("index", 0))
            texts = [truncate_at_stop(str(choice.get("text", "")), stops) for choice in choices]
            if len(texts) != body["n"]:
                raise ModelError(
                    f"the server returned {len(texts)} completions for a request of "
                    f"n={body['n']}; it may not support `n` (sample with n=1 calls instead)"
                )
            with self._count_lock:
                self.tokens_generated += int((reply.get("usage") or {}).get("completion_tokens", 0))
            return texts * n if greedy else texts

        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            return list(pool.map(sample, range(len(prompts))))

    def use_adapter(self, adapter_dir: str | Path | None) -> None:
        """Sample through the PEFT adapter in `adapter_dir` (None: the served model alone).

        The adapter is loaded into the server under a new name (a directory may have been
        rewritten since an earlier load), and the adapter used before is unloaded.
        """
        previous = self.adapter
        if adapter_dir is not None:
            path = Path(adapter_dir).resolve()
            self._adapters_loaded += 1
            name = f"halo-forge-{self._adapters_loaded}-{path.name}"
            try:
                self._request(
                    "POST", "/load_lora_adapter", {"lora_name": name, "lora_path": str(path)}
                )
            except ServerError as error:
                if error.status in (404, 405):
                    raise ConfigError(
                        f"the server at {self.base_url} cannot load adapters at runtime; "
                        f"{ADAPTER_SERVER_HINT}"
                    ) from None
                raise
            self.adapter = name
        else:
            self.adapter = None
        if previous is not None:
            self._request("POST", "/unload_lora_adapter", {"lora_name": previous})

    def close(self) -> None:
        """Unload the adapter this sampler loaded; the server itself keeps running."""
        if self.adapter is not None:
            self.use_adapter(None)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One HTTP request; the decoded JSON reply (a plain-text reply becomes `{}`)."""
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:500]
            if error.code == 401:
                raise ConfigError(
                    f"the server at {self.base_url} refused the API key (HTTP 401); set the "
                    "variable named by generation.openai.api_key_env to a key it accepts"
                ) from None
            raise ServerError(
                f"{method} {self.base_url}{path} failed with HTTP {error.code}: {detail}",
                error.code,
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ConfigError(
                f"cannot reach the OpenAI-compatible server at {self.base_url} ({reason}); start "
                "it (e.g. vllm serve MODEL --host 127.0.0.1 --port 8000) or set "
                "generation.openai.base_url"
            ) from None
        try:
            return json.loads(payload) if payload.strip() else {}
        except json.JSONDecodeError:
            return {}  # vLLM's adapter endpoints answer with a plain-text sentence
