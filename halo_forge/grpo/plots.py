"""A GRPO run's `training_log.json` as a PNG: reward, pass and compile rate per optimizer step.

RAFT's plot has one point per cycle; GRPO's unit is the step, and its per-step rates are noisy
(a step sees a handful of prompts), so each curve is drawn beside its moving average.
"""

from __future__ import annotations

import json
from pathlib import Path

from halo_forge.errors import DataError
from halo_forge.grpo.callbacks import reward_metric
from halo_forge.paths import TRAINING_LOG_FILE

#: Where `plot_grpo_log` puts the plot, beside the log (the name RAFT's plot has).
TRAINING_PLOT_FILE = "training_log.png"
#: Steps averaged by the smoothed curve.
SMOOTHING_STEPS = 10


def moving_average(values: list[float], window: int = SMOOTHING_STEPS) -> list[float]:
    """Each value averaged with up to `window - 1` values before it."""
    return [
        sum(values[max(0, index - window + 1) : index + 1])
        / (index - max(0, index - window + 1) + 1)
        for index in range(len(values))
    ]


def plot_grpo_log(output_dir: Path, reward_name: str) -> Path:
    """Write `output_dir/training_log.png` from the run's log; returns its path."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    log_path = Path(output_dir) / TRAINING_LOG_FILE
    if not log_path.is_file():
        raise DataError(f"{log_path}: no training log; run `halo-forge grpo train` first")
    rows = json.loads(log_path.read_text(encoding="utf-8")).get("train", [])
    figure, (reward_axes, rates_axes) = plt.subplots(1, 2, figsize=(11.0, 4.0))
    curves = (
        (reward_axes, "reward", "reward", 1.0),
        (rates_axes, reward_metric(reward_name, "pass_rate"), "pass rate", 100.0),
        (rates_axes, reward_metric(reward_name, "compile_rate"), "compile rate", 100.0),
    )
    for axes, key, label, scale in curves:
        points = [(row["step"], scale * row[key]) for row in rows if row.get(key) is not None]
        if not points:
            continue
        steps, values = [step for step, _ in points], [value for _, value in points]
        line = axes.plot(steps, values, alpha=0.3)[0]
        axes.plot(steps, moving_average(values), color=line.get_color(), label=label)
    reward_axes.set_title("mean reward per step")
    rates_axes.set_title("pass and compile rate per step (percent)")
    rates_axes.set_ylim(0, 100)
    for axes in (reward_axes, rates_axes):
        axes.set_xlabel("step")
        if axes.lines:
            axes.legend()
    figure.suptitle(f"GRPO run {output_dir}")
    figure.tight_layout()
    path = Path(output_dir) / TRAINING_PLOT_FILE
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
