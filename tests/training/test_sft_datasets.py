"""The SFT view of the dataset registry: which entries qualify and what offline use says."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from halo_forge.data.public_datasets import DATASETS, OutputForm
from halo_forge.errors import ConfigError
from halo_forge.training.sft_datasets import load_sft_dataset, sft_datasets


def test_sft_datasets_are_the_registry_entries_with_solutions() -> None:
    names = [entry.name for entry in sft_datasets()]

    assert "codealpaca" in names
    assert names == [name for name, entry in DATASETS.items() if OutputForm.SFT in entry.forms]
    assert "codeforces_rust" not in names


def test_a_dataset_without_solutions_is_refused_with_the_usable_names() -> None:
    with pytest.raises(ConfigError, match="codealpaca"):
        load_sft_dataset("codeforces_rust")


@pytest.mark.slow
def test_offline_loading_explains_how_to_prepare_the_file_first(tmp_path: Path) -> None:
    # A fresh process: the Hub client reads HF_HUB_OFFLINE when it is first imported.
    script = textwrap.dedent(
        """
        from halo_forge.errors import DataError
        from halo_forge.training.sft_datasets import load_sft_dataset
        try:
            load_sft_dataset("codealpaca", limit=3)
        except DataError as error:
            print(error)
        """
    )
    environment = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    run = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, run.stderr
    assert "HF_HUB_OFFLINE is set" in run.stdout
    assert "data prepare --dataset codealpaca --format sft --from PATH" in run.stdout
