"""`halo-forge model merge`: an adapter becomes a model plain transformers loads on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from models.adapters import PROBE_IDS, adapter_with_nonzero_update, probe_logits
from safetensors.torch import load_file
from typer.testing import CliRunner

from halo_forge import ui
from halo_forge.cli.main import app
from halo_forge.errors import ModelError
from halo_forge.models import ensure_tiny_model

runner = CliRunner()

# Runs in a fresh interpreter: only transformers, as a user of the exported model would.
PLAIN_TRANSFORMERS_LOAD = """
import json, sys
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

directory, ids = sys.argv[1], json.loads(sys.argv[2])
model = AutoModelForCausalLM.from_pretrained(directory).eval()
tokenizer = AutoTokenizer.from_pretrained(directory)
with torch.no_grad():
    logits = model(input_ids=torch.tensor([ids])).logits
chat = tokenizer.apply_chat_template(
    [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
)
print(json.dumps({
    "logits": logits.tolist(),
    "chat": chat,
    "halo_forge_imported": any(name.split(".")[0] == "halo_forge" for name in sys.modules),
}))
"""


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """Each invocation prints to its own captured stdout, not a console bound to an older one."""
    ui.set_quiet(False)
    yield
    ui.set_quiet(False)


def _load_without_halo_forge(directory: Path, cwd: Path) -> dict[str, object]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PYTHON")
    } | {"HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", PLAIN_TRANSFORMERS_LOAD, str(directory), json.dumps(PROBE_IDS)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_merged_adapter_loads_with_plain_transformers_and_gives_the_adapter_logits(
    tmp_path: Path,
) -> None:
    adapted, adapter_dir = adapter_with_nonzero_update(tmp_path)
    output = tmp_path / "merged"

    result = runner.invoke(app, ["model", "merge", str(adapter_dir), "--output", str(output)])

    assert result.exit_code == 0, result.output
    files = {path.name for path in output.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= files
    assert "adapter_config.json" not in files
    loaded = _load_without_halo_forge(output, cwd=tmp_path)
    assert loaded["halo_forge_imported"] is False
    torch.testing.assert_close(
        torch.tensor(loaded["logits"]), probe_logits(adapted), rtol=1e-4, atol=1e-4
    )
    assert loaded["chat"] == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_a_full_model_directory_is_saved_in_the_asked_dtype(tmp_path: Path) -> None:
    output = tmp_path / "bf16"

    result = runner.invoke(
        app,
        ["model", "merge", str(ensure_tiny_model()), "-o", str(output), "--dtype", "bfloat16"],
    )

    assert result.exit_code == 0, result.output
    weights = load_file(output / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values()} == {torch.bfloat16}


def test_merge_into_a_non_empty_directory_asks_for_force(tmp_path: Path) -> None:
    output = tmp_path / "taken"
    output.mkdir()
    (output / "notes.txt").write_text("earlier work", encoding="utf-8")

    result = runner.invoke(app, ["model", "merge", str(ensure_tiny_model()), "-o", str(output)])

    assert isinstance(result.exception, ModelError)
    assert "--force" in str(result.exception)
    assert (output / "notes.txt").read_text(encoding="utf-8") == "earlier work"


def test_help_says_what_the_merged_model_holds_and_who_loads_it() -> None:
    result = runner.invoke(app, ["model", "merge", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    for phrase in ("safetensors", "chat", "vLLM", "--force", "adapter_config.json"):
        assert phrase in result.output
