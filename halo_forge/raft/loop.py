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

from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import read_jsonl, write_json, write_jsonl
from halo_forge.data.records import PromptRecord
from halo_forge.data.templates import format_prompt
from halo_forge.distributed import barrier, is_main_process
from halo_forge.generation.base import Sampler
from halo_forge.models.loading import load_tokenizer, start_model
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
from halo_forge.raft.cycle_verifiers import checked_cycle_verifiers, release_verifiers
from halo_forge.raft.filtering import FilterResult, filter_samples
from halo_forge.raft.fingerprint import check_fingerprint, run_fingerprint, verifier_identity
from halo_forge.raft.report import NOTHING_KEPT
from halo_forge.raft.rollout import RolloutEngine
from halo_forge.raft.stats import CycleStats, VerificationSummary
from halo_forge.raft.strategies import CycleSettings, cycle_settings, pass_history, select_prompts
from halo_forge.raft.training_log import training_numbers, write_training_log
from halo_forge.training.sft import sft_template
from halo_forge.verifiers.base import Verifier

CONFIG_FILE = "raft_config.json"


@dataclass(frozen=True)
class RolloutStage:
    """What a cycle's generate -> verify -> filter stages give its stats."""

    prompts: int
    verified: list[dict[str, Any]]
    kept: FilterResult
    timings: dict[str, float | None]


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
        self.start_model = start_model(
            sft_checkpoint, model, self.config.sft_checkpoint, self.config.model
        )
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
        """Each cycle's verifier, built now and asked about every prompt (`cycle_verifiers`)."""
        return checked_cycle_verifiers(
            self.config, self.verifier, records, line_numbers=line_numbers, source=source
        )

    def _release(self, verifiers: Iterable[Verifier]) -> None:
        release_verifiers(verifiers, owner_kept=self.verifier)

    def _run_cycles(
        self, records: list[PromptRecord], verifiers: dict[int, Verifier]
    ) -> RAFTResult:
        """The cycles of `run`, after its checks: skip the finished ones, run the others."""
        cycles = self.config.raft.num_cycles
        fingerprint = run_fingerprint(self.config, records, self.start_model)
        fingerprint["verifier.instance"] = verifier_identity(self.verifier)
        if is_main_process():  # one writer; the other processes of a launch wait for it
            self.output_dir.mkdir(parents=True, exist_ok=True)
            check_fingerprint(self.output_dir, fingerprint, force=self.force)
            write_json(self.output_dir / CONFIG_FILE, self.config.model_dump(mode="json"))
        barrier()
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
        with closing(RolloutEngine(self.config, device=self.device, dtype=self.dtype)) as rollout:
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
                    if is_main_process():
                        report.write_scalars(self.output_dir, row)
                    warning = report.degradation_warning(previous, row)
                    if warning:
                        ui.echo(f"warning: {warning}", style="yellow")
                rows.append(row)
                checkpoint = str(paths.checkpoint)
                if is_main_process():
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
        """Run the stages of one cycle that its files lack; returns (and writes) its stats.

        Under a multi-process launch the main process generates, verifies and filters while
        the others wait; every process then trains (DDP), and the main one writes the stats.
        """
        settings = cycle_settings(
            self.config, paths.cycle, previous.pass_rate if previous is not None else None
        )
        rollout_stage = None
        if is_main_process():
            rollout_stage = self._rollout_stage(
                paths, all_prompts, checkpoint, settings, verifier, rollout
            )
        barrier()  # kept.jsonl is written: every process trains on it
        timings = train_cycle(
            paths,
            checkpoint,
            self.config,
            settings.learning_rate,
            device=self.device,
            dtype=self.dtype,
        )
        if rollout_stage is not None:
            stats = CycleStats(
                cycle=paths.cycle,
                prompts=rollout_stage.prompts,
                **vars(VerificationSummary.of(rollout_stage.verified)),
                unique_samples=rollout_stage.kept.unique_samples,
                candidates=rollout_stage.kept.candidates,
                kept=len(read_jsonl(paths.kept)),
                effective_threshold=rollout_stage.kept.effective_threshold,
                reward_threshold=settings.reward_threshold,
                keep_top_percent=settings.keep_top_percent,
                learning_rate=settings.learning_rate,
                checkpoint=str(paths.checkpoint),
                **training_numbers(paths),
                **rollout_stage.timings,
                **timings,
            )
            write_json(paths.stats, stats.to_json())
        barrier()  # the stats are written: the other processes read them
        return CycleStats.read(paths.stats)

    def _rollout_stage(
        self,
        paths: CyclePaths,
        all_prompts: list[CyclePrompt],
        checkpoint: str,
        settings: CycleSettings,
        verifier: Verifier,
        rollout: RolloutEngine,
    ) -> RolloutStage:
        """Generate, verify and filter what the cycle's files lack; writes `kept.jsonl`."""
        cycle = paths.cycle
        loop = self.config.raft
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
        return RolloutStage(len(prompts), verified.records, kept, timings)

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
