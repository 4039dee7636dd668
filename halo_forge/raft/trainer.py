"""`RAFTTrainer`: cycles of generate -> verify -> filter -> train, resumable at every stage.

    trainer = RAFTTrainer(verifier=verifier, sft_checkpoint="models/sft/final_model")
    trainer.run(prompts, num_cycles=5)

Each cycle samples from the previous cycle's adapter (cycle 1 from the start model), scores the
samples with the verifier, keeps the best (`filtering`) and trains the same LoRA adapter onward
on them (`training.sft.train_on_records`) at the cycle's learning rate (`strategies`), or every
weight with `lora.enabled: false` (each cycle then saves a whole model). The
files of a cycle (`cycle`) are the state: running the same command again skips finished work.
The model is loaded for generation, freed before verification, and loaded again for training,
so the verifier's compilers and test runners get the memory while they work.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from halo_forge import ui
from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import read_jsonl, write_json, write_jsonl
from halo_forge.data.records import PromptRecord, RecordKind, parse_record, read_records
from halo_forge.data.templates import format_prompt
from halo_forge.errors import ConfigError, DataError
from halo_forge.generation.transformers_backend import TransformersSampler
from halo_forge.models.loading import load_model, load_tokenizer
from halo_forge.models.lora import save_model, trainable_model
from halo_forge.raft import report
from halo_forge.raft.cycle import (
    CyclePaths,
    CyclePrompt,
    StopRequest,
    generate_samples,
    prompt_key,
    read_verified,
    samples_complete,
    timed,
    verification_summary,
    verify_samples,
)
from halo_forge.raft.filtering import filter_samples
from halo_forge.raft.fingerprint import check_fingerprint, run_fingerprint
from halo_forge.raft.plots import RUN_LOG_FILE
from halo_forge.raft.report import NOTHING_KEPT
from halo_forge.raft.strategies import CycleSettings, cycle_settings, pass_history, select_prompts
from halo_forge.training.sft import FINAL_MODEL_DIR, sft_template, train_on_records
from halo_forge.training.trainer import TRAINING_LOG_FILE
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.registry import build_verifier_from_config
from halo_forge.verifiers.requirements import check_prompt_contexts

CONFIG_FILE = "raft_config.json"


@dataclass(frozen=True)
class RAFTResult:
    """Where the run's last adapter is, and one stats row per cycle."""

    final_checkpoint: Path
    cycles: list[dict[str, Any]]


class RAFTTrainer:
    """Reward-ranked fine-tuning over a prompt set; see the module docstring.

    `verifier` scores samples; without it one is built from `config.verifier`. A `cycles:`
    entry that changes the verifier builds that cycle's own. Start from `sft_checkpoint` (an
    adapter or full model) or `model`; either overrides the config's value.
    """

    def __init__(
        self,
        verifier: Verifier | None = None,
        sft_checkpoint: str | None = None,
        model: str | None = None,
        config: RAFTConfig | None = None,
        output_dir: str | Path | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        force: bool = False,
    ) -> None:
        self.config = config or RAFTConfig()
        start = sft_checkpoint or model or self.config.sft_checkpoint or self.config.model
        if start is None:
            raise ConfigError(
                "no model to start from: pass sft_checkpoint=... (--checkpoint) or model=... "
                "(--model), or set sft_checkpoint/model in the config"
            )
        self.start_model = str(start)
        self.output_dir = Path(output_dir or self.config.output_dir)
        self.verifier = verifier
        self.device = device
        self.dtype = dtype
        self.force = force

    def run(
        self,
        prompts: str | Path | Iterable[PromptRecord | dict[str, Any]],
        num_cycles: int | None = None,
    ) -> RAFTResult:
        """Run (or resume) the cycles; returns the final adapter and the per-cycle stats.

        `prompts` is a JSONL path or RLVR prompt records; `num_cycles` overrides
        `raft.num_cycles` (a larger count extends a finished run).

        Ctrl-C stops after the current generation or verification batch; the finished work
        stays on disk and the same call resumes it.
        """
        records, line_numbers, source = _prompt_records(prompts)
        if num_cycles is not None:
            # Strategies that span the run (annealing, progressive) plan with this count too.
            self.config = self.config.model_copy(deep=True)
            self.config.raft.num_cycles = num_cycles
        verifiers = self._checked_verifiers(records, line_numbers, source)
        try:
            return self._run_cycles(records, verifiers)
        finally:
            self._release(verifiers.values())

    def check_prompts(self, prompts: str | Path | Iterable[PromptRecord | dict[str, Any]]) -> None:
        """Fail now if a verifier of the run cannot be built or a prompt lacks what it needs.

        `run` checks this itself before loading the model; a caller with work to do before
        `run` (a baseline benchmark) calls it first, so the run cannot fail hours later.
        """
        records, line_numbers, source = _prompt_records(prompts)
        self._release(self._checked_verifiers(records, line_numbers, source).values())

    def _checked_verifiers(
        self, records: list[PromptRecord], line_numbers: list[int] | None, source: str
    ) -> dict[int, Verifier]:
        """Each cycle's verifier, built now and asked about every prompt.

        Building checks the names, options and toolchains of the run's verifier and of every
        `cycles:` override; asking checks that each prompt carries what its verifier needs
        (tests, a known task id). Both fail in seconds, before a tokenizer or model loads.
        """
        verifiers = self._cycle_verifiers()
        try:
            checked: set[int] = set()
            for cycle, verifier in verifiers.items():
                if id(verifier) in checked:
                    continue
                checked.add(id(verifier))
                name = cycle_settings(self.config, cycle).verifier.type
                label = f"verifier {name!r}" + ("" if cycle == 1 else f" of cycle {cycle}")
                if verifier is self.verifier:
                    label = f"verifier {type(verifier).__name__}"
                check_prompt_contexts(
                    verifier,
                    records,
                    verifier_label=label,
                    source=source,
                    line_numbers=line_numbers,
                )
        except BaseException:
            self._release(verifiers.values())
            raise
        return verifiers

    def _cycle_verifiers(self) -> dict[int, Verifier]:
        """The verifier of each cycle: the passed-in one for the run's config, else built once
        per distinct config (the run's and each `cycles:` override's)."""
        built: dict[str, Verifier] = {}
        by_cycle: dict[int, Verifier] = {}
        try:
            for cycle in range(1, self.config.raft.num_cycles + 1):
                settings = cycle_settings(self.config, cycle).verifier
                if self.verifier is not None and settings == self.config.verifier:
                    by_cycle[cycle] = self.verifier
                    continue
                config = {"type": settings.type, **settings.options()}
                key = json.dumps(config, sort_keys=True, default=str)
                if key not in built:
                    built[key] = build_verifier_from_config(config)
                by_cycle[cycle] = built[key]
        except BaseException:
            self._release(built.values())
            raise
        return by_cycle

    def _release(self, verifiers: Iterable[Verifier]) -> None:
        """Clean up the verifiers this trainer built (a passed-in one is its owner's); each
        stays usable and starts its workers again on its next batch."""
        for verifier in {id(verifier): verifier for verifier in verifiers}.values():
            if verifier is not self.verifier:
                verifier.cleanup()

    def _run_cycles(
        self, records: list[PromptRecord], verifiers: dict[int, Verifier]
    ) -> RAFTResult:
        """The cycles of `run`, after its checks: skip the finished ones, run the others."""
        cycles = self.config.raft.num_cycles
        fingerprint = run_fingerprint(self.config, records, self.start_model)
        fingerprint["verifier.instance"] = _verifier_identity(self.verifier)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        check_fingerprint(self.output_dir, fingerprint, force=self.force)
        write_json(self.output_dir / CONFIG_FILE, self.config.model_dump(mode="json"))
        tokenizer = load_tokenizer(self.start_model)
        template = sft_template(tokenizer)
        loop = self.config.raft
        all_prompts = []
        for index, record in enumerate(records):
            system_prompt = loop.system_prompt or record.system_prompt
            text = format_prompt(record.prompt, system_prompt, template)
            all_prompts.append(CyclePrompt(prompt_key(index, record), text, record, system_prompt))
        rows: list[dict[str, Any]] = []
        checkpoint = self.start_model
        for cycle in range(1, cycles + 1):
            paths = CyclePaths(self.output_dir, cycle)
            previous = rows[-1] if rows else None
            if paths.is_finished():
                ui.echo(f"cycle {cycle}: finished earlier, skipped ({paths.checkpoint})")
                row = json.loads(paths.stats.read_text(encoding="utf-8"))
            else:
                row = self._run_cycle(paths, all_prompts, checkpoint, previous, verifiers[cycle])
                ui.echo(report.cycle_table(row))
                report.write_scalars(self.output_dir, row)
                warning = report.degradation_warning(previous, row)
                if warning:
                    ui.echo(f"warning: {warning}", style="yellow")
            rows.append(row)
            checkpoint = str(paths.checkpoint)
            write_json(self.output_dir / RUN_LOG_FILE, rows)
        return RAFTResult(Path(checkpoint), rows)

    def _run_cycle(
        self,
        paths: CyclePaths,
        all_prompts: list[CyclePrompt],
        checkpoint: str,
        previous: dict[str, Any] | None,
        verifier: Verifier,
    ) -> dict[str, Any]:
        cycle = paths.cycle
        loop = self.config.raft
        settings = cycle_settings(
            self.config, cycle, previous["pass_rate"] if previous is not None else None
        )
        history = pass_history(
            [
                read_jsonl(CyclePaths(self.output_dir, earlier).verified)
                for earlier in range(1, cycle)
            ]
        )
        chosen = select_prompts(
            loop.curriculum,
            [prompt.key for prompt in all_prompts],
            [prompt.record.difficulty for prompt in all_prompts],
            cycle,
            loop.num_cycles,
            history,
        )
        prompts = [all_prompts[index] for index in chosen]
        ui.echo(
            f"cycle {cycle}: {len(prompts)} prompts x {loop.samples_per_prompt} samples, "
            f"threshold {settings.reward_threshold:g}, keep {settings.keep_top_percent:.2f}, "
            f"lr {settings.learning_rate:.2e}"
        )
        stats: dict[str, Any] = {"cycle": cycle, "prompts": len(prompts)}
        with StopRequest() as stop:
            if not samples_complete(paths.samples, prompts, loop.samples_per_prompt):
                tokens, seconds = timed(
                    lambda: self._generate(paths, prompts, checkpoint, settings, stop)
                )
                release_memory()  # the model went out of scope with `_generate`
                stats |= {
                    "generation_seconds": seconds,
                    "generation_tokens_per_second": tokens / seconds if seconds else None,
                }
            try:
                verified_count, seconds = timed(
                    lambda: verify_samples(
                        paths.samples, paths.verified, prompts, verifier, stop=stop
                    )
                )
            finally:
                self._release([verifier])  # its worker processes give training the memory
            if verified_count:
                stats |= {
                    "verification_seconds": seconds,
                    "verification_samples_per_second": verified_count / seconds
                    if seconds
                    else None,
                }
        verified = read_verified(paths.verified, paths.samples)
        stats |= verification_summary(verified)
        kept = filter_samples(
            verified,
            settings.reward_threshold,
            settings.keep_top_percent,
            min_samples=loop.min_samples,
            seed=loop.seed + cycle,
        )
        if not paths.kept.is_file():
            write_jsonl(paths.kept, kept.kept)
        ui.echo(
            f"cycle {cycle}: kept {len(kept.kept)} of {kept.unique_samples} unique samples "
            f"(threshold {kept.effective_threshold:g})"
        )
        if not kept.kept:
            ui.echo(
                f"cycle {cycle}: {NOTHING_KEPT} (no sample reached reward "
                f"{kept.effective_threshold:g}); the model carries over unchanged. To learn from "
                "partial answers, lower raft.reward_threshold or set raft.min_samples",
                style="yellow",
            )
        stats |= {
            "unique_samples": kept.unique_samples,
            "candidates": kept.candidates,
            "kept": len(read_jsonl(paths.kept)),
            "effective_threshold": kept.effective_threshold,
            "reward_threshold": settings.reward_threshold,
            "keep_top_percent": settings.keep_top_percent,
            "learning_rate": settings.learning_rate,
        }
        stats |= self._train(paths, checkpoint, settings)
        stats["checkpoint"] = str(paths.checkpoint)
        write_json(paths.stats, stats)
        return stats

    def _generate(
        self,
        paths: CyclePaths,
        prompts: list[CyclePrompt],
        checkpoint: str,
        settings: CycleSettings,
        stop: StopRequest,
    ) -> int:
        """Sample the missing batches from `checkpoint`; returns the tokens generated."""
        generation = self.config.generation
        samples_per_prompt = self.config.raft.samples_per_prompt
        model, tokenizer = load_model(checkpoint, device=self.device, dtype=self.dtype)
        sampler = TransformersSampler(model, tokenizer, batch_size=generation.batch_size)

        def sample_batch(texts: list[str], seed: int) -> list[list[str]]:
            return sampler.generate(
                texts,
                n=samples_per_prompt,
                temperature=settings.temperature,
                top_p=generation.top_p,
                max_new_tokens=generation.max_new_tokens,
                seed=seed,
            )

        generate_samples(
            paths.samples,
            prompts,
            sample_batch,
            samples_per_prompt=samples_per_prompt,
            batch_size=generation.batch_size,
            seed=self.config.raft.seed + 100_000 * paths.cycle,
            stop=stop,
        )
        return sampler.tokens_generated

    def _train(self, paths: CyclePaths, checkpoint: str, settings: CycleSettings) -> dict[str, Any]:
        """Train the adapter onward on the kept samples, unless the cycle's adapter exists."""
        if paths.checkpoint.is_dir():
            return _training_numbers(paths)
        trained, timing = self._train_adapter(paths, checkpoint, settings)
        release_memory()  # the model went out of scope with `_train_adapter`
        # The rename is the commit point: a cycle_N_final directory is always a whole adapter.
        os.replace(trained, paths.checkpoint)
        return _training_numbers(paths) | timing

    def _train_adapter(
        self, paths: CyclePaths, checkpoint: str, settings: CycleSettings
    ) -> tuple[Path, dict[str, Any]]:
        """Load `checkpoint` trainable, train on `kept.jsonl`; (adapter dir, timing numbers)."""
        kept = read_jsonl(paths.kept)
        lora = self.config.lora
        # A full fine-tune keeps fp32 master weights, as SFT does; LoRA trains in the load dtype.
        dtype = self.dtype if self.dtype is not None or lora.enabled else "float32"
        model, tokenizer = load_model(
            checkpoint, device=self.device, dtype=dtype, adapter_trainable=lora.enabled
        )
        if not kept:  # the next cycle starts from an unchanged copy, saved as this cycle's
            model = trainable_model(model, lora)
            return save_model(model, tokenizer, paths.train_dir / FINAL_MODEL_DIR), {}
        training = self.config.training
        start = time.perf_counter()
        result = train_on_records(
            model,
            tokenizer,
            [_training_record(record) for record in kept],
            paths.train_dir,
            learning_rate=settings.learning_rate,
            epochs=training.epochs,
            batch_size=training.batch_size,
            gradient_accumulation_steps=training.gradient_accumulation_steps,
            seed=self.config.raft.seed + paths.cycle,
            device=self.device,
            dataloader_num_workers=training.dataloader_num_workers,
            dataloader_pin_memory=training.dataloader_pin_memory,
            report_to=training.report_to,
            lora=lora,
        )
        timing = {
            "training_seconds": time.perf_counter() - start,
            "training_tokens_per_second": result.outcome.tokens_per_second,
        }
        return result.final_model_dir, timing


def release_memory() -> None:
    """Give freed model memory back (CUDA keeps freed blocks cached otherwise)."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _training_numbers(paths: CyclePaths) -> dict[str, Any]:
    """Final train loss and last grad norm from the cycle trainer's log, when it trained."""
    log_path = paths.train_dir / TRAINING_LOG_FILE
    if not log_path.is_file():
        return {"train_loss": None, "grad_norm": None}
    log = json.loads(log_path.read_text(encoding="utf-8"))
    norms = [entry["grad_norm"] for entry in log.get("train", []) if "grad_norm" in entry]
    return {
        "train_loss": log.get("summary", {}).get("train_loss"),
        "grad_norm": norms[-1] if norms else None,
    }


def _training_record(kept: dict[str, Any]) -> dict[str, Any]:
    """The SFT record of a kept sample, with the system prompt it was generated under."""
    system_prompt = kept.get("system_prompt")
    if not system_prompt:
        return {"prompt": kept["prompt"], "completion": kept["completion"]}
    return {
        "messages": [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": kept["prompt"]},
            {"role": "assistant", "content": kept["completion"]},
        ]
    }


def _prompt_records(
    prompts: str | Path | Iterable[PromptRecord | dict[str, Any]],
) -> tuple[list[PromptRecord], list[int] | None, str]:
    """The prompt records, their file lines (None for records given in code), and their source."""
    line_numbers: list[int] | None = None
    source = "prompts"
    if isinstance(prompts, (str, Path)):
        numbered = list(read_records(prompts, RecordKind.RLVR).numbered())
        records = [record for _, record in numbered]
        line_numbers = [line_number for line_number, _ in numbered]
        source = str(prompts)
    else:
        records = []
        for index, item in enumerate(prompts):
            try:
                records.append(
                    item if isinstance(item, PromptRecord) else parse_record(item, RecordKind.RLVR)
                )
            except ValueError as error:
                raise DataError(f"prompt {index}: {error}") from None
    if not records:
        raise DataError("no prompts to train on; pass RLVR prompt records (JSONL with `prompt`)")
    return records, line_numbers, source  # type: ignore[return-value]


def _verifier_identity(verifier: Verifier | None) -> str | None:
    """What a passed-in verifier instance is, for the fingerprint (None: built from config)."""
    if verifier is None:
        return None
    identity = {"class": type(verifier).__qualname__, "fingerprint": verifier.cache_fingerprint()}
    return json.dumps(identity, sort_keys=True, default=str)
