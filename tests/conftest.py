"""Suite-wide isolation (caches, command logs and Hugging Face files go to per-session temp dirs),
and benchmark result files: `save_result` writes given samples, `write_run` builds them from
per-prompt counts."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from halo_forge.benchmark.results import (
    SampleOutcome,
    Timing,
    build_result,
    samples_path_for,
    write_result,
)

_SESSION_DIR = tempfile.mkdtemp(prefix="halo-forge-tests-")
os.environ.setdefault("HALO_FORGE_CACHE_DIR", os.path.join(_SESSION_DIR, "cache"))
os.environ.setdefault("HALO_FORGE_LOG_DIR", os.path.join(_SESSION_DIR, "logs"))
# Tests never download: Hugging Face libraries fail fast and keep their caches out of the home dir.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HOME", os.path.join(_SESSION_DIR, "huggingface"))
# One intra-op thread: tiny models gain nothing from more, and verifier subprocesses share the cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def log_dir() -> str:
    """Directory where command logs of this test session are written."""
    return os.environ["HALO_FORGE_LOG_DIR"]


_SAMPLE = SampleOutcome(
    prompt_id="",
    sample_index=0,
    category="basics",
    completion="int main(void) { return 0; }",
    reward=0.0,
    success=False,
    compiled=True,
    details="",
)


SaveResult = Callable[[list[SampleOutcome], Path, list[int], str], Path]


def _save_result(
    samples: list[SampleOutcome], output: Path, k_values: list[int], verifier: str
) -> Path:
    """Write `samples` as a benchmark result of a model named after the file, with its JSONL."""
    result = build_result(
        samples,
        k_values=k_values,
        samples_per_prompt=max(sample.sample_index for sample in samples) + 1,
        model=f"models/{output.stem}",
        verifier=verifier,
        prompt_format="chat template",
        timing=Timing(generation=1.0, verification=1.0, total=2.0),
        config={},
        samples_file=samples_path_for(output).name,
    )
    write_result(result, samples, output)
    return output


@pytest.fixture(scope="session")
def save_result() -> SaveResult:
    """`save(samples, output, k_values, verifier)` -> output: a result JSON and its samples JSONL."""
    return _save_result


@pytest.fixture
def write_run(tmp_path: Path) -> Callable[[str, dict[str, tuple[int, int]], list[int]], Path]:
    """`write(name, {prompt_id: (n, c)}, k_values)` -> tmp_path/results/<name>.json.

    Each prompt gets n samples, the first c of them passing.
    """

    def write(name: str, counts: dict[str, tuple[int, int]], k_values: list[int]) -> Path:
        samples = [
            replace(
                _SAMPLE,
                prompt_id=prompt_id,
                sample_index=index,
                success=index < c,
                reward=1.0 if index < c else 0.5,
            )
            for prompt_id, (n, c) in counts.items()
            for index in range(n)
        ]
        return _save_result(samples, tmp_path / "results" / f"{name}.json", k_values, "gcc")

    return write
