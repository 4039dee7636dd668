"""The demo's settings: every number that shapes a demo run, loaded from a commented YAML preset.

`halo_forge/demo/presets/demo.yaml` is what `halo-forge demo` runs (<= 10 minutes on a 2-core CPU with the
embedded model) and says why each number is what it is; `--quick` applies
`halo_forge/demo/presets/quick.yaml` on top (<= 2 minutes). Both go through the one config loader, so
`--language`, `--cycles`, `--seed`, `--model` and `--set key=value` override a key the same way
they do for `raft train`. The same settings drive a real model on a GPU
(`--model Qwen/Qwen2.5-Coder-0.5B`); only the fine-tuning mode follows the model (`uses_lora`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from halo_forge.config.loader import load_config, load_yaml
from halo_forge.models.tiny import TINY_MODEL_NAME

#: The preset files ship inside the package, so an installed halo-forge finds them too.
PRESETS_DIR = Path(__file__).resolve().parent / "presets"
DEFAULT_PRESET = PRESETS_DIR / "demo.yaml"
QUICK_PRESET = PRESETS_DIR / "quick.yaml"


class DemoSettings(BaseModel):
    """What a demo run does and how big each stage is.

    The tasks are split by prompt text into three disjoint parts: SFT pairs (prompt plus
    reference solution), RAFT prompts (tests only, no solution) and held-out prompts that only
    the benchmarks see.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Literal["raft", "grpo"] = Field(
        "raft", description="What trains on the RAFT prompts: RAFT, or GRPO in its place."
    )
    language: Literal["c", "python"] = Field(
        "c", description="c: gcc compiles and runs; python: the tests run."
    )
    model: str = Field(TINY_MODEL_NAME, description="The model to train.")
    backend: Literal["transformers", "vllm"] = Field(
        "transformers",
        description="Sampler of the training rollouts and both benchmarks (vllm: needs vLLM).",
    )
    seed: int = Field(0, description="Seed of the tasks, the split, training and sampling.")
    cycles: int = Field(3, gt=0, description="RAFT cycles (more extend a finished run).")
    task_count: int = Field(gt=0, description="Tasks generated before the split.")
    heldout_tasks: int = Field(gt=0, description="Prompts only the benchmarks see.")
    raft_tasks: int = Field(gt=0, description="Prompts RAFT samples from (no solutions).")
    sft_epochs: float = Field(gt=0, description="Passes over the SFT pairs.")
    sft_learning_rate: float = Field(gt=0, description="SFT learning rate.")
    sft_batch_size: int = Field(gt=0, description="SFT samples per step.")
    raft_samples_per_prompt: int = Field(gt=0, description="RAFT samples per prompt per cycle.")
    raft_temperature: float = Field(ge=0, description="RAFT sampling temperature.")
    raft_epochs: int = Field(gt=0, description="Passes over each cycle's kept samples.")
    raft_learning_rate: float = Field(gt=0, description="RAFT learning rate.")
    raft_batch_size: int = Field(gt=0, description="RAFT samples per training step.")
    raft_reward_threshold: float = Field(ge=0, le=1, description="Lowest reward kept.")
    grpo_num_generations: int = Field(gt=1, description="GRPO completions per prompt (a group).")
    grpo_completions_per_step: int = Field(
        gt=0, description="GRPO completions per optimizer step (whole groups)."
    )
    grpo_learning_rate: float = Field(gt=0, description="GRPO learning rate (LoRA).")
    grpo_loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = Field(
        description="GRPO's loss aggregation (`GRPOConfig.grpo.loss_type`)."
    )
    benchmark_samples: int = Field(gt=0, description="Benchmark samples per prompt (n).")
    benchmark_k: list[int] = Field(min_length=1, description="pass@k values to report.")
    benchmark_temperature: float = Field(ge=0, description="Benchmark sampling temperature.")
    max_new_tokens: int = Field(gt=0, description="Longest completion (tokens), everywhere.")
    generation_batch_size: int = Field(gt=0, description="Prompts per generate call.")

    def fingerprint_settings(self) -> dict[str, Any]:
        """The settings a resumed run must share with the one that wrote its files.

        `cycles` is left out: running more cycles over a finished run extends it; so are
        `algorithm` and the `grpo_` keys: RAFT and GRPO share one run's data, SFT model and
        baseline (a paired comparison), and the GRPO directory guards its own settings; and
        `backend`, which the RAFT, GRPO and benchmark stages each guard in their own files.
        """
        grpo_keys = {name for name in type(self).model_fields if name.startswith("grpo_")}
        return self.model_dump(mode="json", exclude={"cycles", "algorithm", "backend", *grpo_keys})

    def grpo_steps(self) -> int:
        """GRPO's optimizer steps: as many completions as RAFT samples in its `cycles`.

        RAFT generates cycles x RAFT prompts x samples per prompt; GRPO gets the same number
        of generated (and verified) completions, `grpo_completions_per_step` per step.
        """
        samples = self.cycles * self.raft_tasks * self.raft_samples_per_prompt
        return math.ceil(samples / self.grpo_completions_per_step)


def load_preset(
    path: str | Path | None = None, *, quick: bool = False, overrides: dict[str, Any] | None = None
) -> DemoSettings:
    """The settings of `path` (default `halo_forge/demo/presets/demo.yaml`), then `--quick`'s, then `overrides`.

    `overrides` maps keys to values as the CLI gives them (None: not given).
    """
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    quick_keys = load_yaml(QUICK_PRESET) if quick else {}
    return load_config(DemoSettings, path or DEFAULT_PRESET, {**quick_keys, **given})


def uses_lora(model: str) -> bool:
    """LoRA for a pretrained model, a full fine-tune for the embedded one.

    The embedded model starts from random weights: an adapter over random weights has almost
    nothing to steer, so SFT trains all of its two million parameters instead.
    """
    return model != TINY_MODEL_NAME


def cpu_threads(model: str) -> int | None:
    """Intra-op threads for the embedded model's sampling (1); None keeps torch's default for
    others.

    The embedded model's matrices are so small that a second thread mostly synchronises: with
    OpenMP's threads sleeping when idle (`OMP_WAIT_POLICY=PASSIVE`, which the demo command
    sets), two threads sample no faster than one on an idle 2-core machine (0.97x) and slower
    beside a busy process (0.79x); with spinning threads, torch's default, 1.6x as fast idle
    but 14x slower beside a busy process (`benchmarks/cpu_threads.py`). One thread bounds the
    demo's time on a shared machine.
    """
    return 1 if model == TINY_MODEL_NAME else None


def training_threads(model: str) -> int | None:
    """Intra-op threads while the embedded model trains (SFT, RAFT cycles): two where the
    machine has them; None keeps the process's setting for other models.

    Training's larger matrices do use a second thread: with sleeping OpenMP threads, SFT ran
    1.5x as fast on two threads on an idle 2-core machine, and 0.89x beside a busy process
    (`benchmarks/cpu_threads.py`), a bounded loss for a large gain.
    """
    return min(2, os.cpu_count() or 1) if model == TINY_MODEL_NAME else None
