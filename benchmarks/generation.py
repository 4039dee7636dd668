"""Generation and SFT throughput of the embedded tiny model on CPU.

Generation: the same prompts (built-in Python tasks in the model's chat template), `--samples`
completions each, sampled by `TransformersSampler` with `--batch-size` prompts per `generate`
call, against the baseline of one prompt per call, in the same run: each repeat times the
baseline and then the batched sampler back to back. With `--vllm` (run it in the environment of
`make setup-vllm`) each repeat then times `VLLMSampler` on the same prompts, one `generate`
call for all of them, its engine started once before the repeats. Throughput counts the tokens
each sample really generated (up to its end token); the figures are medians over `--repeats`
repeats, the speed-ups the medians of the per-repeat ratios. Every call passes a seed, as RAFT
and benchmark do.

SFT: LoRA training (the default recipe) on built-in task prompt/solution pairs for one epoch;
throughput counts the non-padding tokens the trainer saw, median of `--repeats` runs.

    .venv/bin/python benchmarks/generation.py --repeats 3
    .venv/bin/python benchmarks/generation.py --prompts 8 --repeats 1   # a quick look
    .venv-vllm/bin/python benchmarks/generation.py --vllm --samples 4 --repeats 3 --skip-sft
    python benchmarks/generation.py --model Qwen/Qwen2.5-Coder-0.5B-Instruct --device cuda \
        --vllm --skip-sft   # one GPU (benchmarks/gpu_check.sh runs this)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


class Rate(NamedTuple):
    """Throughput of one measurement: generated tokens and completions per second."""

    tokens: float
    samples: float


def sampling_rate(sampler, prompts: list[str], samples: int, max_new_tokens: int) -> Rate:
    """Tokens/s and samples/s of one `generate` call (temperature 0.7, top-p 0.95, fixed seed)."""
    before = sampler.tokens_generated
    started = time.perf_counter()
    sampler.generate(
        prompts, n=samples, temperature=0.7, top_p=0.95, max_new_tokens=max_new_tokens, seed=0
    )
    seconds = time.perf_counter() - started
    return Rate((sampler.tokens_generated - before) / seconds, len(prompts) * samples / seconds)


def generation_rates(
    samplers: dict[str, object], prompts: list[str], samples: int, max_new_tokens: int, repeats: int
) -> tuple[dict[str, Rate], dict[str, float]]:
    """Median rates of every sampler, and the median per-repeat speed-up over the first one.

    Each repeat measures the samplers back to back, in order, so a change in the machine's load
    hits both sides of a ratio alike.
    """
    rates: dict[str, list[Rate]] = {name: [] for name in samplers}
    ratios: dict[str, list[float]] = {name: [] for name in samplers}
    baseline = next(iter(samplers))
    for _ in range(repeats):
        for name, sampler in samplers.items():
            rates[name].append(sampling_rate(sampler, prompts, samples, max_new_tokens))
            ratios[name].append(rates[name][-1].tokens / rates[baseline][-1].tokens)
    medians = {
        name: Rate(
            statistics.median(rate.tokens for rate in measured),
            statistics.median(rate.samples for rate in measured),
        )
        for name, measured in rates.items()
    }
    return medians, {name: statistics.median(values) for name, values in ratios.items()}


def sft_rate(records: list[dict[str, str]], batch_size: int, repeats: int) -> tuple[float, int]:
    """Median non-padding tokens/s of one LoRA epoch over `records`, and the steps per run."""
    from halo_forge.models import TINY_MODEL_NAME, load_model
    from halo_forge.training import train_on_records

    rates, steps = [], 0
    for _ in range(repeats):
        model, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
        with tempfile.TemporaryDirectory() as output:
            result = train_on_records(
                model,
                tokenizer,
                records,
                output,
                learning_rate=2e-4,
                epochs=1,
                batch_size=batch_size,
                gradient_accumulation_steps=1,
                max_seq_length=512,
            )
        rates.append(result.outcome.tokens_per_second)
        steps = result.outcome.global_step
    return statistics.median(rates), steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default=None, help="Hub id or directory to sample (default: the tiny model)."
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda (also ROCm) or mps.")
    parser.add_argument(
        "--gpu-memory-utilization",
        type=float,
        default=0.5,
        help="vLLM's share of GPU memory (on a GPU; the CPU build gets a 256 MiB KV cache).",
    )
    parser.add_argument("--prompts", type=int, default=64, help="Prompts sampled per run.")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="Prompts per generate call (RAFT: 8 x 8 samples).",
    )
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--samples", type=int, default=1, help="Completions per prompt.")
    parser.add_argument(
        "--vllm", action="store_true", help="Also time VLLMSampler (needs vLLM installed)."
    )
    parser.add_argument(
        "--skip-sft",
        action="store_true",
        help="Time generation only (the vLLM environment's transformers cannot run SFT).",
    )
    parser.add_argument("--sft-records", type=int, default=128, help="Training pairs per SFT run.")
    parser.add_argument("--sft-batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()

    import torch

    from halo_forge import ui
    from halo_forge.data.builtin_tasks import generate_tasks
    from halo_forge.data.templates import format_prompt
    from halo_forge.generation.transformers_backend import TransformersSampler
    from halo_forge.models import TINY_MODEL_NAME, load_model

    ui.set_quiet(True)  # progress bars and training lines would only add noise to the timing
    tasks = generate_tasks(
        "builtin_python", count=max(arguments.prompts, arguments.sft_records), seed=1
    )
    model_name = arguments.model or TINY_MODEL_NAME
    model, tokenizer = load_model(model_name, device=arguments.device)
    prompts = [
        format_prompt(task["prompt"], template=tokenizer) for task in tasks[: arguments.prompts]
    ]
    samplers: dict[str, object] = {
        "one prompt per call": TransformersSampler(model, tokenizer, batch_size=1),
        f"{arguments.batch_size} prompts per call": TransformersSampler(
            model, tokenizer, batch_size=arguments.batch_size
        ),
    }
    if arguments.vllm:
        from halo_forge.generation.vllm_backend import VLLMSampler

        memory = (
            {"kv_cache_memory_bytes": 256 << 20}
            if arguments.device == "cpu"
            else {"gpu_memory_utilization": arguments.gpu_memory_utilization}
        )
        samplers["vLLM, one call"] = VLLMSampler(model_name, max_model_len=1024, **memory)
    for sampler in samplers.values():
        sampling_rate(sampler, prompts[:2], 1, 4)  # warm-up: first calls pay one-off costs
    rates, speed_ups = generation_rates(
        samplers, prompts, arguments.samples, arguments.max_new_tokens, arguments.repeats
    )
    if arguments.vllm:
        samplers["vLLM, one call"].close()  # its engine processes would compete with training
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {model_name} "
        f"on {arguments.device}"
    )
    print(
        f"generation: {arguments.prompts} prompts x {arguments.samples} samples x "
        f"{arguments.max_new_tokens} new tokens, median of {arguments.repeats}"
    )
    for name, rate in rates.items():
        print(
            f"  {name:26s} {rate.tokens:8.0f} tokens/s {rate.samples:8.1f} samples/s "
            f"{speed_ups[name]:6.1f}x"
        )
    if arguments.skip_sft:
        return
    records = [
        {"prompt": task["prompt"], "completion": task["solution"]}
        for task in tasks[: arguments.sft_records]
    ]
    training, steps = sft_rate(records, arguments.sft_batch_size, arguments.repeats)
    print(
        f"sft (LoRA): {len(records)} records, batch {arguments.sft_batch_size}, {steps} steps, "
        f"median of {arguments.repeats}"
    )
    print(f"  training                 {training:10.0f} tokens/s")


if __name__ == "__main__":
    main()
