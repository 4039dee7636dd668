"""Batched sampling with Transformers: n per prompt, order, seeds, stop strings, EOS, padding."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from generation.sampling_tasks import SAMPLING_TASKS

from halo_forge.data.templates import format_prompt
from halo_forge.errors import ConfigError
from halo_forge.generation import get_sampler, truncate_at_stop
from halo_forge.generation.transformers_backend import TransformersSampler
from halo_forge.models import TINY_MODEL_NAME, load_model


@pytest.fixture(scope="module")
def sampler() -> TransformersSampler:
    """The tiny model with wide random weights: its greedy text varies token by token.

    (At its small initial scale it repeats one token, which would hide ordering mistakes.)
    """
    model, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0, 0.2)
    built = get_sampler("transformers", model, tokenizer=tokenizer, batch_size=4)
    assert isinstance(built, TransformersSampler)
    return built


@pytest.fixture(scope="module")
def prompts(sampler: TransformersSampler) -> list[str]:
    return [format_prompt(task, template=sampler.tokenizer) for task in SAMPLING_TASKS]


@pytest.mark.slow
def test_returns_n_samples_for_each_prompt_in_prompt_order(
    sampler: TransformersSampler, prompts: list[str]
) -> None:
    together = sampler.generate(prompts, n=3, temperature=0, max_new_tokens=12)
    alone = [
        sampler.generate([prompt], n=1, temperature=0, max_new_tokens=12)[0] for prompt in prompts
    ]

    assert [len(samples) for samples in together] == [3] * len(prompts)
    # Greedy answers repeat; batching by length and left padding change nothing.
    assert [samples[0] for samples in together] == [samples[0] for samples in alone]
    assert all(len(set(samples)) == 1 for samples in together)
    assert len({samples[0] for samples in together}) > 1


@pytest.mark.slow
def test_the_seed_reproduces_samples_and_another_seed_changes_them(
    sampler: TransformersSampler, prompts: list[str]
) -> None:
    first = sampler.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_new_tokens=16, seed=7)
    again = sampler.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_new_tokens=16, seed=7)
    other = sampler.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_new_tokens=16, seed=8)

    assert first == again
    assert first != other
    assert len(set(first[0])) > 1  # sampled, not greedy: the n samples differ


def test_output_is_cut_before_the_first_stop_string(
    sampler: TransformersSampler, prompts: list[str]
) -> None:
    before = sampler.tokens_generated
    free = sampler.generate(prompts[:1], temperature=0, max_new_tokens=24)[0][0]
    free_tokens = sampler.tokens_generated - before
    stop = free[10:13]  # a piece of what the model writes anyway

    before = sampler.tokens_generated
    stopped = sampler.generate(prompts[:1], temperature=0, max_new_tokens=24, stop=[stop])[0][0]

    assert stopped == free[: free.index(stop)]
    assert sampler.tokens_generated - before < free_tokens  # generation stopped early


def test_stop_strings_only_match_inside_the_completion(
    sampler: TransformersSampler, prompts: list[str]
) -> None:
    free = sampler.generate(prompts[:1], temperature=0, max_new_tokens=24)[0][0]
    # The prompt ends with a newline: prompt tail + first characters form this string.
    across_the_boundary = "\n" + free[:3]
    assert prompts[0].endswith("\n") and across_the_boundary not in free

    stopped = sampler.generate(
        prompts[:1], temperature=0, max_new_tokens=24, stop=[across_the_boundary]
    )[0][0]

    assert stopped == free


def test_generation_ends_at_an_end_of_sequence_token(
    sampler: TransformersSampler, prompts: list[str]
) -> None:
    tokenizer = sampler.tokenizer
    model = sampler.model
    ids = tokenizer(prompts[1], add_special_tokens=False, return_tensors="pt")["input_ids"]
    free = model.generate(ids, max_new_tokens=8, do_sample=False, eos_token_id=None)[
        0, ids.shape[1] :
    ]
    free = free.tolist()
    # Declare the first token that is new after position 2 to be the end-of-sequence token.
    cut = next(k for k in range(2, len(free)) if free[k] not in free[:k])
    end_token = free[cut]
    original = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = [end_token]
    try:
        ending = TransformersSampler(model, tokenizer)
        before = ending.tokens_generated
        text = ending.generate(prompts[1:2], temperature=0, max_new_tokens=8)[0][0]
    finally:
        model.generation_config.eos_token_id = original

    assert text == tokenizer.decode(free[:cut], skip_special_tokens=True)
    assert ending.tokens_generated - before == cut + 1  # the tokens before it, and the end token


def test_temperature_zero_is_greedy_even_for_several_samples(
    sampler: TransformersSampler, prompts: list[str]
) -> None:
    samples = sampler.generate(prompts[:2], n=3, temperature=0, max_new_tokens=8, seed=1)
    assert all(len(set(group)) == 1 for group in samples)


def test_no_prompts_give_no_samples(sampler: TransformersSampler) -> None:
    assert sampler.generate([], n=2) == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("n", 0, "at least 1"), ("temperature", -0.1, ">= 0"), ("top_p", 0.0, r"\(0, 1\]")],
)
def test_invalid_sampling_options_are_config_errors(
    sampler: TransformersSampler, option: str, value: float, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        sampler.generate(["x"], **{option: value})


def test_stop_truncation_uses_the_earliest_stop_string() -> None:
    assert truncate_at_stop("int x; }\n```\nmore", ["```", "}"]) == "int x; "
    assert truncate_at_stop("no stop here", ["###"]) == "no stop here"
    assert truncate_at_stop("keep", None) == "keep"


def test_vllm_backend_names_the_extra_to_install() -> None:
    with pytest.raises(ConfigError, match=r"pip install 'halo-forge\[vllm\]'"):
        get_sampler("vllm", TINY_MODEL_NAME)


def test_get_sampler_builds_the_transformers_backend_by_name() -> None:
    built = get_sampler("transformers", TINY_MODEL_NAME, device="cpu", batch_size=2)
    assert isinstance(built, TransformersSampler)
    assert built.batch_size == 2
    with pytest.raises(ConfigError, match="transformers, vllm"):
        get_sampler("onnx", TINY_MODEL_NAME)


def test_a_model_in_memory_needs_its_tokenizer() -> None:
    model, _ = load_model(TINY_MODEL_NAME, device="cpu")
    with pytest.raises(ConfigError, match="tokenizer"):
        get_sampler("transformers", model)


def test_the_sampler_interface_loads_no_backend() -> None:
    script = (
        "import sys, halo_forge.generation.base, halo_forge.generation.registry; "
        "print(sorted(name for name in ('torch', 'halo_forge.generation.transformers_backend') "
        "if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
