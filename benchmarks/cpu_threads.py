"""Torch intra-op threads for the demo's embedded model: SFT and sampling at 1 vs 2 threads.

The demo samples with `builtin:tiny-coder` on one thread and trains it on two
(`halo_forge/demo/settings.py`: `cpu_threads`, `training_threads`). This measures what
that choice costs and saves, on the demo's own data and SFT model:
- SFT: the demo's SFT config (`sft_config`) for `--sft-epochs` epochs on a run's `data/sft.jsonl`;
- sampling: `--count` RAFT prompts x 2 samples at T=1.0, 32 prompts per call, with the run's
  SFT model.
Each repeat times both thread counts back to back, so a change in the machine's load hits both
sides of a ratio alike; the ratio is the median of the per-repeat ratios. `--busy` keeps one
core busy with a spinning process during the measurement, as a second job on the machine would.

    .venv/bin/python benchmarks/cpu_threads.py --run runs/demo --repeats 3
    .venv/bin/python benchmarks/cpu_threads.py --run runs/demo --repeats 3 --busy

OpenMP's idle threads spin by default; `OMP_WAIT_POLICY=PASSIVE` in the environment (what the
demo command sets) makes them sleep, which decides how a second thread fares beside a busy
process: measure both ways.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

THREAD_COUNTS = (1, 2)


def spin() -> None:
    """Keep one core busy until terminated."""
    while True:
        pass


def sft_seconds(run: Path, epochs: float, threads: int) -> float:
    """Wall seconds of the demo's SFT stage on `run`'s SFT pairs with `threads` threads."""
    import torch

    from halo_forge.demo.pipeline import DemoPaths, DemoRun, sft_config
    from halo_forge.demo.settings import load_preset
    from halo_forge.training.sft import run_sft

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch)
        (output / "data").mkdir()
        (output / "data" / "sft.jsonl").write_bytes((run / "data" / "sft.jsonl").read_bytes())
        config = sft_config(DemoRun(output=output, settings=load_preset()), DemoPaths(output))
        update = {"num_train_epochs": epochs, "cpu_threads": threads}
        training = config.training.model_copy(update=update)
        started = time.perf_counter()
        run_sft(config.model_copy(update={"training": training}))
        return time.perf_counter() - started


def sampling_rate(run: Path, count: int, threads: int) -> float:
    """Tokens/s of sampling `count` RAFT prompts x 2 with `run`'s SFT model on `threads` threads."""
    import torch

    from halo_forge.data.templates import format_prompt
    from halo_forge.generation.transformers_backend import TransformersSampler
    from halo_forge.models.loading import load_model
    from halo_forge.training.sft import sft_template

    torch.set_num_threads(threads)
    model, tokenizer = load_model(str(run / "sft" / "final_model"), device="cpu")
    template = sft_template(tokenizer)
    with (run / "data" / "raft_prompts.jsonl").open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines][:count]
    prompts = [format_prompt(record["prompt"], None, template) for record in records]
    sampler = TransformersSampler(model, tokenizer, batch_size=32)
    started = time.perf_counter()
    sampler.generate(prompts, n=2, temperature=1.0, top_p=0.95, max_new_tokens=192, seed=0)
    return sampler.tokens_generated / (time.perf_counter() - started)


def report(name: str, unit: str, values: dict[int, list[float]], faster_is_higher: bool) -> None:
    """Median per thread count and the median per-repeat speed-up of 2 threads over 1."""
    ratios = [
        (two / one) if faster_is_higher else (one / two)
        for one, two in zip(values[1], values[2], strict=True)
    ]
    medians = ", ".join(f"{n} thread(s) {statistics.median(values[n]):,.1f} {unit}" for n in values)
    print(f"  {name}: {medians}; 2 threads {statistics.median(ratios):.2f}x as fast")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="A finished demo's --output.")
    parser.add_argument("--sft-epochs", type=float, default=2.0)
    parser.add_argument("--count", type=int, default=128, help="RAFT prompts to sample.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="Keep one core busy meanwhile.")
    arguments = parser.parse_args()

    from halo_forge import ui

    ui.set_quiet(True)
    spinner = multiprocessing.Process(target=spin, daemon=True) if arguments.busy else None
    if spinner is not None:
        spinner.start()
    try:
        sft = {n: [] for n in THREAD_COUNTS}
        sampling = {n: [] for n in THREAD_COUNTS}
        for _ in range(arguments.repeats):
            for threads in THREAD_COUNTS:
                sft[threads].append(sft_seconds(arguments.run, arguments.sft_epochs, threads))
                sampling[threads].append(sampling_rate(arguments.run, arguments.count, threads))
    finally:
        if spinner is not None:
            spinner.terminate()
    condition = "one core kept busy" if arguments.busy else "nothing else running"
    print(f"median of {arguments.repeats} repeats, {condition}")
    report(f"SFT, {arguments.sft_epochs:g} epochs", "s", sft, faster_is_higher=False)
    report(f"sampling, {arguments.count} prompts x 2", "tokens/s", sampling, faster_is_higher=True)


if __name__ == "__main__":
    main()
