"""Sampling throughput of a fine-tuned model by prompts per `generate` call, on one CPU thread.

The demo samples 2 completions per prompt at temperature 1.0 with its SFT model; this times that
exact call at several batch sizes, each repeat running every size back to back so a change in
the machine's load hits all of them alike. It prints the median tokens/s per size and the
median of the per-repeat ratios against `--reference` (the old demo setting, 64).

    .venv/bin/python benchmarks/generation_batch_size.py --model runs/demo/sft/final_model \
        --prompts runs/demo/data/raft_prompts.jsonl --batch-sizes 16,32,64 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="Model or adapter directory.")
    parser.add_argument("--prompts", type=Path, required=True, help="JSONL with `prompt`.")
    parser.add_argument("--count", type=int, default=256, help="Prompts to sample.")
    parser.add_argument("--batch-sizes", default="16,32,64")
    parser.add_argument("--reference", type=int, default=64, help="Batch size of the ratios.")
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()

    import torch

    from halo_forge import ui
    from halo_forge.data.templates import format_prompt
    from halo_forge.generation.transformers_backend import TransformersSampler
    from halo_forge.models.loading import load_model
    from halo_forge.training.sft import sft_template

    ui.set_quiet(True)
    torch.set_num_threads(1)  # as the demo runs the embedded model
    model, tokenizer = load_model(arguments.model, device="cpu")
    template = sft_template(tokenizer)
    with arguments.prompts.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines][: arguments.count]
    prompts = [format_prompt(record["prompt"], None, template) for record in records]
    sizes = [int(size) for size in arguments.batch_sizes.split(",")]
    rates: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(arguments.repeats):
        for size in sizes:
            sampler = TransformersSampler(model, tokenizer, batch_size=size)
            started = time.perf_counter()
            sampler.generate(prompts, n=2, temperature=1.0, top_p=0.95, max_new_tokens=192, seed=0)
            rates[size].append(sampler.tokens_generated / (time.perf_counter() - started))
    print(f"{len(prompts)} prompts x 2 samples, median of {arguments.repeats}, 1 thread")
    for size in sizes:
        ratio = statistics.median(
            rate / reference
            for rate, reference in zip(rates[size], rates[arguments.reference], strict=True)
        )
        print(
            f"  batch {size:3d}: {statistics.median(rates[size]):7.0f} tokens/s, "
            f"{ratio:.2f}x of batch {arguments.reference}"
        )


if __name__ == "__main__":
    main()
