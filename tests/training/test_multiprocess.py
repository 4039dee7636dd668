"""Training on several processes, launched the way users launch it: `torchrun` (and `accelerate
launch` with the shipped DDP config), two processes over gloo on this CPU.

- SFT on two "nodes" (two torchrun agents on 127.0.0.1, one process each) follows the loss curve
  of one process with the same effective batch, and writes one model and one training log.
- RAFT on two processes samples, verifies and keeps exactly what one process does with the same
  seed (the main process does those stages; every process trains), and a SIGKILL of the launcher
  after cycle 1 resumes at cycle 2.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import write_jsonl
from halo_forge.models.loading import load_model

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[2]
LAUNCH_TIMEOUT_S = 600


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "HALO_FORGE_LOG_DIR": str(tmp_path / "logs"),
        **extra,
    }


def torchrun(nproc: int, *, nnodes: int = 1, node_rank: int = 0, port: int) -> list[str]:
    """The launcher's command line up to the module it starts."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nnodes={nnodes}",
        f"--node_rank={node_rank}",
        f"--nproc_per_node={nproc}",
        "--master_addr=127.0.0.1",
        f"--master_port={port}",
        "-m",
        "halo_forge.cli",
    ]


def run(command: list[str], tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    finished = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=LAUNCH_TIMEOUT_S,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return finished


def sft_arguments(output: str, batch_size: int) -> list[str]:
    return [
        "sft",
        "train",
        "--model",
        "builtin:tiny-coder",
        "--data",
        "sft.jsonl",
        "--output",
        output,
        "--epochs",
        "1",
        "--batch-size",
        str(batch_size),
        "--gradient-accumulation-steps",
        "1",
        "--set",
        "output.logging_steps=1",
    ]


@pytest.fixture
def sft_data(tmp_path: Path) -> Path:
    tasks = generate_tasks("builtin_c", 32, 0)
    write_jsonl(
        tmp_path / "sft.jsonl",
        [{"prompt": t["prompt"], "completion": t["solution"]} for t in tasks],
    )
    return tmp_path


def test_sft_on_two_nodes_follows_the_loss_curve_of_one_process(sft_data: Path) -> None:
    run([sys.executable, "-m", "halo_forge.cli", *sft_arguments("one", 4)], sft_data)
    port = free_port()
    agents = [
        subprocess.Popen(
            [*torchrun(1, nnodes=2, node_rank=node, port=port), *sft_arguments("two", 2)],
            cwd=sft_data,
            env=environment(sft_data),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for node in (0, 1)
    ]
    for agent in agents:
        output, _ = agent.communicate(timeout=LAUNCH_TIMEOUT_S)
        assert agent.returncode == 0, output[-3000:]

    logs = {
        name: json.loads((sft_data / name / "training_log.json").read_text())
        for name in ("one", "two")
    }
    one, two = ([entry["loss"] for entry in logs[name]["train"]] for name in ("one", "two"))
    assert len(one) == len(two) == 8  # 30 examples: batches of 4, or 2 on each of 2 processes
    assert max(abs(a - b) for a, b in zip(one, two, strict=True)) < 0.05
    assert logs["two"]["summary"]["global_step"] == 8
    load_model(str(sft_data / "two" / "final_model"), device="cpu")
    # One log per rank; their names start with each process's own start time.
    rank_logs = (path.name for path in (sft_data / "logs").glob("sft_train_*_rank*.log"))
    assert sorted(name.rsplit("_", 1)[-1] for name in rank_logs) == ["rank0.log", "rank1.log"]


def test_the_shipped_accelerate_ddp_config_trains_on_two_processes(sft_data: Path) -> None:
    config = REPOSITORY / "configs" / "accelerate" / "ddp.yaml"
    assert yaml.safe_load(config.read_text())["distributed_type"] == "MULTI_GPU"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config)]
    command += ["--main_process_ip", "127.0.0.1", "--main_process_port", str(free_port())]
    run([*command, "-m", "halo_forge.cli", *sft_arguments("accelerated", 2)], sft_data)

    log = json.loads((sft_data / "accelerated" / "training_log.json").read_text())
    assert log["summary"]["global_step"] == 8  # two processes shared each epoch


def raft_setup(tmp_path: Path, cycles: int) -> Path:
    """Four C prompts, and a verifier that passes any sample with a letter in it (so every
    cycle keeps samples and trains)."""
    write_jsonl(tmp_path / "prompts.jsonl", generate_tasks("builtin_c", 4, 0))
    config = {
        "model": "builtin:tiny-coder",
        "prompts": "prompts.jsonl",
        "raft": {"num_cycles": cycles, "samples_per_prompt": 4, "keep_top_percent": 1.0},
        "generation": {"max_new_tokens": 24, "batch_size": 2},
        "training": {"per_device_train_batch_size": 2, "gradient_accumulation_steps": 1},
        "verifier": {"type": "subprocess", "command": ["grep", "-q", "[a-z]", "{file}"]},
    }
    path = tmp_path / f"raft_{cycles}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_raft_on_two_processes_keeps_what_one_keeps_and_resumes_after_sigkill(
    tmp_path: Path,
) -> None:
    one_cycle = raft_setup(tmp_path, cycles=1)
    two_cycles = raft_setup(tmp_path, cycles=2)
    run(
        [
            sys.executable,
            "-m",
            "halo_forge.cli",
            "raft",
            "train",
            "-c",
            str(one_cycle),
            "--output",
            "one",
        ],
        tmp_path,
    )
    arguments = ["raft", "train", "-c", str(two_cycles), "--output", "two"]
    launcher = subprocess.Popen(
        [*torchrun(2, port=free_port()), *arguments],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    while not (tmp_path / "two" / "cycle_1" / "stats.json").is_file():
        assert launcher.poll() is None, "the launch ended before cycle 1 finished"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(launcher.pid, signal.SIGKILL)  # the launcher and both processes, at once
    launcher.wait()

    for stage in ("samples", "verified", "kept"):
        written = {
            name: (tmp_path / name / "cycle_1" / f"{stage}.jsonl").read_bytes()
            for name in ("one", "two")
        }
        assert written["one"] == written["two"], stage
    resumed = run([*torchrun(2, port=free_port()), *arguments], tmp_path)
    assert "cycle 1: finished earlier, skipped" in resumed.stdout + resumed.stderr
    log = json.loads((tmp_path / "two" / "training_log.json").read_text())
    assert [row["cycle"] for row in log["cycles"]] == [1, 2]
    load_model(str(tmp_path / "two" / "cycle_2_final"), device="cpu")


def test_a_model_fsdp_sharded_over_two_processes_is_saved_whole(tmp_path: Path) -> None:
    script = Path(__file__).with_name("fsdp_save.py")
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    launch += ["--master_addr=127.0.0.1", f"--master_port={free_port()}"]
    # An empty cache: the main process builds the tiny model while the other waits (transformers
    # saves weights from rank 0 only once the process group exists).
    run(
        [*launch, str(script), str(tmp_path)],
        tmp_path,
        HALO_FORGE_CACHE_DIR=str(tmp_path / "cache"),
    )

    reference = load_file(tmp_path / "reference" / "adapter_model.safetensors")
    saved = load_file(tmp_path / "sharded" / "adapter_model.safetensors")
    assert saved.keys() == reference.keys()
    for name, tensor in reference.items():
        assert torch.equal(saved[name], tensor), name
