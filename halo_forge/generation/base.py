"""One sampling interface for every backend, and the registry that builds a backend by name.

RAFT and benchmark only ever call `Sampler.generate`, so a faster engine (vLLM) replaces the
Transformers backend without touching them. Prompts are passed as the exact text the model
sees: format them first with `halo_forge.data.templates.format_prompt` (the tokenizer's chat
template or a built-in one), so no backend adds a template or a system prompt of its own.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from halo_forge.errors import ConfigError

SAMPLER_BACKENDS = ("transformers", "vllm")


class Sampler(ABC):
    """Draws `n` completions for each prompt."""

    @abstractmethod
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
        """`result[i]` holds the `n` completions of `prompts[i]`, in prompt order.

        Completions exclude the prompt, end before the end-of-sequence token, and are cut before
        the first stop string. `temperature=0` is greedy decoding. The same `seed` with the same
        arguments gives the same completions.
        """


def truncate_at_stop(text: str, stop: Sequence[str] | None) -> str:
    """`text` up to (not including) the earliest occurrence of any stop string."""
    cut = len(text)
    for marker in stop or ():
        position = text.find(marker)
        if marker and 0 <= position < cut:
            cut = position
    return text[:cut]


def get_sampler(backend: str, model: str, **options: Any) -> Sampler:
    """A sampler of `backend` ("transformers" or "vllm") over `model` (id, directory or adapter).

    `options` go to the backend (device, dtype, trust_remote_code, batch_size, ...).
    """
    if backend == "transformers":
        from halo_forge.generation.transformers_backend import TransformersSampler

        return TransformersSampler.from_pretrained(model, **options)
    if backend == "vllm":
        if importlib.util.find_spec("vllm") is None:
            raise ConfigError(
                "the vllm backend needs vLLM: pip install 'halo-forge[vllm]' "
                "(or use the transformers backend)"
            )
        raise ConfigError(
            "vLLM is installed, but this version of halo-forge has no vLLM sampler yet; "
            "use the transformers backend"
        )
    raise ConfigError(
        f"unknown sampler backend {backend!r}; allowed: {', '.join(SAMPLER_BACKENDS)}"
    )
