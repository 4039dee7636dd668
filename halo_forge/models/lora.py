"""LoRA adapters: attach, continue, save in the standard PEFT layout, merge for export.

The defaults come from `halo_forge.config.models.LoRASection` (r=16, alpha=32, dropout=0.05,
every linear layer), so a YAML file, the CLI and library callers share one set of values.
A saved adapter directory holds `adapter_config.json`, `adapter_model.safetensors` and the
tokenizer files: everything `PeftModel.from_pretrained` and `halo_forge.models.load_model` need.
"""

from __future__ import annotations

from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from halo_forge import ui
from halo_forge.config.models import LoRASection
from halo_forge.distributed import barrier, is_main_process, world_size
from halo_forge.errors import ModelError
from halo_forge.files import replacing_directory
from halo_forge.models.loading import load_model, peft_deprecations_silenced
from halo_forge.models.tiny import is_tiny_model_dir, mark_builtin_base


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
    """Save an adapter (PEFT layout) or a full model, with the tokenizer files beside it.

    An adapter of the tiny model also gets `BUILTIN_BASE_FILE`, so it stays portable: its
    recorded base directory is this machine's cache (`tiny.mark_builtin_base`).
    Under a multi-process launch every process calls this: the main one writes, all wait for it;
    weights that FSDP sharded over the processes are gathered first.
    """
    output_dir = Path(output_dir)
    state_dict = gathered_state_dict(model)  # every process takes part in gathering shards
    if is_main_process():
        output_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(output_dir), state_dict=state_dict)
        tokenizer.save_pretrained(str(output_dir))
        if isinstance(model, PeftModel) and any(
            config.base_model_name_or_path and is_tiny_model_dir(config.base_model_name_or_path)
            for config in model.peft_config.values()
        ):
            mark_builtin_base(output_dir)
    barrier()
    return output_dir


def gathered_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor] | None:
    """The whole weights of a model FSDP (version 2) sharded over the processes, on the main
    process (None elsewhere, and None for a model whose parameters are not sharded, which saves
    its own weights). A collective: every process of the launch must call it."""
    if world_size() == 1:
        return None
    from torch.distributed.tensor import DTensor

    if not any(isinstance(parameter, DTensor) for parameter in model.parameters()):
        return None
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    gathered = get_model_state_dict(
        model, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
    )
    return gathered if is_main_process() else None


def merge_adapter(
    model_name: str | Path,
    output_dir: str | Path,
    *,
    force: bool = False,
    device: str | None = None,
    dtype: str | None = None,
    trust_remote_code: bool = False,
) -> Path:
    """Write a standalone model that plain transformers and vLLM load, for export or serving.

    An adapter is folded into the base named in its `adapter_config.json`; a full model (a
    directory, a Hugging Face id or `builtin:tiny-coder`) is saved as it is. The output holds
    safetensors weights, `config.json`, the tokenizer files and the chat template: nothing in
    it needs halo-forge or peft. It is written to a temporary directory renamed into place, so
    a killed merge never leaves a directory that looks finished; an existing non-empty
    `output_dir` is replaced only with `force`.
    """
    output_dir = Path(output_dir)
    _check_merge_output(model_name, output_dir, force)
    model, tokenizer = load_model(
        str(model_name), device=device, dtype=dtype, trust_remote_code=trust_remote_code
    )
    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    with replacing_directory(output_dir) as staging:
        save_model(model, tokenizer, staging)
    return output_dir


def _check_merge_output(model_name: str | Path, output_dir: Path, force: bool) -> None:
    """Refuse to overwrite the model being merged, a file, or (without `force`) earlier work."""
    source = Path(model_name)
    if source.exists() and source.resolve() == output_dir.resolve():
        raise ModelError(f"{output_dir} is the model being merged; choose another --output")
    if output_dir.exists() and not output_dir.is_dir():
        raise ModelError(f"{output_dir} is a file; choose a directory for --output")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not force:
        raise ModelError(
            f"{output_dir} already holds files; choose an empty or new directory for --output, "
            "or pass --force to replace it"
        )
