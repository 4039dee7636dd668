"""`RAFTTrainer`: cycles of generate -> verify -> filter -> train, resumable at every stage.

    trainer = RAFTTrainer(verifier=verifier, sft_checkpoint="models/sft/final_model")
    trainer.run(prompts, num_cycles=5)

Each cycle samples from the previous cycle's adapter (cycle 1 from the start model) through the
`Sampler` interface, scores the samples with the verifier (`cycle.verify_samples`, the
resumable `verify_records` loop), keeps the best (`filtering`) and trains the same LoRA adapter
onward on them (`cycle_training`) at the cycle's learning rate (`strategies`), or every weight
with `lora.enabled: false` (each cycle then saves a whole model). The files of a cycle
(`cycle`) are the state: running the same command again skips finished work. Each cycle ends
with a `CycleStats` record (`stats`), shown (`report`) and logged (`training_log`).
The sampler (`rollout.RolloutEngine`, by `generation.backend`) gives up its memory before
verification, and the model is loaded again for training, so the verifier's compilers and test
runners get the memory while they work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import read_jsonl, write_json, write_jsonl
from halo_forge.data.records import PromptRecord
from halo_forge.data.templates import format_prompt
from halo_forge.errors import ConfigError
from halo_forge.generation.base import Sampler
from halo_forge.models.loading import load_tokenizer
from halo_forge.raft import report
from halo_forge.raft.cycle import (
    CyclePaths,
    CyclePrompt,
    StopRequest,
    generate_samples,
    prompt_key,
    prompt_records,
    samples_complete,
    timed,
    verify_samples,
)
from halo_forge.raft.cycle_training import train_cycle
from halo_forge.raft.filtering import filter_samples
from halo_forge.raft.fingerprint import check_fingerprint, run_fingerprint, verifier_identity
from halo_forge.raft.report import NOTHING_KEPT
from halo_forge.raft.rollout import RolloutEngine
from halo_forge.raft.stats import CycleStats, VerificationSummary
from halo_forge.raft.strategies import CycleSettings, cycle_settings, pass_history, select_prompts
from halo_forge.raft.training_log import training_numbers, write_training_log
from halo_forge.training.sft import sft_template
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.registry import build_verifier_from_config
from halo_forge.verifiers.requirements import check_prompt_contexts

CONFIG_FILE = "raft_config.json"


@dataclass(frozen=True)
class RAFTResult:
    """Where the run's last adapter is, and one stats row per cycle."""

    final_checkpoint: Path
    cycles: list[CycleStats]


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
        records, line_numbers, source = prompt_records(prompts)
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
        records, line_numbers, source = prompt_records(prompts)
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
        fingerprint["verifier.instance"] = verifier_identity(self.verifier)
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
        rows: list[CycleStats] = []
        checkpoint = self.start_model
        with RolloutEngine(self.config, device=self.device, dtype=self.dtype) as rollout:
            for cycle in range(1, cycles + 1):
                paths = CyclePaths(self.output_dir, cycle)
                previous = rows[-1] if rows else None
                if paths.is_finished():
                    ui.echo(f"cycle {cycle}: finished earlier, skipped ({paths.checkpoint})")
                    row = CycleStats.read(paths.stats)
                else:
                    row = self._run_cycle(
                        paths, all_prompts, checkpoint, previous, verifiers[cycle], rollout
                    )
                    ui.echo(report.cycle_table(row))
                    report.write_scalars(self.output_dir, row)
                    warning = report.degradation_warning(previous, row)
                    if warning:
                        ui.echo(f"warning: {warning}", style="yellow")
                rows.append(row)
                checkpoint = str(paths.checkpoint)
                write_training_log(self.output_dir, rows)
        return RAFTResult(Path(checkpoint), rows)

    def _run_cycle(
        self,
        paths: CyclePaths,
        all_prompts: list[CyclePrompt],
        checkpoint: str,
        previous: CycleStats | None,
        verifier: Verifier,
        rollout: RolloutEngine,
    ) -> CycleStats:
        """Run the stages of one cycle that its files lack; returns (and writes) its stats."""
        cycle = paths.cycle
        loop = self.config.raft
        settings = cycle_settings(
            self.config, cycle, previous.pass_rate if previous is not None else None
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
        timings: dict[str, float | None] = {}
        with StopRequest() as stop:
            if not samples_complete(paths.samples, prompts, loop.samples_per_prompt):
                tokens, seconds = timed(
                    lambda: self._generate(
                        paths, prompts, rollout.sampler_for(checkpoint), settings, stop
                    )
                )
                rollout.pause()  # verification and training get the memory
                timings["generation_seconds"] = seconds
                timings["generation_tokens_per_second"] = tokens / seconds if seconds else None
            try:
                verified = verify_samples(
                    paths.samples, paths.verified, prompts, verifier, stop=stop
                )
            finally:
                self._release([verifier])  # its worker processes give training the memory
            if verified.verified:
                seconds = verified.seconds
                timings["verification_seconds"] = seconds
                timings["verification_samples_per_second"] = (
                    verified.verified / seconds if seconds else None
                )
        kept = filter_samples(
            verified.records,
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
        timings |= train_cycle(
            paths,
            checkpoint,
            self.config,
            settings.learning_rate,
            device=self.device,
            dtype=self.dtype,
        )
        stats = CycleStats(
            cycle=cycle,
            prompts=len(prompts),
            **vars(VerificationSummary.of(verified.records)),
            unique_samples=kept.unique_samples,
            candidates=kept.candidates,
            kept=len(read_jsonl(paths.kept)),
            effective_threshold=kept.effective_threshold,
            reward_threshold=settings.reward_threshold,
            keep_top_percent=settings.keep_top_percent,
            learning_rate=settings.learning_rate,
            checkpoint=str(paths.checkpoint),
            **training_numbers(paths),
            **timings,
        )
        write_json(paths.stats, stats.to_json())
        return stats

    def _generate(
        self,
        paths: CyclePaths,
        prompts: list[CyclePrompt],
        sampler: Sampler,
        settings: CycleSettings,
        stop: StopRequest,
    ) -> int:
        """Sample the missing batches with `sampler`; returns the tokens generated."""
        generation = self.config.generation
        samples_per_prompt = self.config.raft.samples_per_prompt
        tokens_before = sampler.tokens_generated

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
        return sampler.tokens_generated - tokens_before
