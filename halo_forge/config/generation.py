"""Which engine samples completions, and that engine's own settings.

`BackendChoice` is the part of a config that names the sampler backend (`backend:`) and holds
the options of the two engines that have any (`vllm:`, `openai:`); RAFT's `generation` section
and the benchmark config both build on it, so `--set generation.backend=vllm` and
`--backend vllm` mean the same everywhere. The options of a backend not chosen are ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from halo_forge.config.sections import Section

SamplerBackend = Literal["transformers", "vllm", "openai"]
BetweenCycles = Literal["auto", "sleep", "close", "keep"]


class VLLMSection(Section):
    """Engine options of the `vllm` backend (a `vllm.LLM` in this process)."""

    gpu_memory_utilization: float | None = Field(
        None,
        gt=0,
        le=1,
        description=(
            "Fraction of GPU memory vLLM reserves (weights + KV cache); lower it when training "
            "shares the GPU. None: vLLM's default on a GPU, a 1 GiB KV cache on a CPU."
        ),
    )
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one model is split over.")
    max_model_len: int | None = Field(
        None, gt=0, description="Longest prompt + completion; smaller needs less KV cache."
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Weights and compute; auto is bf16 where supported, else float32."
    )
    enable_prefix_caching: bool | None = Field(
        None, description="Reuse the KV cache of shared prompt prefixes; None: vLLM's default."
    )
    max_lora_rank: int | None = Field(
        None,
        gt=0,
        description=(
            "Largest adapter rank the engine reserves room for (8, 16, 32, 64, ...); None fits "
            "the run's `lora.r` or the start adapter."
        ),
    )
    between_cycles: BetweenCycles = Field(
        "auto",
        description=(
            "What the engine does while RAFT verifies and trains: `sleep` (weights to CPU RAM, "
            "KV cache freed; CUDA/ROCm only), `close` (all freed, reloaded next cycle), `keep` "
            "(stays loaded: fastest, needs memory for both). auto: sleep where vLLM can, else close."
        ),
    )


class OpenAISection(Section):
    """Where the `openai` backend sends requests: any OpenAI-compatible completions server."""

    base_url: str = Field(
        "http://127.0.0.1:8000/v1",
        description="The server's API root (vllm serve, SGLang, llama.cpp server), ending in /v1.",
    )
    model: str | None = Field(
        None, description="Served model name; None uses the server's only model."
    )
    api_key_env: str = Field(
        "OPENAI_API_KEY",
        description="Environment variable holding the API key (unset: no key is sent).",
    )
    max_concurrency: int = Field(8, ge=1, description="Requests in flight at once.")
    timeout: float = Field(600.0, gt=0, description="Seconds one request may take.")


class BackendChoice(Section):
    """The sampler backend and its engine options (see the module docstring)."""

    backend: SamplerBackend = Field(
        "transformers",
        description=(
            "`transformers` (any model, in this process), `vllm` (much faster on a GPU; needs "
            "vLLM installed) or `openai` (a running OpenAI-compatible server)."
        ),
    )
    vllm: VLLMSection = Field(default_factory=VLLMSection)
    openai: OpenAISection = Field(default_factory=OpenAISection)

    def fingerprint_keys(self) -> dict[str, object]:
        """The engine settings that decide which samples a seeded run draws, for resume checks.

        The default backend adds none, so runs stored before backends existed still resume;
        memory, concurrency and connection settings are left out: they decide how fast, not what.
        """
        if self.backend == "vllm":
            engine = self.vllm
            return {
                "backend": "vllm",
                "vllm.dtype": engine.dtype,
                "vllm.max_model_len": engine.max_model_len,
                "vllm.tensor_parallel_size": engine.tensor_parallel_size,
            }
        if self.backend == "openai":
            return {"backend": "openai", "openai.model": self.openai.model}
        return {}


#: The keys of `BackendChoice`, which fingerprints replace with `fingerprint_keys()`.
BACKEND_KEYS = frozenset(BackendChoice.model_fields)
