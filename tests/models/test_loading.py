"""Loading models and adapters: device/dtype choice, the adapter's own record of its base, and
errors that name the fix for missing paths, run folders and an unreachable hub."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from models.adapters import PROBE_IDS, adapter_with_nonzero_update, probe_logits
from peft import PeftModel, get_peft_model
from transformers import AutoModelForCausalLM

from halo_forge.errors import ConfigError, ModelError
from halo_forge.models import (
    TINY_MODEL_NAME,
    adapter_base_name,
    ensure_tiny_model,
    load_model,
    load_tokenizer,
    lora_config,
    resolve_device,
    resolve_dtype,
    resolve_model_source,
    save_model,
)


@pytest.fixture(scope="module")
def tiny_dir() -> Path:
    return ensure_tiny_model()


def _other_base(tiny_dir: Path, directory: Path) -> Path:
    """A second full model with the tiny architecture but different weights."""
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.5)
    model.save_pretrained(directory)
    load_tokenizer(str(tiny_dir)).save_pretrained(directory)
    return directory


def _logits(model: torch.nn.Module, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits


def test_auto_dtype_is_bf16_on_capable_gpus_and_fp32_on_cpu() -> None:
    if torch.cuda.is_available():
        assert resolve_device(None).type == "cuda"
        expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        assert resolve_dtype("auto", resolve_device("auto")) == expected
    else:
        assert resolve_dtype(None, torch.device("cpu")) == torch.float32
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32


def test_explicit_dtype_and_device_override_the_automatic_choice() -> None:
    assert resolve_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    assert resolve_dtype("float16", torch.device("cpu")) == torch.float16
    assert resolve_device("cpu") == torch.device("cpu")


def test_bad_device_or_dtype_names_the_allowed_values() -> None:
    with pytest.raises(ConfigError, match="bfloat16"):
        resolve_dtype("half-ish", torch.device("cpu"))
    with pytest.raises(ConfigError, match="cpu, cuda"):
        resolve_device("tpu-9000")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="--device cpu"):
            resolve_device("cuda")


def test_loads_a_full_model_in_eval_mode_with_padding(tiny_dir: Path) -> None:
    model, tokenizer = load_model(str(tiny_dir), device="cpu", dtype="bfloat16")

    assert not isinstance(model, PeftModel)
    assert model.dtype == torch.bfloat16
    assert model.device.type == "cpu"
    assert not model.training
    assert tokenizer.pad_token is not None


def test_adapter_dir_loads_the_base_named_in_adapter_config(tiny_dir: Path, tmp_path: Path) -> None:
    other = _other_base(tiny_dir, tmp_path / "other-base")
    base, tokenizer = load_model(str(other), device="cpu")
    adapted = get_peft_model(base, lora_config())
    with torch.no_grad():
        for name, parameter in adapted.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    expected = _logits(adapted, [5, 6, 7, 8])
    adapter_dir = save_model(adapted, tokenizer, tmp_path / "adapter")

    assert adapter_base_name(adapter_dir) == str(other.resolve())
    reloaded, _ = load_model(str(adapter_dir), device="cpu")

    assert isinstance(reloaded, PeftModel)
    torch.testing.assert_close(_logits(reloaded, [5, 6, 7, 8]), expected, rtol=1e-4, atol=1e-4)
    # The same adapter on the tiny base would give other logits: the recorded base was used.
    wrong_base = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_dir), str(adapter_dir)
    )
    assert not torch.allclose(_logits(wrong_base, [5, 6, 7, 8]), expected, rtol=1e-2, atol=1e-2)


def test_adapter_on_the_builtin_model_records_the_portable_name(tmp_path: Path) -> None:
    base, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
    adapter_dir = save_model(get_peft_model(base, lora_config()), tokenizer, tmp_path / "adapter")

    assert adapter_base_name(adapter_dir) == TINY_MODEL_NAME
    source = resolve_model_source(str(adapter_dir))
    assert source.adapter_dir == adapter_dir
    assert source.base == str(ensure_tiny_model())


def test_adapter_config_without_base_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))

    with pytest.raises(ModelError, match="base_model_name_or_path"):
        load_model(str(tmp_path))


def test_missing_model_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Hugging Face id"):
        load_model(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelError, match=TINY_MODEL_NAME):
        load_model("builtin:huge-coder")


@pytest.mark.parametrize(
    "name", ["./no-such-model", "~/no-such-model-dir", "runs//sft", "{tmp}/models/sft/final_model"]
)
def test_a_missing_local_path_is_no_such_model_directory_not_a_hub_error(
    name: str, tmp_path: Path
) -> None:
    (tmp_path / "models").mkdir()  # `models/sft/...` below an existing directory is a path
    name = name.format(tmp=tmp_path)

    with pytest.raises(ModelError, match="no such model directory") as raised:
        load_tokenizer(name)

    assert name in str(raised.value)
    assert "Repo id" not in str(raised.value)


def test_an_sft_run_folder_names_its_final_model(tiny_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "sft-run"
    shutil.copytree(tiny_dir, run / "final_model")
    (run / "checkpoint-4").mkdir()

    with pytest.raises(ModelError, match="training run folder") as raised:
        load_model(str(run))

    assert str(run / "final_model") in str(raised.value)
    assert "sentencepiece" not in str(raised.value)


def test_a_raft_run_folder_names_its_last_cycle_model(tmp_path: Path) -> None:
    for cycle in (1, 2, 10):
        (tmp_path / f"cycle_{cycle}_final").mkdir()
    (tmp_path / "cycle_10").mkdir()

    with pytest.raises(ModelError, match="training run folder") as raised:
        resolve_model_source(str(tmp_path))

    assert str(tmp_path / "cycle_10_final") in str(raised.value)
    assert "cycle_2_final" not in str(raised.value)


def test_final_model_of_an_unfinished_run_names_its_newest_checkpoint(tmp_path: Path) -> None:
    for step in (4, 12):
        (tmp_path / f"checkpoint-{step}").mkdir()

    with pytest.raises(ModelError, match="no such model directory") as raised:
        resolve_model_source(str(tmp_path / "final_model"))

    assert f"did you mean {tmp_path / 'checkpoint-12'}" in str(raised.value)


def test_a_directory_without_a_model_says_which_files_are_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"neither config\.json nor adapter_config\.json"):
        load_model(str(tmp_path))


def test_an_uncached_hub_id_offline_fails_at_once_naming_the_fix() -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # set for the whole suite in conftest.py
    started = time.monotonic()

    with pytest.raises(ModelError) as raised:
        load_model("halo-forge-tests/never-downloaded")

    assert time.monotonic() - started < 2
    message = str(raised.value)
    assert "'halo-forge-tests/never-downloaded'" in message
    assert "HF_HUB_OFFLINE=1 is set" in message
    assert "hf download halo-forge-tests/never-downloaded" in message
    assert "local model directory" in message


@pytest.mark.slow
def test_an_unreachable_hub_fails_in_seconds_without_retrying(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    environment = {key: value for key, value in os.environ.items() if key != "HF_HUB_OFFLINE"}
    environment["HF_ENDPOINT"] = f"http://127.0.0.1:{closed_port}"
    environment["HF_HOME"] = str(tmp_path / "huggingface")  # an empty cache
    script = (
        "import json, time\n"
        "from halo_forge.errors import ModelError\n"
        "from halo_forge.models import load_tokenizer\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    load_tokenizer('halo-forge-tests/never-downloaded')\n"
        "except ModelError as error:\n"
        "    print(json.dumps({'seconds': time.monotonic() - started, 'error': str(error)}))\n"
    )

    finished = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        timeout=180,
        check=True,
    )

    outcome = json.loads(finished.stdout.strip().splitlines()[-1])
    assert outcome["seconds"] < 5, outcome  # the hub client alone retries for ~20 s per file
    assert "cannot download model 'halo-forge-tests/never-downloaded'" in outcome["error"]
    assert f"127.0.0.1:{closed_port}" in outcome["error"]
    assert "pass a local model directory" in outcome["error"]


_PLAIN_PEFT_LOGITS = """
import sys, torch
from peft import AutoPeftModelForCausalLM
model = AutoPeftModelForCausalLM.from_pretrained(sys.argv[1])
model.eval()
with torch.no_grad():
    torch.save(model(input_ids=torch.tensor([PROBE_IDS])).logits, sys.argv[2])
assert "halo_forge" not in sys.modules
"""


def plain_peft_logits(adapter_dir: Path, output: Path) -> torch.Tensor:
    """The adapter's logits on `PROBE_IDS` as plain peft computes them, in a fresh process."""
    script = f"PROBE_IDS = {PROBE_IDS}\n{_PLAIN_PEFT_LOGITS}"
    subprocess.run(
        [sys.executable, "-c", script, str(adapter_dir), str(output)], check=True, timeout=300
    )
    return torch.load(output)


def test_adapter_of_the_builtin_model_opens_with_plain_peft(tmp_path: Path) -> None:
    _, adapter_dir = adapter_with_nonzero_update(tmp_path)

    assert adapter_base_dir(adapter_dir) == str(ensure_tiny_model())
    loaded, _ = load_model(str(adapter_dir), device="cpu")
    expected = probe_logits(loaded)
    assert torch.allclose(plain_peft_logits(adapter_dir, tmp_path / "logits.pt"), expected)


def test_adapter_of_the_builtin_model_rebuilds_a_deleted_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path / "cache"))
    adapted, adapter_dir = adapter_with_nonzero_update(tmp_path)
    expected = probe_logits(adapted)
    recorded_base = Path(adapter_base_dir(adapter_dir))
    assert recorded_base.is_relative_to(tmp_path / "cache")

    shutil.rmtree(tmp_path / "cache")
    loaded, _ = load_model(str(adapter_dir), device="cpu")

    assert recorded_base.is_dir()
    assert torch.allclose(probe_logits(loaded), expected)


def test_adapter_from_another_cache_location_loads_the_builtin_model_here(
    tmp_path: Path,
) -> None:
    adapted, adapter_dir = adapter_with_nonzero_update(tmp_path)
    config_path = adapter_dir / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = "/home/elsewhere/.cache/halo-forge/models/tiny-coder"
    config_path.write_text(json.dumps(config))

    assert adapter_base_name(adapter_dir) == TINY_MODEL_NAME
    loaded, tokenizer = load_model(str(adapter_dir), device="cpu")
    assert torch.allclose(probe_logits(loaded), probe_logits(adapted))
    resaved = save_model(loaded, tokenizer, tmp_path / "resaved")
    assert adapter_base_dir(resaved) == str(ensure_tiny_model())


def adapter_base_dir(adapter_dir: Path) -> str:
    """The base an adapter records for plain peft (`base_model_name_or_path`)."""
    return json.loads((adapter_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
