"""Sampling with vLLM in this process: continuous batching, paged KV cache, LoRA per request.

vLLM loads its own copy of the weights (it cannot take a model already in memory) and runs
them in engine processes it spawns, so a `VLLMSampler` is built from a model name: a Hugging
Face id, a directory, `builtin:tiny-coder`, or a PEFT adapter directory. An adapter is never
merged: the base loads once and every request carries the adapter as a `LoRARequest`, so
RAFT's next cycle switches to the new adapter (`use_adapter`) without reloading the base.

The contract is `Sampler.generate`'s: prompts are encoded with `encode_prompt` (the tokens the
Transformers backend and SFT see), sampling is exactly temperature + nucleus (vLLM applies no
top-k or repetition penalty unless asked), generation ends at the end-of-sequence tokens of the
model's generation config and of the tokenizer, vLLM stops at the first stop string found in
the generated text (never in the prompt), and completions are decoded from their token ids by
the same tokenizer and rule as the Transformers backend's.

Seeds. With `seed=...` every prompt gets its own vLLM request seed, derived from the call's
seed and the prompt's position, and vLLM gives the n samples of that request `seed + j`; a
request's samples are then drawn from its own random generator, so the same call (same prompts,
arguments, seed, model and adapter) on the same hardware gives the same completions, however
the engine batches it. What is not promised: equal text across GPU models, vLLM versions,
`tensor_parallel_size` or dtypes (the logits differ in the last bits), and equal text between
this backend and the Transformers one. Without a seed nothing repeats: samples come from the
engine's shared generator, whose draws land on whichever requests share an engine step, and
that depends on when each request reached the engine process.
On the CPU build, vLLM's per-request generators fail when a prompt's prefill is split across
engine steps ("CPU Generator does not use offset"), so there chunked prefill is switched off.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from pathlib import Path

from transformers import AutoConfig
from vllm import LLM, ModelRegistry, SamplingParams
from vllm.config.lora import MaxLoRARanks
from vllm.inputs import TokensPrompt
from vllm.lora.request import LoRARequest
from vllm.outputs import CompletionOutput
from vllm.platforms import current_platform

from halo_forge.errors import ConfigError, ModelError
from halo_forge.generation.base import (
    Sampler,
    check_sampling_options,
    request_seed,
    truncate_at_stop,
)
from halo_forge.models.device import resolve_device, resolve_dtype
from halo_forge.models.encoding import encode_prompt
from halo_forge.models.loading import (
    ADAPTER_CONFIG_FILE,
    load_tokenizer,
    resolve_model_source,
)

#: The LoRA ranks vLLM can reserve room for (its `max_lora_rank` accepts only these).
VLLM_LORA_RANKS: tuple[int, ...] = typing.get_args(MaxLoRARanks)
#: KV-cache size on the CPU build when neither memory option is given. vLLM's own default there
#: reserves 92% of the machine's RAM and refuses to start when that much is not free.
CPU_KV_CACHE_BYTES = 1 << 30


class VLLMSampler(Sampler):
    """A `Sampler` over a vLLM engine (`vllm.LLM`) that this object starts and owns.

    Engine options (None leaves vLLM's default, except where said):
    - `gpu_memory_utilization`: the fraction of GPU memory vLLM reserves for weights, activations
      and KV cache (on the CPU build: of RAM). Lower it when a trainer shares the GPU.
    - `kv_cache_memory_bytes`: a fixed KV-cache size instead of a fraction. On the CPU build,
      when neither is given, `CPU_KV_CACHE_BYTES`.
    - `tensor_parallel_size`: GPUs one model is split over.
    - `max_model_len`: the longest prompt + completion; a smaller value needs less KV cache.
    - `dtype`: auto, float32, bfloat16 or float16 (fp32, bf16, fp16). auto follows the
      Transformers backend's rule (bf16 on a GPU that supports it, else fp32), so both backends
      compute in the same dtype; vLLM's own auto would run a float32 model in bf16 on the CPU.
    - `enable_prefix_caching`: reuse the KV cache of a shared prompt prefix.
    - `enforce_eager`: no CUDA graphs or torch.compile; None is True on the CPU build, where
      compiling needs a C++ toolchain and minutes per start, and vLLM's default elsewhere.
    - `max_lora_rank`: the largest adapter rank the engine reserves room for (one of
      `VLLM_LORA_RANKS`). None enables LoRA only for an adapter `model`, sized to its rank;
      a number enables it for any model, so adapters can be switched in later.
    - `enable_sleep_mode`: allow `sleep()` (CUDA/ROCm GPUs only).
    """

    def __init__(
        self,
        model: str,
        *,
        gpu_memory_utilization: float | None = None,
        kv_cache_memory_bytes: int | None = None,
        tensor_parallel_size: int = 1,
        max_model_len: int | None = None,
        dtype: str | None = None,
        enable_prefix_caching: bool | None = None,
        enforce_eager: bool | None = None,
        max_lora_rank: int | None = None,
        enable_sleep_mode: bool = False,
        trust_remote_code: bool = False,
    ) -> None:
        source = resolve_model_source(model)
        self.base = source.base
        self.tokenizer = load_tokenizer(model, trust_remote_code=trust_remote_code)
        self.tokens_generated = 0  # running total, for throughput reports
        if max_lora_rank is not None and max_lora_rank not in VLLM_LORA_RANKS:
            raise ConfigError(
                f"max_lora_rank={max_lora_rank} is not a rank vLLM can reserve; use one of "
                f"{', '.join(map(str, VLLM_LORA_RANKS))}"
            )
        if source.adapter_dir is not None:
            if max_lora_rank is None:
                max_lora_rank = fitting_lora_rank(adapter_max_rank(source.adapter_dir))
            check_adapter_rank(source.adapter_dir, max_lora_rank)
        self.max_lora_rank = max_lora_rank
        on_cpu = current_platform.is_cpu()
        if enable_sleep_mode and not current_platform.is_sleep_mode_available():
            raise ConfigError(
                "enable_sleep_mode needs vLLM on a CUDA or ROCm GPU; on this platform call "
                "close() to free the engine instead"
            )
        self.can_sleep = enable_sleep_mode
        options: dict[str, object] = {
            "tensor_parallel_size": tensor_parallel_size,
            "dtype": resolve_dtype(dtype, resolve_device(None)),
            "trust_remote_code": trust_remote_code,
            "enable_sleep_mode": enable_sleep_mode,
            "enable_lora": max_lora_rank is not None,
            "enforce_eager": on_cpu if enforce_eager is None else enforce_eager,
        }
        if max_lora_rank is not None:
            options["max_lora_rank"] = max_lora_rank
        if on_cpu:
            options["enable_chunked_prefill"] = False  # per-request seeds need whole prefills
            if gpu_memory_utilization is None and kv_cache_memory_bytes is None:
                kv_cache_memory_bytes = CPU_KV_CACHE_BYTES
        optional = {
            "gpu_memory_utilization": gpu_memory_utilization,
            "kv_cache_memory_bytes": kv_cache_memory_bytes,
            "max_model_len": max_model_len,
            "enable_prefix_caching": enable_prefix_caching,
        }
        options.update({key: value for key, value in optional.items() if value is not None})
        self.engine: LLM | None = _start_engine(self.base, trust_remote_code, options)
        self._asleep = False
        self._adapter_count = 0
        self.adapter: LoRARequest | None = None
        if source.adapter_dir is not None:
            self.use_adapter(source.adapter_dir)

    def use_adapter(self, adapter_dir: str | Path | None) -> None:
        """Sample through the adapter in `adapter_dir` from now on (None: the base model alone).

        The base weights stay loaded; vLLM reads the adapter on the next request. The adapter
        must have been trained on this sampler's base and fit within `max_lora_rank`.
        """
        if adapter_dir is None:
            self.adapter = None
            return
        if self.max_lora_rank is None:
            raise ConfigError(
                "this sampler was started without LoRA; build it with max_lora_rank=R (R at "
                "least the adapters' rank) to switch adapters without reloading the base"
            )
        source = resolve_model_source(str(adapter_dir))
        if source.adapter_dir is None:
            raise ModelError(
                f"{adapter_dir} is a full model, not a PEFT adapter; a sampler over another "
                "full model needs a new VLLMSampler"
            )
        if source.base != self.base:
            raise ModelError(
                f"adapter {adapter_dir} was trained on {source.base_name}, but this sampler "
                f"serves {self.base}; start a VLLMSampler on the adapter's base"
            )
        check_adapter_rank(source.adapter_dir, self.max_lora_rank)
        # A new id for every call: vLLM caches adapters by id, and a directory may be rewritten.
        self._adapter_count += 1
        self.adapter = LoRARequest(
            str(source.adapter_dir), self._adapter_count, str(source.adapter_dir.resolve())
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
        """See `Sampler.generate`; which seeds reproduce what is in the module docstring."""
        check_sampling_options(n, temperature, top_p, max_new_tokens)
        engine = self._awake_engine()
        if not prompts:
            return []
        greedy = temperature == 0
        # Greedy decoding gives one answer per prompt (vLLM refuses n > 1 for it): drawn once,
        # repeated n times.
        draws = 1 if greedy else n
        requests = [
            SamplingParams(
                n=draws,
                temperature=temperature,
                top_p=1.0 if greedy else top_p,
                max_tokens=max_new_tokens,
                stop=[marker for marker in stop or () if marker] or None,
                seed=None if seed is None or greedy else request_seed(seed, index),
            )
            for index in range(len(prompts))
        ]
        outputs = engine.generate(
            [TokensPrompt(prompt_token_ids=encode_prompt(self.tokenizer, p)) for p in prompts],
            requests,
            lora_request=self.adapter,
            use_tqdm=False,
        )
        results = []
        for output in outputs:
            texts = [self._completion_text(completion, stop) for completion in output.outputs]
            self.tokens_generated += sum(len(c.token_ids) for c in output.outputs)
            results.append(texts * n if greedy else texts)
        return results

    def _completion_text(self, completion: CompletionOutput, stop: Sequence[str] | None) -> str:
        """The completion decoded as the Transformers backend decodes it.

        vLLM's own text withholds bytes that do not form a whole UTF-8 character yet, and keeps
        them out for good when generation ends there; decoding the token ids with the tokenizer
        gives the same text on both backends. A completion that ended at an end-of-sequence or
        stop token carries that token last, and it is dropped even when the tokenizer does not
        mark it special.
        """
        token_ids = list(completion.token_ids)
        if completion.finish_reason == "stop" and not isinstance(completion.stop_reason, str):
            token_ids = token_ids[:-1]
        text = self.tokenizer.decode(token_ids, skip_special_tokens=True)
        return truncate_at_stop(text, stop)

    def sleep(self) -> None:
        """Free the GPU for a while (a trainer's turn); the next `generate` wakes the engine.

        vLLM's sleep level 1: the weights move to CPU RAM and the KV cache is dropped, so GPU
        memory falls to what the CUDA context holds, and waking copies the weights back instead
        of reading them from disk. Needs `enable_sleep_mode=True` (CUDA/ROCm only).
        """
        engine = self._live_engine()
        if not self.can_sleep:
            raise ConfigError(
                "sleep() needs a sampler built with enable_sleep_mode=True (CUDA/ROCm GPUs); "
                "close() frees everything on any platform"
            )
        if not self._asleep:
            engine.sleep(level=1)
            self._asleep = True

    def close(self) -> None:
        """Stop the engine: its processes end and all their memory (weights, KV cache) is freed.

        vLLM asks its processes to stop and kills those still running after a few seconds. The
        sampler cannot generate afterwards; a new one reloads the model from disk.
        """
        if self.engine is not None:
            self.engine.llm_engine.engine_core.shutdown()
            self.engine = None

    def _live_engine(self) -> LLM:
        if self.engine is None:
            raise ConfigError("this VLLMSampler was closed; build a new one to sample again")
        return self.engine

    def _awake_engine(self) -> LLM:
        engine = self._live_engine()
        if self._asleep:
            engine.wake_up()
            self._asleep = False
        return engine


def sleep_mode_available() -> bool:
    """Whether this platform's vLLM can `sleep()` (CUDA and ROCm GPUs can, the CPU build not)."""
    return bool(current_platform.is_sleep_mode_available())


def adapter_max_rank(adapter_dir: Path) -> int:
    """The largest LoRA rank in an adapter: its `r` and any per-module `rank_pattern` entry."""
    config_path = adapter_dir / ADAPTER_CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"{config_path}: cannot read the adapter config ({error})") from None
    ranks = [config.get("r"), *(config.get("rank_pattern") or {}).values()]
    if not all(isinstance(rank, int) and rank > 0 for rank in ranks):
        raise ModelError(f"{config_path}: the LoRA rank `r` must be a positive integer")
    return max(ranks)


def fitting_lora_rank(rank: int) -> int | None:
    """The smallest of vLLM's `VLLM_LORA_RANKS` that holds `rank` (None: none is that large)."""
    return next((allowed for allowed in VLLM_LORA_RANKS if allowed >= rank), None)


def check_adapter_rank(adapter_dir: Path, max_lora_rank: int | None) -> None:
    """Refuse, before vLLM fails inside its engine, an adapter above the engine's LoRA rank."""
    rank = adapter_max_rank(adapter_dir)
    if max_lora_rank is not None and rank <= max_lora_rank:
        return
    fitting = fitting_lora_rank(rank)
    if fitting is None:
        raise ConfigError(
            f"adapter {adapter_dir} has LoRA rank {rank}, above the largest rank vLLM supports "
            f"({VLLM_LORA_RANKS[-1]}); merge it (halo-forge model merge) and sample the merged model"
        )
    raise ConfigError(
        f"adapter {adapter_dir} has LoRA rank {rank}, above max_lora_rank={max_lora_rank}; "
        f"build the sampler with max_lora_rank={fitting} (or leave it unset to fit the adapter)"
    )


def _start_engine(base: str, trust_remote_code: bool, options: dict[str, object]) -> LLM:
    """`vllm.LLM` over `base`; an architecture vLLM cannot run becomes a `ModelError`.

    vLLM reports it as a long `ValueError` listing every architecture it knows; the one fact
    that matters (which architecture, and what to do instead) is said here.
    """
    try:
        return LLM(model=base, **options)
    except ValueError:
        architectures = (
            AutoConfig.from_pretrained(base, trust_remote_code=trust_remote_code).architectures
            or []
        )
        if any(name in ModelRegistry.get_supported_archs() for name in architectures):
            raise
        raise ModelError(
            f"vLLM cannot run {base}: its architecture ({', '.join(architectures) or 'none'} "
            "in config.json) is not one this vLLM supports; use the transformers backend "
            "(get_sampler('transformers', ...)), or a vLLM release that lists it"
        ) from None
