"""Wall time of one RAFT cycle, stage by stage, on each sampler backend, same prompts, same run.

Each repeat runs one fresh RAFT cycle (generate -> verify -> filter -> train) per backend, back to
back, on built-in C tasks scored by gcc, and reads the stage timings the cycle wrote to its
stats (`generation_seconds`, `generation_tokens_per_second`, `verification_seconds`,
`training_seconds`). The engine start is part of the generation stage, as in a real run's first
cycle. Figures are medians over `--repeats`; the speed-up is the median of the per-repeat ratios
of generation seconds against the first backend.

    .venv-vllm/bin/python benchmarks/raft_cycle.py --repeats 3            # the tiny model, CPU
    python benchmarks/raft_cycle.py --model Qwen/Qwen2.5-Coder-0.5B-Instruct --prompts 32 \\
        --samples 8 --max-new-tokens 256 --gpu-memory-utilization 0.5    # one GPU
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STAGES = ("generation_seconds", "verification_seconds", "training_seconds")


def one_cycle(arguments: argparse.Namespace, backend: str, tasks: list[dict]) -> dict[str, float]:
    """Run one RAFT cycle on `backend` in a scratch directory; its stage timings and wall time."""
    from halo_forge.config.models import RAFTConfig
    from halo_forge.raft.cycle import CyclePaths
    from halo_forge.raft.loop import RAFTTrainer

    config = RAFTConfig.model_validate(
        {
            "raft": {"num_cycles": 1, "samples_per_prompt": arguments.samples},
            "generation": {
                "backend": backend,
                "max_new_tokens": arguments.max_new_tokens,
                "batch_size": arguments.batch_size,
                "vllm": {
                    "gpu_memory_utilization": arguments.gpu_memory_utilization,
                    "max_model_len": arguments.max_model_len,
                },
            },
            "verifier": {"type": "gcc"},
        }
    )
    with tempfile.TemporaryDirectory() as output:
        started = time.perf_counter()
        RAFTTrainer(model=arguments.model, config=config, output_dir=output).run(tasks)
        wall = time.perf_counter() - started
        stats = json.loads(CyclePaths(Path(output), 1).stats.read_text(encoding="utf-8"))
    timings = {stage: stats.get(stage) or 0.0 for stage in STAGES}  # absent: stage had no work
    timings["generation_tokens_per_second"] = stats.get("generation_tokens_per_second") or 0.0
    timings["cycle_seconds"] = wall
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="builtin:tiny-coder", help="Hub id or directory.")
    parser.add_argument("--backends", default="transformers,vllm", help="Comma-separated.")
    parser.add_argument("--prompts", type=int, default=16, help="Built-in C tasks per cycle.")
    parser.add_argument("--samples", type=int, default=4, help="Samples per prompt.")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16, help="generation.batch_size")
    parser.add_argument("--gpu-memory-utilization", type=float, default=None)
    parser.add_argument("--max-model-len", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()

    from halo_forge import ui
    from halo_forge.data.builtin_tasks import generate_tasks

    ui.set_quiet(True)  # progress bars would only add noise to the timing
    tasks = generate_tasks("builtin_c", count=arguments.prompts, seed=1)
    backends = arguments.backends.split(",")
    measured: dict[str, list[dict[str, float]]] = {backend: [] for backend in backends}
    ratios: dict[str, list[float]] = {backend: [] for backend in backends}
    for _ in range(arguments.repeats):
        for backend in backends:
            measured[backend].append(one_cycle(arguments, backend, tasks))
            first = measured[backends[0]][-1]["generation_seconds"]
            ratios[backend].append(first / measured[backend][-1]["generation_seconds"])
    print(
        f"model {arguments.model}: one RAFT cycle, {arguments.prompts} prompts x "
        f"{arguments.samples} samples x {arguments.max_new_tokens} new tokens, gcc verifier, "
        f"median of {arguments.repeats}"
    )
    print(
        f"  {'backend':14s} {'generation s':>12s} {'tokens/s':>9s} {'verify s':>9s} "
        f"{'train s':>8s} {'cycle s':>8s} {'gen speed-up':>12s}"
    )
    for backend, runs in measured.items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(
            f"  {backend:14s} {median['generation_seconds']:12.1f} "
            f"{median['generation_tokens_per_second']:9.0f} "
            f"{median['verification_seconds']:9.1f} {median['training_seconds']:8.1f} "
            f"{median['cycle_seconds']:8.1f} {statistics.median(ratios[backend]):11.2f}x"
        )


if __name__ == "__main__":
    main()
