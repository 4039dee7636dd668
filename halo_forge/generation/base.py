"""One sampling interface for every backend (`registry.get_sampler` builds one by name).

RAFT and benchmark only ever call `Sampler.generate`, so a faster engine (vLLM) replaces the
Transformers backend without touching them. Prompts are passed as the exact text the model
sees: format them first with `halo_forge.data.templates.format_prompt` (the tokenizer's chat
template or a built-in one), so no backend adds a template or a system prompt of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import TypeVar

import numpy as np

from halo_forge.errors import ConfigError

SamplerT = TypeVar("SamplerT", bound="Sampler")


class Sampler(ABC):
    """Draws `n` completions for each prompt.

    `tokens_generated` is the running total of tokens the sampler generated, which callers
    divide by their own timing to report throughput.
    """

    tokens_generated: int = 0

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

    def close(self) -> None:  # noqa: B027 (a no-op default, not an abstract method)
        """Free what the sampler holds outside this object (engine processes, server state)."""

    def __enter__(self: SamplerT) -> SamplerT:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def truncate_at_stop(text: str, stop: Sequence[str] | None) -> str:
    """`text` up to (not including) the earliest occurrence of any stop string."""
    cut = len(text)
    for marker in stop or ():
        position = text.find(marker)
        if marker and 0 <= position < cut:
            cut = position
    return text[:cut]


def check_sampling_options(n: int, temperature: float, top_p: float, max_new_tokens: int) -> None:
    """Refuse sampling arguments no backend can honour, with the allowed range in the message."""
    if n < 1:
        raise ConfigError(f"n (samples per prompt) must be at least 1, got {n}")
    if temperature < 0:
        raise ConfigError(f"temperature must be >= 0 (0 is greedy), got {temperature}")
    if not 0 < top_p <= 1:
        raise ConfigError(f"top_p must be in (0, 1], got {top_p}")
    if max_new_tokens < 1:
        raise ConfigError(f"max_new_tokens must be at least 1, got {max_new_tokens}")


def request_seed(seed: int, index: int) -> int:
    """The engine request seed of the prompt at `index` in a call seeded with `seed`.

    Used by the engines that seed each request (vLLM in process or behind a server). Mixed by
    numpy's `SeedSequence`, so neighbouring prompts and calls get unrelated streams (vLLM's
    `seed + j` for a request's samples then rarely meets another request's seed).
    """
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
