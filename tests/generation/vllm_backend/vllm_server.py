"""A real `vllm serve` (vLLM's OpenAI-compatible API server) on 127.0.0.1, for the tests.

The server runs as its own process group, so stopping it ends its engine process too. It loads
LoRA adapters at runtime (`VLLM_ALLOW_RUNTIME_LORA_UPDATING`) and requires an API key.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

API_KEY = "test-key"
START_TIMEOUT_S = 240


@dataclass(frozen=True)
class Server:
    """Where the test server listens, which model it serves and where it logs."""

    base_url: str
    model: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    """Whether the server answers HTTP at all (401 without a key counts: it is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextmanager
def vllm_server(model_dir: Path, log: Path, max_lora_rank: int = 16) -> Iterator[Server]:
    """Start `vllm serve` on `model_dir` (served under its path) and stop it afterwards."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--enforce-eager",
        "--max-model-len",
        "256",
        "--enable-lora",
        "--max-lora-rank",
        str(max_lora_rank),
        "--api-key",
        API_KEY,
    ]
    environment = {
        **os.environ,
        "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
        "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB; vLLM's CPU default is most of the machine's RAM
    }
    base_url = f"http://127.0.0.1:{port}/v1"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(f"{base_url}/models"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"vllm serve did not start: {log.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(1)
        yield Server(base_url, str(model_dir), log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
