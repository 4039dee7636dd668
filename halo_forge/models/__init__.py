"""Models: load from a Hugging Face id, a directory or an adapter; LoRA; the embedded tiny model."""

from halo_forge.models.device import bf16_supported, resolve_device, resolve_dtype
from halo_forge.models.loading import (
    ModelSource,
    adapter_base_name,
    is_adapter_dir,
    load_model,
    load_tokenizer,
    resolve_model_source,
)
from halo_forge.models.lora import (
    lora_config,
    merge_adapter,
    prepare_lora,
    save_model,
    trainable_parameter_count,
)
from halo_forge.models.tiny import TINY_MODEL_NAME, build_tiny_model, ensure_tiny_model

__all__ = [
    "TINY_MODEL_NAME",
    "ModelSource",
    "adapter_base_name",
    "bf16_supported",
    "build_tiny_model",
    "ensure_tiny_model",
    "is_adapter_dir",
    "load_model",
    "load_tokenizer",
    "lora_config",
    "merge_adapter",
    "prepare_lora",
    "resolve_device",
    "resolve_dtype",
    "resolve_model_source",
    "save_model",
    "trainable_parameter_count",
]
