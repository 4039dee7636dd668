"""vLLM in the commands that generate: RAFT cycles with LoRA through one engine, the engine's
hand-off between cycles, and `benchmark run --backend vllm` beside a Transformers result."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest
from raft.graded_text import AnyTextVerifier
from typer.testing import CliRunner

from halo_forge.cli.main import app
from halo_forge.config.models import RAFTConfig
from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import ConfigError
from halo_forge.generation.vllm_backend import VLLMSampler
from halo_forge.models import TINY_MODEL_NAME, load_model, save_model
from halo_forge.raft.cycle import CyclePaths
from halo_forge.raft.loop import RAFTTrainer
from halo_forge.raft.rollout import RolloutEngine

TASKS = generate_tasks("builtin_c", 2, 0)
ENGINE = {"max_model_len": 256}


def raft_config(backend: str, **vllm: object) -> RAFTConfig:
    return RAFTConfig.model_validate(
        {
            "raft": {"num_cycles": 2, "samples_per_prompt": 2, "min_samples": 1},
            "generation": {
                "backend": backend,
                "max_new_tokens": 16,
                "batch_size": 2,
                "vllm": {**ENGINE, **vllm},
            },
            "training": {"batch_size": 2, "gradient_accumulation_steps": 1},
        }
    )


def test_two_lora_cycles_through_vllm_write_the_stats_the_transformers_backend_writes(
    tmp_path: Path,
) -> None:
    rows = {}
    for backend in ("transformers", "vllm"):
        with AnyTextVerifier() as verifier:
            trainer = RAFTTrainer(
                verifier=verifier,
                model=TINY_MODEL_NAME,
                config=raft_config(backend),
                output_dir=tmp_path / backend,
            )
            result = trainer.run(TASKS)
        rows[backend] = [
            json.loads(CyclePaths(tmp_path / backend, cycle).stats.read_text()) for cycle in (1, 2)
        ]
        assert result.final_checkpoint == CyclePaths(tmp_path / backend, 2).checkpoint

    for hf_row, vllm_row in zip(rows["transformers"], rows["vllm"], strict=True):
        assert hf_row.keys() == vllm_row.keys()
        assert {key: type(value) for key, value in hf_row.items()} == {
            key: type(value) for key, value in vllm_row.items()
        }
        assert vllm_row["samples"] == hf_row["samples"] == len(TASKS) * 2
        assert vllm_row["generation_tokens_per_second"] > 0


def test_one_engine_samples_every_adapter_cycle_without_reloading(
    adapter_dir: Path, prompts: list[str]
) -> None:
    with closing(RolloutEngine(raft_config("vllm", between_cycles="keep"))) as rollout:
        first = rollout.sampler_for(TINY_MODEL_NAME)
        base = first.generate(prompts, temperature=0, max_new_tokens=12)
        rollout.pause()
        second = rollout.sampler_for(str(adapter_dir))
        adapted = second.generate(prompts, temperature=0, max_new_tokens=12)

        assert second is first  # the base stayed loaded; the adapter rides on each request
        assert isinstance(second, VLLMSampler) and second.adapter is not None
        assert second.max_lora_rank == 16  # room for the run's lora.r
        assert adapted != base


def test_between_cycles_close_frees_the_engine_and_full_weights_get_a_new_one(
    tmp_path: Path, prompts: list[str]
) -> None:
    model, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
    full_checkpoint = save_model(model, tokenizer, tmp_path / "full")
    config = raft_config("vllm", between_cycles="close")
    config.lora.enabled = False
    with closing(RolloutEngine(config)) as rollout:
        first = rollout.sampler_for(TINY_MODEL_NAME)
        rollout.pause()
        assert isinstance(first, VLLMSampler) and first.engine is None  # closed for training
        second = rollout.sampler_for(str(full_checkpoint))
        assert second is not first
        assert second.generate(prompts[:1], temperature=0, max_new_tokens=4)[0][0] is not None


def test_sleeping_between_cycles_on_the_cpu_names_the_alternative() -> None:
    with (
        closing(RolloutEngine(raft_config("vllm", between_cycles="sleep"))) as rollout,
        pytest.raises(ConfigError, match="close"),
    ):
        rollout.sampler_for(TINY_MODEL_NAME)


def test_benchmark_run_with_vllm_gives_a_result_compare_reads_beside_transformers(
    tmp_path: Path,
) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, TASKS)
    runner = CliRunner()
    outputs = {}
    for backend in ("transformers", "vllm"):
        outputs[backend] = tmp_path / f"{backend}-run.json"
        command = ["benchmark", "run", "--model", TINY_MODEL_NAME, "--prompts", str(prompts)]
        command += ["--verifier", "gcc", "--samples", "2", "--k", "1,2", "--max-new-tokens", "16"]
        command += ["--backend", backend, "--output", str(outputs[backend])]
        if backend == "vllm":
            command += ["--set", "vllm.max_model_len=256"]
        finished = runner.invoke(app, command)
        assert finished.exit_code == 0, finished.output

    result = json.loads(outputs["vllm"].read_text())
    assert result["config"]["backend"] == "vllm"
    assert result["total"] == len(TASKS) * 2
    compared = runner.invoke(app, ["benchmark", "compare", *map(str, outputs.values())])
    assert compared.exit_code == 0, compared.output
    assert "transformers-run" in compared.output and "vllm-run" in compared.output
