"""The configuration of `halo-forge grpo train`: GRPO on TRL, with a halo-forge verifier as reward.

The inputs are those of `raft train` (start model or SFT checkpoint, prompt records with their
tests, verifier, LoRA section), so one prompt file serves both algorithms. The `grpo` section
holds the algorithm's own knobs under TRL's `GRPOConfig` names; `training` the optimizer keys
every recipe shares (`TrainingSection`) plus the step budget and checkpoint cadence.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from halo_forge.config.models import LoRASection, VerifierConfig
from halo_forge.config.sections import (
    Epochs,
    GradientAccumulationSteps,
    LearningRate,
    PerDeviceBatchSize,
    Section,
    TrainingSection,
)

#: TRL's loss aggregations that need no further settings (see docs/training/grpo.md).
LossType = Literal["grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo"]
RewardScaling = Literal["group", "batch", "none"]
GenerationBackend = Literal["transformers", "vllm"]


class GRPOSection(Section):
    num_generations: int = Field(
        4,
        ge=2,
        description=(
            "Completions sampled per prompt: the group whose rewards are compared (advantage = "
            "reward minus the group mean), so at least 2."
        ),
    )
    loss_type: LossType = Field(
        "dapo",
        description=(
            "How token losses are averaged: `grpo` (per sequence, length-biased), `dr_grpo` "
            "(by a constant, Dr. GRPO), `dapo` (by active tokens of the batch, DAPO), `bnpo`, "
            "`cispo` or `sapo`."
        ),
    )
    beta: float = Field(
        0.0,
        ge=0,
        description="KL penalty against the start model; 0 needs no reference model (less memory).",
    )
    epsilon: float = Field(0.2, gt=0, description="Clipping range of the probability ratio.")
    epsilon_high: float | None = Field(
        None, gt=0, description="Upper clipping bound (DAPO's clip-higher: 0.28); None = epsilon."
    )
    scale_rewards: RewardScaling = Field(
        "group",
        description="Divide advantages by the group's reward std (`group`), the batch's, or `none` (Dr. GRPO).",
    )
    max_completion_length: int = Field(256, gt=0, description="Longest completion (tokens).")
    temperature: float = Field(
        1.0, gt=0, description="Sampling temperature; the group needs different samples."
    )
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    reward_timeout: float = Field(
        600.0,
        gt=0,
        description="Seconds one batch's verification may take; samples not verified by then score 0.",
    )
    system_prompt: str | None = Field(
        None, description="System prompt for every generation (none by default)."
    )
    seed: int = Field(42, description="Seed for sampling, data order and initialisation.")


class GRPOGenerationSection(Section):
    backend: GenerationBackend = Field(
        "transformers",
        description=(
            "`transformers` samples with the training model; `vllm` runs vLLM in the training "
            "process (TRL's colocate mode; needs the `vllm` extra and a GPU)."
        ),
    )
    vllm_gpu_memory_utilization: float = Field(
        0.3, gt=0, le=1, description="Share of GPU memory vLLM may take beside training."
    )


class GRPOTrainingSection(TrainingSection):
    num_train_epochs: Epochs = 1.0
    per_device_train_batch_size: PerDeviceBatchSize = 8
    gradient_accumulation_steps: GradientAccumulationSteps = 1
    learning_rate: LearningRate = 1e-5
    max_steps: int | None = Field(
        None, gt=0, description="Optimizer steps; overrides num_train_epochs when set."
    )
    gradient_checkpointing: bool = Field(
        False, description="Trade ~30% speed for much less activation memory on long sequences."
    )
    save_steps: int = Field(
        20, gt=0, description="Checkpoint every N steps (what a killed run resumes from)."
    )
    save_total_limit: int = Field(3, gt=0, description="Keep only the newest N checkpoints.")
    logging_steps: int = Field(
        1, gt=0, description="Log reward, pass and compile rate every N steps."
    )


class GRPOConfig(Section):
    """GRPO (and DAPO, Dr. GRPO) through TRL, rewarded by a halo-forge verifier."""

    sft_checkpoint: str | None = Field(
        None, description="SFT output (adapter or full model) to start from."
    )
    model: str | None = Field(
        None, description="Base model id/path when there is no SFT checkpoint."
    )
    output_dir: str = Field(
        "models/grpo", description="Checkpoints, final_model/, training_log.json, logs/."
    )
    prompts: str | None = Field(
        None, description="JSONL of RLVR prompt records (with their tests)."
    )
    grpo: GRPOSection = Field(default_factory=GRPOSection)
    generation: GRPOGenerationSection = Field(default_factory=GRPOGenerationSection)
    training: GRPOTrainingSection = Field(default_factory=GRPOTrainingSection)
    lora: LoRASection = Field(
        default_factory=LoRASection,
        description=(
            "A new adapter for a full start model, the start adapter continued otherwise; "
            "`enabled: false` trains every weight."
        ),
    )
    verifier: VerifierConfig = Field(default_factory=VerifierConfig)

    @model_validator(mode="after")
    def _batches_hold_whole_groups(self) -> GRPOConfig:
        """A step's completions must be whole groups, or no advantage can be computed."""
        completions = (
            self.training.per_device_train_batch_size * self.training.gradient_accumulation_steps
        )
        if completions % self.grpo.num_generations:
            raise ValueError(
                f"training.per_device_train_batch_size x gradient_accumulation_steps = "
                f"{completions} completions per step, not a multiple of grpo.num_generations "
                f"({self.grpo.num_generations}); make the batch a multiple of it"
            )
        return self
