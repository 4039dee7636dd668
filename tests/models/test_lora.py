"""LoRA: defaults from the config, every linear layer, standard layout, continuing, merging."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from models.adapters import adapter_with_nonzero_update, probe_logits
from peft import PeftModel
from transformers import AutoModelForCausalLM

from halo_forge.config.models import LoRASection
from halo_forge.errors import ModelError
from halo_forge.models import (
    TINY_MODEL_NAME,
    ensure_tiny_model,
    is_adapter_dir,
    load_model,
    lora_config,
    merge_adapter,
    prepare_lora,
    save_model,
    trainable_parameter_count,
)

LINEAR_LAYERS = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def test_defaults_come_from_the_config_section() -> None:
    config = lora_config()
    section = LoRASection()

    assert (config.r, config.lora_alpha, config.lora_dropout) == (
        section.r,
        section.alpha,
        section.dropout,
    )
    assert lora_config(LoRASection(r=4, alpha=8)).r == 4


def test_all_linear_targets_every_projection_and_only_adapters_train() -> None:
    base, _ = load_model(TINY_MODEL_NAME, device="cpu")
    adapted = prepare_lora(base)

    adapted_layers = {
        name.rsplit(".", 1)[-1]
        for name, module in adapted.named_modules()
        if hasattr(module, "lora_A") and module.lora_A
    }
    assert adapted_layers == LINEAR_LAYERS
    trainable = [name for name, p in adapted.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)


def test_saved_adapter_has_the_standard_layout_and_reloads(tmp_path: Path) -> None:
    adapted, adapter_dir = adapter_with_nonzero_update(tmp_path)

    files = {path.name for path in adapter_dir.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= files
    assert "model.safetensors" not in files
    base = AutoModelForCausalLM.from_pretrained(ensure_tiny_model())
    reloaded = PeftModel.from_pretrained(base, str(adapter_dir))
    torch.testing.assert_close(probe_logits(reloaded), probe_logits(adapted))


def test_training_continues_the_existing_adapter(tmp_path: Path) -> None:
    adapted, adapter_dir = adapter_with_nonzero_update(tmp_path)
    loaded, _ = load_model(str(adapter_dir), device="cpu", adapter_trainable=True)

    continued = prepare_lora(loaded)

    assert continued is loaded  # no second adapter stacked on the first
    assert list(continued.peft_config) == ["default"]
    assert trainable_parameter_count(continued) == trainable_parameter_count(adapted)
    torch.testing.assert_close(probe_logits(continued), probe_logits(adapted))


def test_merged_export_gives_the_adapted_outputs_without_peft(tmp_path: Path) -> None:
    adapted, adapter_dir = adapter_with_nonzero_update(tmp_path)

    merged_dir = merge_adapter(adapter_dir, tmp_path / "merged", device="cpu")

    assert not is_adapter_dir(merged_dir)
    merged = AutoModelForCausalLM.from_pretrained(merged_dir)
    torch.testing.assert_close(probe_logits(merged), probe_logits(adapted), rtol=1e-4, atol=1e-4)


def test_merging_a_full_model_saves_it_unchanged(tmp_path: Path) -> None:
    base, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
    full_dir = save_model(base, tokenizer, tmp_path / "full")

    copied = AutoModelForCausalLM.from_pretrained(merge_adapter(full_dir, tmp_path / "copy"))

    torch.testing.assert_close(probe_logits(copied), probe_logits(base))


def test_merge_refuses_a_non_empty_output_unless_forced(tmp_path: Path) -> None:
    adapted, adapter_dir = adapter_with_nonzero_update(tmp_path)
    output = tmp_path / "merged"
    output.mkdir()
    (output / "adapter_config.json").write_text("{}", encoding="utf-8")

    with pytest.raises(ModelError, match=r"already holds files.*--force"):
        merge_adapter(adapter_dir, output, device="cpu")
    assert [path.name for path in output.iterdir()] == ["adapter_config.json"]

    merge_adapter(adapter_dir, output, device="cpu", force=True)
    assert not is_adapter_dir(output)  # replaced, not merged into the old contents
    merged = AutoModelForCausalLM.from_pretrained(output)
    torch.testing.assert_close(probe_logits(merged), probe_logits(adapted), rtol=1e-4, atol=1e-4)


def test_merge_refuses_to_write_over_the_model_it_reads(tmp_path: Path) -> None:
    _, adapter_dir = adapter_with_nonzero_update(tmp_path)
    with pytest.raises(ModelError, match="is the model being merged"):
        merge_adapter(adapter_dir, adapter_dir, force=True)


def test_wrapping_and_loading_adapters_print_no_deprecation_from_peft(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        _, adapter_dir = adapter_with_nonzero_update(tmp_path)
        load_model(str(adapter_dir), device="cpu", adapter_trainable=True)

    assert not [w for w in caught if "is_gradient_checkpointing" in str(w.message)]
