"""What a GRPO run shows while it trains: the progress bar, one line per log, `training_log.json`.

`TrainingLogCallback` (SFT's) draws the bar and rewrites the log from the trainer's history,
which a resumed run restores; this subclass keeps GRPO's numbers in it: the reward mean and
standard deviation TRL computes over each step's completions, and the pass rate, compile rate
and timed-out count that `VerifierReward` reports, besides loss, learning rate and gradient norm.
TensorBoard gets every one of them through the library's TensorBoard callback, step by step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import TrainerControl, TrainerState, TrainingArguments

from halo_forge import ui
from halo_forge.files import write_json
from halo_forge.training.hf_trainer import TrainingLogCallback

#: TRL's names of the step's reward mean and standard deviation (over all its completions).
REWARD_KEYS = ("reward", "reward_std")
#: What every row keeps besides the reward's own metrics (`rewards/<name>/...`).
STEP_KEYS = ("step", "epoch", "loss", "learning_rate", "grad_norm", *REWARD_KEYS)


def reward_metric(reward_name: str, metric: str) -> str:
    """The log key of a `VerifierReward` metric: `rewards/gcc/pass_rate`."""
    return f"rewards/{reward_name}/{metric}"


class GRPOLogCallback(TrainingLogCallback):
    """SFT's bar and log file, with GRPO's per-step reward numbers (module docstring)."""

    def __init__(self, path: Path, reward_name: str) -> None:
        super().__init__(path)
        self.reward_name = reward_name

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        self._state = state
        logs = logs or {}
        if "reward" in logs:
            ui.echo(self.describe(state.global_step, logs))
        self.write()

    def describe(self, step: int, logs: dict[str, float]) -> str:
        """`step 3  reward 0.61 ± 0.22  pass 25.0%  compile 93.8%  loss 0.0123`."""
        parts = [f"step {step}", f"reward {logs['reward']:.3f} ± {logs.get('reward_std', 0):.3f}"]
        for metric, label in (("pass_rate", "pass"), ("compile_rate", "compile")):
            value = logs.get(reward_metric(self.reward_name, metric))
            if value is not None:
                parts.append(f"{label} {value:.1%}")
        timed_out = logs.get(reward_metric(self.reward_name, "timed_out"))
        if timed_out:
            parts.append(f"timed out {timed_out:g}")
        if "loss" in logs:
            parts.append(f"loss {logs['loss']:.4f}")
        return "  ".join(parts)

    def write(self, summary: dict[str, Any] | None = None) -> None:
        """Rewrite the log: one `train` row per logged step, and the summary once done."""
        history = self._state.log_history if self._state is not None else []
        prefix = reward_metric(self.reward_name, "")
        rows = [
            {
                key: value
                for key, value in entry.items()
                if key in STEP_KEYS or key.startswith(prefix)
            }
            for entry in history
            if "reward" in entry
        ]
        document: dict[str, Any] = {"train": rows, "eval": []}
        if summary is not None:
            document["summary"] = summary
        write_json(self.path, document)
