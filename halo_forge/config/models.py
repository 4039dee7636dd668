"""The configuration schema of each stage. Every key is documented here; docs/ is generated from it.

Sections forbid unknown keys, so a typo (`learning_rte`) fails with the key path and the allowed
keys instead of being silently ignored. Defaults are chosen to work on a laptop CPU; the same
keys scale to a GPU cluster.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from halo_forge.config.generation import BackendChoice
from halo_forge.config.sections import (
    Epochs,
    GradientAccumulationSteps,
    LearningRate,
    MaxSeqLength,
    PerDeviceBatchSize,
    Section,
    TrainingSection,
)

# ----------------------------------------------------------------------------- SFT


class ModelSection(Section):
    name: str = Field(
        "Qwen/Qwen2.5-Coder-0.5B",
        description="Hugging Face model id, local directory, or `builtin:tiny-coder`.",
    )
    trust_remote_code: bool = Field(
        False, description="Run the model repository's own Python code (only for repos you trust)."
    )
    attn_implementation: str | None = Field(
        None,
        description="Attention kernel (`sdpa`, `eager`, `flash_attention_2`); None picks the default.",
    )


class SFTDataSection(Section):
    train_file: str | None = Field(
        None, description="JSONL of SFT records (prompt/completion, messages or text)."
    )
    dataset: str | None = Field(
        None, description="A name from `halo-forge sft datasets` instead of a file."
    )
    max_seq_length: MaxSeqLength = 1024
    validation_split: float = Field(
        0.05,
        ge=0.0,
        lt=1.0,
        description="Fraction held out for validation loss and early stopping.",
    )
    max_samples: int | None = Field(
        None, gt=0, description="Use only the first N records (quick runs)."
    )


class SFTTrainingSection(TrainingSection):
    num_train_epochs: Epochs = 3.0
    per_device_train_batch_size: PerDeviceBatchSize = 4
    gradient_accumulation_steps: GradientAccumulationSteps = 4
    learning_rate: LearningRate = 2e-4
    warmup_ratio: float = Field(
        0.03, ge=0, lt=1, description="Fraction of steps with linear warmup."
    )
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping norm.")
    lr_scheduler_type: Literal["cosine", "linear", "constant", "constant_with_warmup"] = Field(
        "cosine", description="Learning-rate schedule after warmup."
    )
    bf16: bool | Literal["auto"] = Field(
        "auto",
        description="bf16 mixed precision; `auto` uses it where the accelerator supports it.",
    )
    gradient_checkpointing: bool = Field(
        False, description="Trade ~30% speed for much less activation memory on long sequences."
    )
    seed: int = Field(
        42, description="Seed for shuffling, initialisation and the validation split."
    )


class LoRASection(Section):
    enabled: bool = Field(True, description="False does a full fine-tune (much more memory).")
    r: int = Field(16, gt=0, description="Adapter rank: capacity vs. memory and overfitting.")
    alpha: int = Field(32, gt=0, description="Scaling; alpha/r is the effective multiplier.")
    dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the adapter input.")
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear",
        description="Modules that get adapters; `all-linear` covers every linear layer.",
    )


class SFTOutputSection(Section):
    dir: str = Field(
        "models/sft", description="Output directory (final_model/, checkpoints, logs/)."
    )
    save_steps: int = Field(500, gt=0, description="Checkpoint every N optimizer steps.")
    save_total_limit: int = Field(3, gt=0, description="Keep only the newest N checkpoints.")
    logging_steps: int = Field(
        10, gt=0, description="Log loss, learning rate and grad norm every N steps."
    )


class EarlyStoppingSection(Section):
    patience: int | None = Field(
        3, ge=1, description="Evaluations without improvement before stopping; null disables it."
    )
    threshold: float = Field(
        0.0, ge=0, description="Minimum validation-loss improvement that counts."
    )


class SFTConfig(Section):
    """Supervised fine-tuning (LoRA by default) on prompt/completion pairs."""

    model: ModelSection = Field(default_factory=ModelSection)
    data: SFTDataSection = Field(default_factory=SFTDataSection)
    training: SFTTrainingSection = Field(default_factory=SFTTrainingSection)
    lora: LoRASection = Field(default_factory=LoRASection)
    output: SFTOutputSection = Field(default_factory=SFTOutputSection)
    early_stopping: EarlyStoppingSection = Field(default_factory=EarlyStoppingSection)


# ----------------------------------------------------------------------------- verifier


class VerifierConfig(BaseModel):
    """Which verifier scores the samples, plus its own options (checked against the verifier's schema)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    type: str = Field(
        "gcc", description="Registered verifier name (`halo-forge verify --help` lists them)."
    )

    def options(self) -> dict[str, object]:
        """The verifier's own options (everything but `type`)."""
        return dict(self.model_extra or {})


# ----------------------------------------------------------------------------- RAFT

Curriculum = Literal["none", "progressive", "adaptive", "historical"]
#: `keep_top_percent` holds a fraction; `keep_top_fraction` says so and is accepted as well.
KEEP_TOP_ALIASES = AliasChoices("keep_top_percent", "keep_top_fraction")
RewardShaping = Literal["fixed", "annealing", "adaptive", "warmup"]


class RAFTLoopSection(Section):
    num_cycles: int = Field(5, gt=0, description="Generate -> verify -> filter -> train cycles.")
    samples_per_prompt: int = Field(
        8, gt=0, description="More samples find more passes but cost linearly."
    )
    reward_threshold: float = Field(
        0.5, ge=0, le=1, description="Keep samples with reward >= this (1.0 = only fully correct)."
    )
    keep_top_percent: float = Field(
        0.5,
        gt=0,
        le=1,
        validation_alias=KEEP_TOP_ALIASES,
        description=(
            "A fraction in (0, 1], not a percentage: the share of the above-threshold samples "
            "kept, best first (0.5 keeps the best half). Alias: `keep_top_fraction`."
        ),
    )
    min_samples: int = Field(
        0, ge=0, description="If fewer pass, lower the threshold tier by tier (never to reward 0)."
    )
    curriculum: Curriculum = Field("none", description="Which prompts each cycle sees.")
    reward_shaping: RewardShaping = Field(
        "fixed", description="How threshold and keep fraction move across cycles."
    )
    system_prompt: str | None = Field(
        None, description="System prompt for every generation (none by default)."
    )
    seed: int = Field(42, description="Seed for sampling and fair tie-breaking.")


class GenerationSection(BackendChoice):
    max_new_tokens: int = Field(1024, gt=0, description="Longest completion (tokens).")
    temperature: float = Field(0.7, ge=0, description="Higher explores more; 0 is greedy.")
    top_p: float = Field(0.95, gt=0, le=1, description="Nucleus sampling mass.")
    batch_size: int = Field(
        8,
        gt=0,
        description=(
            "Prompts per generate call: memory vs. throughput on transformers; on vllm and "
            "openai, how many prompts go to the engine before finished samples are saved."
        ),
    )


class RAFTTrainingSection(TrainingSection):
    num_train_epochs: Epochs = 1.0
    per_device_train_batch_size: PerDeviceBatchSize = 2
    gradient_accumulation_steps: GradientAccumulationSteps = 8
    learning_rate: LearningRate = 5e-5
    max_seq_length: MaxSeqLength = 1024
    learning_rate_schedule: dict[str, float] | None = Field(
        None,
        description="Manual per-cycle rates: `{cycle_1: 5e-5, cycle_2: 3e-5}`; overrides decay.",
    )
    lr_decay: float = Field(
        1.0, gt=0, le=1, description="Per-cycle multiplier: lr * decay**(cycle-1)."
    )
    min_lr: float = Field(1e-6, ge=0, description="Floor of the decayed learning rate.")

    @field_validator("learning_rate_schedule")
    @classmethod
    def _schedule_keys_name_cycles(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return value
        for key, rate in value.items():
            if not re.fullmatch(r"cycle_[1-9]\d*", key):
                raise ValueError(f"schedule key {key!r} must look like 'cycle_1', 'cycle_2', ...")
            if rate <= 0:
                raise ValueError(f"learning rate for {key} must be > 0, got {rate}")
        return value


class CycleOverride(Section):
    """Per-cycle overrides (a curriculum written out by hand); unset keys keep the run's values."""

    verifier: VerifierConfig | None = None
    run_after_compile: bool | None = Field(
        None, description="This cycle's run_after_compile (e.g. compile-only first, then run)."
    )
    reward_threshold: float | None = Field(
        None, ge=0, le=1, description="This cycle's minimum reward for a sample to be kept."
    )
    keep_top_percent: float | None = Field(
        None,
        gt=0,
        le=1,
        validation_alias=KEEP_TOP_ALIASES,
        description=(
            "This cycle's fraction in (0, 1] of above-threshold samples kept. "
            "Alias: `keep_top_fraction`."
        ),
    )
    temperature: float | None = Field(None, ge=0, description="This cycle's sampling temperature.")


class RAFTConfig(Section):
    """Reward-ranked fine-tuning: cycles of generate, verify, filter, train."""

    sft_checkpoint: str | None = Field(
        None, description="SFT output (adapter or full model) to start from."
    )
    model: str | None = Field(
        None, description="Base model id/path when there is no SFT checkpoint."
    )
    output_dir: str = Field(
        "models/raft", description="Per-cycle directories and training_log.json."
    )
    prompts: str | None = Field(
        None, description="JSONL of RLVR prompt records (with their tests)."
    )
    raft: RAFTLoopSection = Field(default_factory=RAFTLoopSection)
    generation: GenerationSection = Field(default_factory=GenerationSection)
    training: RAFTTrainingSection = Field(default_factory=RAFTTrainingSection)
    lora: LoRASection = Field(
        default_factory=LoRASection,
        description=(
            "How each cycle trains: a new adapter for a full start model, the start adapter "
            "continued otherwise; `enabled: false` fine-tunes every weight (an adapter is merged)."
        ),
    )
    verifier: VerifierConfig = Field(default_factory=VerifierConfig)
    cycles: list[CycleOverride] = Field(
        default_factory=list, description="Overrides for cycle 1, 2, ..."
    )

    @model_validator(mode="after")
    def _cycles_fit_the_run(self) -> RAFTConfig:
        if len(self.cycles) > self.raft.num_cycles:
            raise ValueError(
                f"cycles lists {len(self.cycles)} overrides but raft.num_cycles is "
                f"{self.raft.num_cycles}; add cycles or remove overrides"
            )
        return self

    @model_validator(mode="after")
    def _served_model_takes_adapters_only(self) -> RAFTConfig:
        if self.generation.backend == "openai" and not self.lora.enabled:
            raise ValueError(
                "generation.backend openai samples the server's fixed weights, but lora.enabled "
                "false gives every cycle new full weights; use the vllm or transformers backend, "
                "or train LoRA adapters (the server loads each one)"
            )
        return self


# ----------------------------------------------------------------------------- benchmark


class BenchmarkConfig(BackendChoice):
    """Sampling-based evaluation: pass@k (unbiased estimator), compile rate, per-category results."""

    model: str | None = Field(None, description="Model id, directory or adapter to evaluate.")
    prompts: str | None = Field(None, description="JSONL of RLVR prompt records.")
    verifier: VerifierConfig = Field(default_factory=VerifierConfig)
    samples: int = Field(10, gt=0, description="Samples per prompt (n); needs n >= max(k).")
    k: list[int] = Field(default_factory=lambda: [1, 5, 10], description="pass@k values to report.")
    max_prompts: int | None = Field(None, gt=0, description="Evaluate only the first N prompts.")
    temperature: float = Field(
        0.2, ge=0, description="Sampling temperature (0.2 is customary for pass@1)."
    )
    top_p: float = Field(0.95, gt=0, le=1, description="Nucleus sampling mass.")
    max_new_tokens: int = Field(512, gt=0, description="Longest completion (tokens).")
    batch_size: int = Field(8, gt=0, description="Prompts per generate call.")
    output: str = Field(
        "results/benchmark.json", description="Result JSON (per-sample file beside it)."
    )

    @field_validator("k")
    @classmethod
    def _k_positive(cls, value: list[int]) -> list[int]:
        if not value or any(k <= 0 for k in value):
            raise ValueError("k must be a non-empty list of positive integers, e.g. [1, 5, 10]")
        return sorted(set(value))
