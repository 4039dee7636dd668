"""A tiny LoRA adapter that changes the outputs, and the logits to compare models with."""

from __future__ import annotations

from pathlib import Path

import torch
from peft import PeftModel

from halo_forge.models import TINY_MODEL_NAME, load_model, prepare_lora, save_model

#: A fixed prompt of token ids inside the tiny model's vocabulary.
PROBE_IDS = [3, 40, 41, 42, 43]


def adapter_with_nonzero_update(directory: Path) -> tuple[PeftModel, Path]:
    """An adapter on `builtin:tiny-coder` saved to `directory`/adapter.

    Fresh LoRA B matrices are zero (a no-op), so they get random values: a merge that dropped
    the adapter would then give other logits than the adapter model.
    """
    base, tokenizer = load_model(TINY_MODEL_NAME, device="cpu")
    adapted = prepare_lora(base)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, parameter in adapted.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    return adapted, save_model(adapted, tokenizer, directory / "adapter")


def probe_logits(model: torch.nn.Module) -> torch.Tensor:
    """The model's logits on `PROBE_IDS`, in evaluation mode."""
    model.eval()
    with torch.no_grad():
        return model(input_ids=torch.tensor([PROBE_IDS])).logits
