"""The openai backend against a real `vllm serve` on 127.0.0.1: sampling, adapters loaded at
runtime, the errors that name the fix, and two RAFT cycles whose adapters the server loads."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from raft.graded_text import AnyTextVerifier
from vllm_server import API_KEY, Server, vllm_server

from halo_forge.config.models import RAFTConfig
from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.errors import ConfigError
from halo_forge.generation.openai_backend import OpenAISampler
from halo_forge.models.tiny import ensure_tiny_model
from halo_forge.raft.cycle import CyclePaths
from halo_forge.raft.loop import RAFTTrainer
from halo_forge.raft.rollout import RolloutEngine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("server") / "vllm_serve.log"
    with vllm_server(ensure_tiny_model(), log) as running:
        yield running


@pytest.fixture
def sampler(server: Server) -> Iterator[OpenAISampler]:
    built = OpenAISampler(server.base_url, api_key=API_KEY)
    yield built
    built.close()


def served_models(server: Server) -> list[str]:
    request = urllib.request.Request(
        f"{server.base_url}/models", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return [entry["id"] for entry in json.load(response)["data"]]


def test_samples_n_per_prompt_in_order_and_a_seeded_call_repeats(
    sampler: OpenAISampler, server: Server, prompts: list[str]
) -> None:
    assert sampler.model == server.model  # the server's only model, found by asking it

    drawn = sampler.generate(prompts, n=3, temperature=1.0, max_new_tokens=12, seed=5)
    again = sampler.generate(prompts, n=3, temperature=1.0, max_new_tokens=12, seed=5)
    alone = [
        sampler.generate([prompt], temperature=0, max_new_tokens=12)[0][0] for prompt in prompts
    ]
    together = sampler.generate(prompts, n=2, temperature=0, max_new_tokens=12)

    assert [len(samples) for samples in drawn] == [3] * len(prompts)
    assert drawn == again
    assert all(len(set(samples)) > 1 for samples in drawn)
    assert [samples[0] for samples in together] == alone  # prompt order kept
    assert all(samples[0] == samples[1] for samples in together)
    assert sampler.tokens_generated > 0


def test_output_is_cut_before_the_stop_string(sampler: OpenAISampler, prompts: list[str]) -> None:
    free = sampler.generate(prompts[:1], temperature=0, max_new_tokens=24)[0][0]
    marker = free[len(free) // 2 : len(free) // 2 + 2]
    assert marker.strip()

    cut = sampler.generate(prompts[:1], temperature=0, max_new_tokens=24, stop=[marker])[0][0]

    assert marker not in cut
    assert free.startswith(cut)


def test_an_adapter_is_loaded_into_the_server_sampled_and_unloaded(
    sampler: OpenAISampler, server: Server, adapter_dir: Path, prompts: list[str]
) -> None:
    base = sampler.generate(prompts, temperature=0, max_new_tokens=12)

    sampler.use_adapter(adapter_dir)
    adapted = sampler.generate(prompts, temperature=0, max_new_tokens=12)
    loaded = served_models(server)
    sampler.use_adapter(None)

    assert adapted != base  # the adapter's nonzero update changes the greedy answers
    assert sampler.adapter is None and len(loaded) == 2
    assert served_models(server) == [server.model]  # unloaded when no longer used
    assert sampler.generate(prompts, temperature=0, max_new_tokens=12) == base


def test_errors_name_the_fix(server: Server) -> None:
    with pytest.raises(ConfigError, match="refused the API key"):
        OpenAISampler(server.base_url, api_key="wrong")
    with pytest.raises(ConfigError, match=r"does not serve 'other' \(it serves: "):
        OpenAISampler(server.base_url, "other", api_key=API_KEY)
    with pytest.raises(ConfigError, match="cannot reach the OpenAI-compatible server"):
        OpenAISampler("http://127.0.0.1:9/v1")  # the discard port: nothing listens


def test_two_raft_cycles_sample_through_the_server_and_its_adapters(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_TEST_KEY", API_KEY)
    config = RAFTConfig.model_validate(
        {
            "raft": {"num_cycles": 2, "samples_per_prompt": 2, "min_samples": 1},
            "generation": {
                "backend": "openai",
                "max_new_tokens": 16,
                "batch_size": 2,
                "openai": {"base_url": server.base_url, "api_key_env": "HALO_FORGE_TEST_KEY"},
            },
            "training": {"batch_size": 2, "gradient_accumulation_steps": 1},
        }
    )
    with AnyTextVerifier() as verifier:
        trainer = RAFTTrainer(
            verifier=verifier, model="builtin:tiny-coder", config=config, output_dir=tmp_path
        )
        result = trainer.run(generate_tasks("builtin_c", 2, 0))

    assert [row.cycle for row in result.cycles] == [1, 2]
    for cycle in (1, 2):
        stats = json.loads(CyclePaths(tmp_path, cycle).stats.read_text())
        assert stats["generation_tokens_per_second"] > 0
    assert served_models(server) == [server.model]  # the last cycle's adapter was unloaded
    log = server.log.read_text(errors="replace")
    assert "load_lora_adapter" in log  # cycle 2 sampled cycle 1's adapter through the server


def test_a_rollout_engine_keeps_one_server_sampler_across_adapters(
    server: Server, adapter_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    config = RAFTConfig.model_validate(
        {"generation": {"backend": "openai", "openai": {"base_url": server.base_url}}}
    )
    with closing(RolloutEngine(config)) as rollout:
        first = rollout.sampler_for("builtin:tiny-coder")
        rollout.pause()
        second = rollout.sampler_for(str(adapter_dir))
        assert second is first
        assert isinstance(second, OpenAISampler) and second.adapter is not None
        assert len(served_models(server)) == 2
    assert served_models(server) == [server.model]
