"""Every script under docs/examples/ runs to the end, as a reader would run it, on the tiny model.

A script takes its output directory as its only argument. It runs with this interpreter in a
fresh HOME, offline (HF_HUB_OFFLINE=1), with its own halo-forge cache, so the embedded model it
trains is built the way a reader's first run builds it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from docs.markdown_blocks import REPOSITORY_ROOT

EXAMPLES = sorted((REPOSITORY_ROOT / "docs" / "examples").glob("*.py"))
TIMEOUT_SECONDS = 300


def test_there_are_example_scripts() -> None:
    assert EXAMPLES, "docs/examples/ holds no script"


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_script_runs(script: Path, tmp_path: Path) -> None:
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("HALO_FORGE_")},
        "HOME": str(tmp_path / "home"),
        "HALO_FORGE_CACHE_DIR": str(tmp_path / "cache"),
        "HF_HOME": str(tmp_path / "home" / "huggingface"),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    completed = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "output")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "step 2: reward" in completed.stdout
