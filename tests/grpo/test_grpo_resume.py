"""A GRPO run SIGKILLed after its first checkpoint resumes from it when the command runs again.

The run happens in a child process that kills itself (SIGKILL: no cleanup of any kind) at the
end of its second step, when `checkpoint-1` exists and step 2 is not saved yet. The same
command then continues from `checkpoint-1` and finishes all three steps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHILD = """
import os, signal, sys
from halo_forge.config import GRPOConfig
from halo_forge.grpo.callbacks import GRPOLogCallback
from halo_forge.grpo.trainer import GRPORunner

if __name__ == "__main__":
    original_step_end = GRPOLogCallback.on_step_end
    def on_step_end(self, args, state, control, **kwargs):
        if os.environ.get("KILL_AT_STEP") == str(state.global_step):
            os.kill(os.getpid(), signal.SIGKILL)
        return original_step_end(self, args, state, control, **kwargs)
    GRPOLogCallback.on_step_end = on_step_end

    config = GRPOConfig.model_validate({
        "model": "builtin:tiny-coder", "prompts": sys.argv[1], "output_dir": sys.argv[2],
        "grpo": {"num_generations": 2, "max_completion_length": 12},
        "training": {"batch_size": 2, "max_steps": 3, "save_steps": 1, "learning_rate": 1e-4},
        "verifier": {"type": "gcc", "language": "c", "run_after_compile": True},
    })
    result = GRPORunner(config=config).run(config.prompts)
    print("steps", result.steps)
"""


def _run(prompts: Path, output: Path, kill_at_step: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KILL_AT_STEP": kill_at_step}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(prompts), str(output)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )


def test_a_run_killed_after_a_checkpoint_resumes_from_it(c_prompts: Path, tmp_path: Path) -> None:
    output = tmp_path / "run"

    killed = _run(c_prompts, output, kill_at_step="2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (output / "checkpoint-1").is_dir()
    assert not (output / "checkpoint-2").exists()
    assert not (output / "final_model").exists()
    first_step = json.loads((output / "training_log.json").read_text())["train"][0]

    resumed = _run(c_prompts, output, kill_at_step="")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    printed = " ".join(resumed.stdout.split())  # the terminal wraps long lines
    assert f"resuming from {output / 'checkpoint-1'}" in printed
    assert "steps 3" in printed
    log = json.loads((output / "training_log.json").read_text())
    assert [row["step"] for row in log["train"]] == [1, 2, 3]
    assert log["train"][0] == first_step  # step 1 was restored from the checkpoint, not redone
    assert (output / "final_model" / "adapter_config.json").is_file()
