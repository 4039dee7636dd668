"""`GRPORunner`: GRPO over a prompt set with TRL's `GRPOTrainer`, resumable after any kill.

    runner = GRPORunner(config=GRPOConfig(model="builtin:tiny-coder", prompts="p.jsonl"))
    runner.run(runner.config.prompts)

The algorithm is TRL's (sampling a group per prompt, group-relative advantages, the clipped
loss of the chosen `loss_type`); this module supplies what halo-forge promises around it, as
`RAFTTrainer` does around its cycles: the verifier is built and every prompt checked against it
before a model loads; the run's settings are fingerprinted, so a rerun resumes only the same
run (`--force` overrides); the model loads as RAFT loads it (an SFT adapter is continued, a
full model gets a new adapter, `lora.enabled: false` trains every weight); checkpoints every
`save_steps` hold the adapter, optimizer and data position, so a rerun after a crash or a
SIGKILL resumes from the newest one; the finished adapter is written to `final_model/` whole
(renamed into place), which `benchmark run --model` loads. Output layout:

    OUTPUT/fingerprint.json, grpo_config.json   the settings of the run
    OUTPUT/checkpoint-N/                        TRL checkpoints (resume points, loadable models)
    OUTPUT/final_model/                         the trained adapter (or model), when finished
    OUTPUT/training_log.json                    reward, pass and compile rate, loss per step
    OUTPUT/logs/                                TensorBoard scalars of the same, per step
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trl
from transformers import PrinterCallback
from transformers.integrations import TensorBoardCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from halo_forge import ui
from halo_forge.config.fingerprint import content_sha256, flatten_settings
from halo_forge.config.grpo import GRPOConfig
from halo_forge.data.records import PromptRecord
from halo_forge.errors import ConfigError
from halo_forge.files import replacing_directory, write_json
from halo_forge.grpo.callbacks import GRPOLogCallback
from halo_forge.grpo.plots import plot_grpo_log
from halo_forge.grpo.prompts import prompt_dataset
from halo_forge.models.device import bf16_supported, resolve_device
from halo_forge.models.loading import (
    FINAL_MODEL_DIR,
    load_model,
    peft_deprecations_silenced,
    start_model,
)
from halo_forge.models.lora import save_model, trainable_model
from halo_forge.paths import TENSORBOARD_DIR, TRAINING_LOG_FILE
from halo_forge.raft.cycle import prompt_records
from halo_forge.raft.fingerprint import check_fingerprint, verifier_identity
from halo_forge.training.hf_trainer import (
    SaveAndStopOnRequest,
    checkpointing_arguments,
    cpu_threads_while,
)
from halo_forge.training.interrupt import StopRequest, TrainingInterrupted
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.integrations.trl_reward import VerifierReward
from halo_forge.verifiers.registry import build_verifier_from_config
from halo_forge.verifiers.requirements import check_prompt_contexts

CONFIG_FILE = "grpo_config.json"
#: Settings that change how a run is watched or stored, never what it learns.
_NOT_FINGERPRINTED = (
    "output_dir",
    "prompts",
    "sft_checkpoint",
    "model",
    "grpo.reward_timeout",
    "training.dataloader_num_workers",
    "training.dataloader_pin_memory",
    "training.cpu_threads",
    "training.report_to",
    "training.save_steps",
    "training.save_total_limit",
    "training.logging_steps",
)


@dataclass(frozen=True)
class GRPOResult:
    """Where the trained model is, and what the run did (for summaries and the demo)."""

    final_checkpoint: Path
    steps: int  # optimizer steps
    completions: int  # samples generated and verified: steps x completions per step
    train_loss: float | None
    mean_reward: float | None  # over the last logged step's completions
    seconds: float | None  # training time of this invocation (None: finished earlier)


def run_fingerprint(
    config: GRPOConfig, prompts: list[PromptRecord], start_model: str
) -> dict[str, Any]:
    """Everything that decides what a checkpoint of this run holds, as a flat dotted map."""
    flat = flatten_settings(config.model_dump(mode="json"))
    for key in _NOT_FINGERPRINTED:
        flat.pop(key, None)
    flat["start_model"] = start_model
    flat["prompts_sha256"] = content_sha256([prompt.to_dict() for prompt in prompts])
    return flat


def completions_per_step(config: GRPOConfig) -> int:
    """Completions one optimizer step samples and verifies (single device)."""
    training = config.training
    return training.per_device_train_batch_size * training.gradient_accumulation_steps


def trl_arguments(config: GRPOConfig, output_dir: Path, device: str | None) -> trl.GRPOConfig:
    """TRL's `GRPOConfig` for this run: the `grpo` and `training` sections under TRL's names."""
    grpo, training, generation = config.grpo, config.training, config.generation
    chosen_device = resolve_device(device)
    vllm: dict[str, Any] = {}
    if generation.backend == "vllm":
        check_vllm_backend(chosen_device.type)
        vllm = {
            "use_vllm": True,
            "vllm_mode": "colocate",
            "vllm_gpu_memory_utilization": generation.vllm_gpu_memory_utilization,
        }
    return trl.GRPOConfig(
        output_dir=str(output_dir),
        num_generations=grpo.num_generations,
        loss_type=grpo.loss_type,
        beta=grpo.beta,
        epsilon=grpo.epsilon,
        epsilon_high=grpo.epsilon_high,
        scale_rewards=grpo.scale_rewards,
        max_completion_length=grpo.max_completion_length,
        temperature=grpo.temperature,
        top_p=grpo.top_p,
        seed=grpo.seed,
        data_seed=grpo.seed,
        learning_rate=training.learning_rate,
        num_train_epochs=training.num_train_epochs,
        max_steps=training.max_steps or -1,
        per_device_train_batch_size=training.per_device_train_batch_size,
        gradient_accumulation_steps=training.gradient_accumulation_steps,
        # TRL turns activation checkpointing on by default; halo-forge leaves it to the config.
        **checkpointing_arguments(training.gradient_checkpointing),
        dataloader_num_workers=training.dataloader_num_workers,
        dataloader_pin_memory=training.dataloader_pin_memory,
        save_strategy="steps",
        save_steps=training.save_steps,
        save_total_limit=training.save_total_limit,
        logging_steps=training.logging_steps,
        # TensorBoard is halo-forge's own callback (it writes to OUTPUT/logs); wandb is the library's.
        report_to=[target for target in training.report_to if target == "wandb"],
        bf16=bf16_supported(chosen_device),
        use_cpu=chosen_device.type == "cpu",
        disable_tqdm=True,
        **vllm,
    )


def check_vllm_backend(device_type: str) -> None:
    """`generation.backend: vllm` needs vLLM and a GPU; say so before a model loads."""
    if importlib.util.find_spec("vllm") is None:
        raise ConfigError(
            "generation.backend is vllm but vLLM is not installed; pip install 'halo-forge[vllm]' "
            "on a GPU machine, or set generation.backend: transformers"
        )
    if device_type != "cuda":
        raise ConfigError(
            f"generation.backend: vllm runs vLLM inside the training process (TRL's colocate "
            f"mode), which needs a CUDA or ROCm GPU, and this run trains on {device_type}; "
            "set generation.backend: transformers"
        )


class GRPORunner:
    """GRPO over a prompt set; see the module docstring.

    `verifier` scores samples; without it one is built from `config.verifier`. Start from
    `sft_checkpoint` (an adapter or full model) or `model`; either overrides the config's.
    """

    def __init__(
        self,
        verifier: Verifier | None = None,
        sft_checkpoint: str | None = None,
        model: str | None = None,
        config: GRPOConfig | None = None,
        output_dir: str | Path | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        force: bool = False,
    ) -> None:
        self.config = config or GRPOConfig()
        self.start_model = start_model(
            sft_checkpoint, model, self.config.sft_checkpoint, self.config.model
        )
        self.output_dir = Path(output_dir or self.config.output_dir)
        self.verifier = verifier
        self.device = device
        self.dtype = dtype
        self.force = force

    @property
    def final_model(self) -> Path:
        return self.output_dir / FINAL_MODEL_DIR

    def plot(self) -> Path:
        """Write `OUTPUT/training_log.png` (reward, pass and compile rate per step)."""
        return plot_grpo_log(self.output_dir, self.reward_name)

    @property
    def reward_name(self) -> str:
        """What the reward is logged as: the verifier's registered name (`VerifierReward`)."""
        if self.verifier is not None:
            return VerifierReward(self.verifier).__name__
        return self.config.verifier.type

    def check_prompts(self, prompts: str | Path | Iterable[PromptRecord | dict[str, Any]]) -> None:
        """Fail now if the verifier cannot be built or a prompt lacks what it needs."""
        verifier = self._checked_verifier(*prompt_records(prompts))
        self._release(verifier)

    def run(self, prompts: str | Path | Iterable[PromptRecord | dict[str, Any]]) -> GRPOResult:
        """Train (or resume, or read back a finished run); returns the final model and numbers.

        Ctrl-C stops after the current step with a checkpoint saved; the same call resumes it.
        """
        records, line_numbers, source = prompt_records(prompts)
        verifier = self._checked_verifier(records, line_numbers, source)
        try:
            return self._train(records, verifier)
        finally:
            self._release(verifier)

    def _checked_verifier(
        self, records: list[PromptRecord], line_numbers: list[int] | None, source: str
    ) -> Verifier:
        """The run's verifier, asked about every prompt before a tokenizer or model loads."""
        settings = self.config.verifier
        verifier = self.verifier or build_verifier_from_config(
            {"type": settings.type, **settings.options()}
        )
        label = (
            f"verifier {type(verifier).__name__}"
            if verifier is self.verifier
            else f"verifier {settings.type!r}"
        )
        try:
            check_prompt_contexts(
                verifier, records, verifier_label=label, source=source, line_numbers=line_numbers
            )
        except BaseException:
            self._release(verifier)
            raise
        return verifier

    def _release(self, verifier: Verifier) -> None:
        """Clean up a verifier this runner built (a passed-in one is its owner's)."""
        if verifier is not self.verifier:
            verifier.cleanup()

    def _train(self, records: list[PromptRecord], verifier: Verifier) -> GRPOResult:
        """The run after its checks: skip it when finished, else train from the last checkpoint."""
        fingerprint = run_fingerprint(self.config, records, self.start_model)
        fingerprint["verifier.instance"] = verifier_identity(self.verifier)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        check_fingerprint(self.output_dir, fingerprint, force=self.force)
        if self.final_model.is_dir():
            ui.echo(f"grpo: finished earlier, skipped ({self.final_model})")
            return self._result(seconds=None)
        write_json(self.output_dir / CONFIG_FILE, self.config.model_dump(mode="json"))
        arguments = trl_arguments(self.config, self.output_dir, self.device)
        lora = self.config.lora
        # A full fine-tune keeps fp32 master weights, as SFT and RAFT do; LoRA trains in the load dtype.
        load_dtype = self.dtype if self.dtype is not None or lora.enabled else "float32"
        model, tokenizer = load_model(
            self.start_model,
            device=self.device,
            dtype=load_dtype,
            adapter_trainable=lora.enabled,
        )
        model = trainable_model(model, lora)
        reward = VerifierReward(verifier, timeout=self.config.grpo.reward_timeout)
        log = GRPOLogCallback(self.output_dir / TRAINING_LOG_FILE, reward.__name__)
        with StopRequest(after="the current step") as stop, peft_deprecations_silenced():
            callbacks = [log, SaveAndStopOnRequest(stop)]
            if "tensorboard" in self.config.training.report_to:
                tensorboard = TensorBoardCallback()
                tensorboard.logging_dir = str(self.output_dir / TENSORBOARD_DIR)
                callbacks.append(tensorboard)
            trainer = trl.GRPOTrainer(
                model=model,
                reward_funcs=reward,
                args=arguments,
                train_dataset=prompt_dataset(records, tokenizer, self.config.grpo.system_prompt),
                processing_class=tokenizer,
                callbacks=callbacks,
            )
            trainer.remove_callback(PrinterCallback)
            resume = get_last_checkpoint(str(self.output_dir))
            if resume is not None:
                ui.echo(f"grpo: resuming from {resume}")
            ui.echo(
                f"grpo: {len(records)} prompts, {self.config.grpo.num_generations} completions "
                f"each, {completions_per_step(self.config)} completions per step"
            )
            start = time.perf_counter()
            threads = self.config.training.cpu_threads if arguments.use_cpu else None
            with cpu_threads_while(threads):  # GRPO samples inside its training loop
                outcome = trainer.train(resume_from_checkpoint=resume)
            seconds = time.perf_counter() - start
        state = trainer.state
        if stop.requested and state.global_step < state.max_steps:
            checkpoint = self.output_dir / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
            raise TrainingInterrupted(checkpoint, state.global_step)
        with replacing_directory(self.final_model) as staging:
            save_model(trainer.model, tokenizer, staging)
        log.write(summary={"global_step": state.global_step, "train_loss": outcome.training_loss})
        return self._result(seconds=seconds)

    def _result(self, seconds: float | None) -> GRPOResult:
        """The result of a finished run, read from its training log."""
        log = json.loads((self.output_dir / TRAINING_LOG_FILE).read_text(encoding="utf-8"))
        rows, summary = log.get("train", []), log.get("summary", {})
        steps = int(summary.get("global_step") or 0)
        return GRPOResult(
            final_checkpoint=self.final_model,
            steps=steps,
            completions=steps * completions_per_step(self.config),
            train_loss=summary.get("train_loss"),
            mean_reward=rows[-1].get("reward") if rows else None,
            seconds=seconds,
        )
