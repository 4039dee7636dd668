"""`RolloutEngine`: the sampler of a RAFT run, from cycle to cycle, and its memory hand-off.

Each cycle samples from the previous cycle's checkpoint; what that costs depends on the backend
(`generation.backend`):
- transformers: the checkpoint loads into this process for the generation stage and is freed
  before verification, so the compilers and the trainer get the memory.
- vllm: one engine for the run. An adapter checkpoint is sampled as a `LoRARequest` on the base
  the engine already holds (no merge, no reload); a full-weights checkpoint (`lora.enabled:
  false`) needs a new engine. While the cycle verifies and trains, the engine sleeps, closes
  or stays (`generation.vllm.between_cycles`): sleep keeps the weights in CPU RAM and frees
  the GPU but for the CUDA context, close frees everything and the next cycle reloads from
  disk, keep holds weights and KV cache (fastest, when both fit).
- openai: a running server samples; each adapter checkpoint is loaded into it by name. It
  cannot take new full weights, so `RAFTConfig` refuses a full fine-tune with this backend.
"""

from __future__ import annotations

from halo_forge.config.models import RAFTConfig
from halo_forge.generation.base import Sampler
from halo_forge.generation.registry import sampler_from_config
from halo_forge.models.loading import resolve_model_source
from halo_forge.raft.cycle_training import release_memory


class RolloutEngine:
    """Gives each cycle a sampler over its checkpoint (`sampler_for`), frees it in between
    (`pause`) and shuts it down at the end (`close`; `contextlib.closing` for a `with`)."""

    def __init__(
        self, config: RAFTConfig, *, device: str | None = None, dtype: str | None = None
    ) -> None:
        self.generation = config.generation
        self.lora = config.lora
        self.device = device
        self.dtype = dtype
        self._sampler: Sampler | None = None
        self._base: str | None = None  # the weights a vllm engine holds

    def sampler_for(self, checkpoint: str) -> Sampler:
        """A sampler over `checkpoint` (a model, a model directory or an adapter directory)."""
        backend = self.generation.backend
        if backend == "transformers" or self._sampler is None:
            self._sampler = self._start(checkpoint)
            return self._sampler
        source = resolve_model_source(checkpoint)
        if backend == "vllm" and source.base != self._base:
            self.close()
            self._sampler = self._start(checkpoint)
            return self._sampler
        self._sampler.use_adapter(source.adapter_dir)  # type: ignore[attr-defined]
        return self._sampler

    def _start(self, checkpoint: str) -> Sampler:
        max_lora_rank = None
        sleep = False
        if self.generation.backend == "vllm":
            from halo_forge.generation.vllm_backend import (
                adapter_max_rank,
                fitting_lora_rank,
                sleep_mode_available,
            )

            source = resolve_model_source(checkpoint)
            self._base = source.base
            policy = self.generation.vllm.between_cycles
            sleep = policy == "sleep" or (policy == "auto" and sleep_mode_available())
            if self.lora.enabled:
                # Room for every adapter of the run, so later cycles switch without a reload.
                rank = self.lora.r
                if source.adapter_dir is not None:
                    rank = max(rank, adapter_max_rank(source.adapter_dir))
                max_lora_rank = fitting_lora_rank(rank)
        return sampler_from_config(
            self.generation,
            checkpoint,
            batch_size=self.generation.batch_size,
            device=self.device,
            dtype=self.dtype,
            max_lora_rank=max_lora_rank,
            enable_sleep_mode=sleep,
        )

    def pause(self) -> None:
        """Free what generation holds before the cycle verifies and trains (module docstring)."""
        backend = self.generation.backend
        if backend == "transformers":
            self._sampler = None
            release_memory()
        elif backend == "vllm" and self._sampler is not None:
            policy = self.generation.vllm.between_cycles
            if getattr(self._sampler, "can_sleep", False) and policy in ("auto", "sleep"):
                self._sampler.sleep()  # type: ignore[attr-defined]
            elif policy != "keep":
                self.close()

    def close(self) -> None:
        """Shut the engine down (vllm), unload the server's adapter (openai)."""
        if self._sampler is not None:
            self._sampler.close()
        self._sampler = None
        self._base = None
        release_memory()
