"""Generation and SFT throughput of the embedded tiny model on CPU.

Generation: the same prompts (built-in Python tasks in the model's chat template) sampled by
`TransformersSampler` with `--batch-size` prompts per `generate` call, against the baseline of
one prompt per call, in the same run: each repeat times the baseline and then the batched
sampler back to back. Throughput counts the tokens each row really generated (up to its end
token); the figures are medians over `--repeats` repeats, the speed-up the median of the
per-repeat ratios.

SFT: LoRA training (the default recipe) on built-in task prompt/solution pairs for one epoch;
throughput counts the non-padding tokens the trainer saw, median of `--repeats` runs.

    .venv/bin/python benchmarks/generation.py --repeats 3
    .venv/bin/python benchmarks/generation.py --prompts 8 --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def tokens_per_second(sampler, prompts: list[str], max_new_tokens: int) -> float:
    """Tokens/s of sampling every prompt once (temperature 0.7, top-p 0.95, fixed seed)."""
    before = sampler.tokens_generated
    started = time.perf_counter()
    sampler.generate(
        prompts, n=1, temperature=0.7, top_p=0.95, max_new_tokens=max_new_tokens, seed=0
    )
    return (sampler.tokens_generated - before) / (time.perf_counter() - started)


def generation_rates(
    one_by_one, batched, prompts: list[str], max_new_tokens: int, repeats: int
) -> tuple[float, float, float]:
    """Median tokens/s of both samplers and the median of the per-repeat speed-ups.

    Each repeat measures the baseline and then the batched sampler back to back, so a change
    in the machine's load hits both sides of a ratio alike.
    """
    single, together, ratios = [], [], []
    for _ in range(repeats):
        single.append(tokens_per_second(one_by_one, prompts, max_new_tokens))
        together.append(tokens_per_second(batched, prompts, max_new_tokens))
        ratios.append(together[-1] / single[-1])
    return statistics.median(single), statistics.median(together), statistics.median(ratios)


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
    parser.add_argument("--prompts", type=int, default=64, help="Prompts sampled per run.")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="Prompts per generate call (RAFT: 8 x 8 samples).",
    )
    parser.add_argument("--max-new-tokens", type=int, default=64)
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
    model, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
    prompts = [
        format_prompt(task["prompt"], template=tokenizer) for task in tasks[: arguments.prompts]
    ]
    batched = TransformersSampler(model, tokenizer, batch_size=arguments.batch_size)
    one_by_one = TransformersSampler(model, tokenizer, batch_size=1)
    tokens_per_second(batched, prompts[:2], 4)  # warm-up: first calls pay one-off costs
    single, together, speed_up = generation_rates(
        one_by_one, batched, prompts, arguments.max_new_tokens, arguments.repeats
    )
    records = [
        {"prompt": task["prompt"], "completion": task["solution"]}
        for task in tasks[: arguments.sft_records]
    ]
    training, steps = sft_rate(records, arguments.sft_batch_size, arguments.repeats)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {TINY_MODEL_NAME}")
    print(
        f"generation: {arguments.prompts} prompts x {arguments.max_new_tokens} new tokens, "
        f"median of {arguments.repeats}"
    )
    print(f"  one prompt per call      {single:10.0f} tokens/s")
    print(f"  {arguments.batch_size:3d} prompts per call     {together:10.0f} tokens/s")
    print(f"  speed-up (median ratio)  {speed_up:10.1f}x")
    print(
        f"sft (LoRA): {len(records)} records, batch {arguments.sft_batch_size}, {steps} steps, "
        f"median of {arguments.repeats}"
    )
    print(f"  training                 {training:10.0f} tokens/s")


if __name__ == "__main__":
    main()
