"""vLLM sampling on the tiny model: order and n, stop strings, LoRA per request, seeds, ranks.

Every test runs a real vLLM engine (the CPU build in `.venv-vllm`). A start costs about 20
seconds, so the tests of this module share one engine, with LoRA enabled; the tests that
start and stop engines of their own are in `test_vllm_engine.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_forge.config.models import LoRASection
from halo_forge.errors import ConfigError
from halo_forge.generation import get_sampler
from halo_forge.generation.transformers_backend import TransformersSampler
from halo_forge.generation.vllm_backend import VLLMSampler
from halo_forge.models import TINY_MODEL_NAME, load_model, prepare_lora, save_model


@pytest.fixture(scope="module")
def sampler(engine_options: dict[str, int]) -> Iterator[VLLMSampler]:
    """The tiny model in vLLM with room for rank-16 adapters."""
    built = get_sampler("vllm", TINY_MODEL_NAME, max_lora_rank=16, **engine_options)
    assert isinstance(built, VLLMSampler)
    yield built
    built.close()


@pytest.fixture
def base(sampler: VLLMSampler) -> VLLMSampler:
    """The shared engine, sampling the base model alone."""
    sampler.use_adapter(None)
    return sampler


def test_returns_n_samples_for_each_prompt_in_prompt_order(
    base: VLLMSampler, prompts: list[str]
) -> None:
    together = base.generate(prompts, n=3, temperature=0, max_new_tokens=12)
    alone = [base.generate([prompt], temperature=0, max_new_tokens=12)[0] for prompt in prompts]
    sampled = base.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=1)

    assert [len(samples) for samples in together] == [3] * len(prompts)
    assert [samples[0] for samples in together] == [samples[0] for samples in alone]
    assert all(len(set(samples)) == 1 for samples in together)  # greedy repeats its answer
    assert len({samples[0] for samples in together}) > 1  # each prompt got its own answer
    assert [len(samples) for samples in sampled] == [4] * len(prompts)
    assert all(len(set(samples)) > 1 for samples in sampled)


def test_no_prompts_give_no_samples(base: VLLMSampler) -> None:
    assert base.generate([], n=2) == []


def test_output_is_cut_before_the_first_stop_string(base: VLLMSampler, prompts: list[str]) -> None:
    before = base.tokens_generated
    free = base.generate(prompts[:1], temperature=0, max_new_tokens=24)[0][0]
    free_tokens = base.tokens_generated - before
    stop = free[10:13]  # a piece of what the model writes anyway

    before = base.tokens_generated
    stopped = base.generate(prompts[:1], temperature=0, max_new_tokens=24, stop=[stop])[0][0]

    assert stopped == free[: free.index(stop)]
    assert 0 < base.tokens_generated - before < free_tokens  # generation stopped early


def test_stop_strings_only_match_inside_the_completion(
    base: VLLMSampler, prompts: list[str]
) -> None:
    free = base.generate(prompts[:1], temperature=0, max_new_tokens=24)[0][0]
    across_the_boundary = "\n" + free[:3]  # the prompt ends with a newline
    assert prompts[0].endswith("\n") and across_the_boundary not in free

    stopped = base.generate(
        prompts[:1], temperature=0, max_new_tokens=24, stop=[across_the_boundary]
    )[0][0]

    assert stopped == free


def test_the_seed_reproduces_samples_and_another_seed_changes_them(
    base: VLLMSampler, prompts: list[str]
) -> None:
    options = {"n": 4, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": 16}
    first = base.generate(prompts, seed=7, **options)
    again = base.generate(prompts, seed=7, **options)
    other = base.generate(prompts, seed=8, **options)
    # A smaller batch: a prompt's request seed depends on the seed and its position only.
    fewer = base.generate(prompts[:2], seed=7, **options)

    assert first == again
    assert first != other
    assert fewer == first[:2]


def test_an_adapter_is_sampled_through_a_lora_request_as_peft_applies_it(
    sampler: VLLMSampler, prompts: list[str], adapter_dir: Path
) -> None:
    sampler.use_adapter(None)
    from_base = sampler.generate(prompts, temperature=0, max_new_tokens=12)
    sampler.use_adapter(adapter_dir)
    from_adapter = sampler.generate(prompts, temperature=0, max_new_tokens=12)
    reference = TransformersSampler(*load_model(str(adapter_dir), device="cpu"))
    expected = reference.generate(prompts, temperature=0, max_new_tokens=12)

    assert sampler.adapter is not None and sampler.adapter.lora_path == str(adapter_dir.resolve())
    assert from_adapter == expected  # the adapter's greedy text, unmerged
    assert from_adapter != from_base


def test_switching_to_an_adapter_above_max_lora_rank_fails_with_the_rank_to_use(
    sampler: VLLMSampler, tmp_path: Path
) -> None:
    model, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
    wide = save_model(prepare_lora(model, LoRASection(r=32)), tokenizer, tmp_path / "rank32")

    with pytest.raises(ConfigError, match=r"rank 32, above max_lora_rank=16; .*max_lora_rank=32"):
        sampler.use_adapter(wide)
