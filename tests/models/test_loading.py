"""Loading models and adapters: device/dtype choice, and the adapter's own record of its base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
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
    with pytest.raises(ModelError, match="Hugging Face model id"):
        load_model(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelError, match=TINY_MODEL_NAME):
        load_model("builtin:huge-coder")
