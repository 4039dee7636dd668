"""A run stopped by Ctrl-C, or SIGKILLed in generation, verification or training, resumes.

The run happens in a child process that sends itself SIGINT during its first generation batch,
or kills itself (SIGKILL, no cleanup of any kind) at a chosen point: at its second generation
batch, at the second verification chunk, or at the end of the first training step. Each re-run
of the same command continues from the files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import read_jsonl, write_jsonl

pytestmark = pytest.mark.slow

SAMPLES_PER_PROMPT = 2
PROMPTS = 3

CHILD = """
import os, signal, sys
from halo_forge.config.models import RAFTConfig
from halo_forge.generation.transformers_backend import TransformersSampler
from halo_forge.raft import cycle
from halo_forge.raft.loop import RAFTTrainer
from halo_forge.training.hf_trainer import TrainingLogCallback
from halo_forge.verifiers import records

stage = os.environ.get("KILL_AT", "")
calls = {"generate": 0, "verify": 0}
cycle.VERIFY_CHUNK = 2

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

original_generate = TransformersSampler.generate
def generate(self, *args, **kwargs):
    calls["generate"] += 1
    if stage == "generation" and calls["generate"] == 2:
        kill()
    if stage == "interrupt":
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while this batch is generated
    return original_generate(self, *args, **kwargs)
TransformersSampler.generate = generate

original_run_batch = records.run_batch
def run_batch(*args, **kwargs):
    calls["verify"] += 1
    if stage == "verification" and calls["verify"] == 2:
        kill()
    return original_run_batch(*args, **kwargs)
records.run_batch = run_batch  # the batch call of `verify_records`, the loop RAFT verifies in

original_step_end = TrainingLogCallback.on_step_end
def on_step_end(self, *args, **kwargs):
    if stage == "training":
        kill()
    return original_step_end(self, *args, **kwargs)
TrainingLogCallback.on_step_end = on_step_end

config = RAFTConfig.model_validate({
    "raft": {"num_cycles": 1, "samples_per_prompt": %(samples)d, "reward_threshold": 0.5,
             "keep_top_percent": 1.0, "min_samples": 1},
    "generation": {"max_new_tokens": 16, "batch_size": 1},
    "training": {"batch_size": 1, "gradient_accumulation_steps": 1, "learning_rate": 1e-3},
    "verifier": {"type": "gcc", "run_after_compile": True},
})
RAFTTrainer(model="builtin:tiny-coder", config=config, output_dir=sys.argv[2]).run(sys.argv[1])
"""


def _run(script: Path, prompts: Path, output: Path, kill_at: str) -> int:
    environment = {**os.environ, "KILL_AT": kill_at}
    completed = subprocess.run(
        [sys.executable, str(script), str(prompts), str(output)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if kill_at == "interrupt":
        assert "KeyboardInterrupt" in completed.stderr, completed.stderr[-2000:]
    elif kill_at:
        assert completed.returncode == -signal.SIGKILL, completed.stderr[-2000:]
    else:
        assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.returncode


def _ids(path: Path) -> list[str]:
    return [record["sample_id"] for record in read_jsonl(path)]


def test_run_killed_in_every_stage_resumes_with_no_lost_or_duplicate_sample(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD % {"samples": SAMPLES_PER_PROMPT}, encoding="utf-8")
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, generate_tasks("builtin_c", PROMPTS, 0))
    output = tmp_path / "run"
    cycle_dir = output / "cycle_1"
    expected = PROMPTS * SAMPLES_PER_PROMPT

    _run(script, prompts, output, "interrupt")
    first_batch = read_jsonl(cycle_dir / "samples.jsonl")
    assert len(first_batch) == SAMPLES_PER_PROMPT  # Ctrl-C: the batch in flight is finished

    _run(script, prompts, output, "generation")
    two_batches = read_jsonl(cycle_dir / "samples.jsonl")
    assert two_batches[: len(first_batch)] == first_batch
    assert len(two_batches) == 2 * SAMPLES_PER_PROMPT  # batch 2 of 3 flushed, then the kill
    assert not (cycle_dir / "verified.jsonl").exists()

    _run(script, prompts, output, "verification")
    samples = read_jsonl(cycle_dir / "samples.jsonl")
    assert samples[: len(two_batches)] == two_batches  # kept, not regenerated
    assert len(samples) == expected
    assert len(read_jsonl(cycle_dir / "verified.jsonl")) == 2  # one chunk of two was flushed

    _run(script, prompts, output, "training")
    assert sorted(_ids(cycle_dir / "verified.jsonl")) == sorted(_ids(cycle_dir / "samples.jsonl"))
    kept = read_jsonl(cycle_dir / "kept.jsonl")
    assert kept
    assert not (output / "cycle_1_final").exists()
    assert not (cycle_dir / "stats.json").exists()

    _run(script, prompts, output, "")
    sample_ids = _ids(cycle_dir / "samples.jsonl")
    verified_ids = _ids(cycle_dir / "verified.jsonl")
    assert len(sample_ids) == len(verified_ids) == expected
    assert Counter(sample_ids) == Counter(verified_ids)
    assert len(set(sample_ids)) == expected
    assert read_jsonl(cycle_dir / "samples.jsonl") == samples
    assert read_jsonl(cycle_dir / "kept.jsonl") == kept
    stats = json.loads((cycle_dir / "stats.json").read_text())
    assert stats["samples"] == expected and stats["kept"] == len(kept)
    assert stats["train_loss"] is not None
    assert (output / "cycle_1_final" / "adapter_model.safetensors").is_file()
