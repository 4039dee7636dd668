"""LoRA adapters: attach, continue, save in the standard PEFT layout, merge for export.

The defaults come from `halo_forge.config.models.LoRASection` (r=16, alpha=32, dropout=0.05,
every linear layer), so a YAML file, the CLI and library callers share one set of values.
A saved adapter directory holds `adapter_config.json`, `adapter_model.safetensors` and the
tokenizer files: everything `PeftModel.from_pretrained` and `halo_forge.models.load_model` need.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from halo_forge import ui
from halo_forge.config.models import LoRASection
from halo_forge.errors import ModelError
from halo_forge.models.loading import is_adapter_dir, load_model, peft_deprecations_silenced

# Saving an adapter, PEFT looks up its base's config.json to see whether the vocabulary grew. A
# base recorded as `builtin:tiny-coder` is neither a directory nor a Hub id, so PEFT warns at
# every save; the builtin model's vocabulary is never resized, so the warning says nothing.
warnings.filterwarnings("ignore", message="Could not find a config file in builtin:")


def lora_config(section: LoRASection | None = None) -> LoraConfig:
    """The PEFT config for a causal-LM LoRA adapter with the given (or default) settings."""
    section = section or LoRASection()
    return LoraConfig(
        r=section.r,
        lora_alpha=section.alpha,
        lora_dropout=section.dropout,
        target_modules=section.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )


def prepare_lora(
    model: PreTrainedModel | PeftModel, section: LoRASection | None = None
) -> PeftModel:
    """A model whose only trainable weights are LoRA adapters.

    A full model gets a new adapter built from `section`. A model that already carries an adapter
    (loaded from an adapter directory) keeps it and makes it trainable: training continues that
    adapter instead of stacking a second one, so RAFT cycles refine one adapter.
    """
    if isinstance(model, PeftModel):
        model.set_requires_grad(model.active_adapter, requires_grad=True)
        return model
    with peft_deprecations_silenced():
        return get_peft_model(model, lora_config(section))


def trainable_model(
    model: PreTrainedModel | PeftModel, lora: LoRASection
) -> PreTrainedModel | PeftModel:
    """The model as training should see it: LoRA adapters only, or every weight.

    With LoRA a full model gets a new adapter and an adapter is continued (`prepare_lora`).
    Without it an adapter given as the model is first folded into its base weights, so the
    result is one plain model whose every parameter trains.
    """
    if lora.enabled:
        return prepare_lora(model, lora)
    if isinstance(model, PeftModel):
        ui.echo("lora disabled: merging the adapter into its base for a full fine-tune")
        model = model.merge_and_unload()
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return model


def trainable_parameter_count(model: PreTrainedModel | PeftModel) -> tuple[int, int]:
    """(trainable, total) parameter counts, for the training summary."""
    trainable = sum(
        parameter.numel() for parameter in model.parameters() if parameter.requires_grad
    )
    total = sum(parameter.numel() for parameter in model.parameters())
    return trainable, total


def save_model(
    model: PreTrainedModel | PeftModel, tokenizer: PreTrainedTokenizerBase, output_dir: str | Path
) -> Path:
    """Save an adapter (PEFT layout) or a full model, with the tokenizer files beside it."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    return output_dir


def merge_adapter(
    adapter_dir: str | Path,
    output_dir: str | Path,
    *,
    device: str | None = None,
    dtype: str | None = None,
    trust_remote_code: bool = False,
) -> Path:
    """Fold an adapter into its base weights and save a standalone model (for export or vLLM).

    The base is the one named in the adapter's `adapter_config.json`.
    """
    if not is_adapter_dir(adapter_dir):
        raise ModelError(
            f"{adapter_dir} holds no adapter_config.json, so there is no adapter to merge; "
            "point to the final_model/ directory of a LoRA run"
        )
    model, tokenizer = load_model(
        str(adapter_dir), device=device, dtype=dtype, trust_remote_code=trust_remote_code
    )
    merged = model.merge_and_unload()
    return save_model(merged, tokenizer, output_dir)
