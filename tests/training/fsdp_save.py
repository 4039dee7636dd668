"""Started by `torchrun` in test_multiprocess.py: the tiny model with a LoRA adapter, sharded by
FSDP 2 over the launch's processes (gloo, CPU), saved with `save_model` from every process.

Rank 0 first saves the unsharded adapter to OUTPUT/reference, for the test to compare with.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

from halo_forge.config.models import LoRASection
from halo_forge.distributed import barrier, is_main_process, world_size
from halo_forge.models import TINY_MODEL_NAME, load_model
from halo_forge.models.lora import save_model, trainable_model


def main(output: Path) -> None:
    barrier()  # starts the process group
    model, tokenizer = load_model(TINY_MODEL_NAME, device="cpu", dtype="float32")
    torch.manual_seed(0)
    model = trainable_model(model, LoRASection())
    with torch.no_grad():  # a fresh adapter's B is zero: random values make the test meaningful
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    if is_main_process():
        model.save_pretrained(str(output / "reference"))
    mesh = init_device_mesh("cpu", (world_size(),))
    for layer in model.base_model.model.model.layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    save_model(model, tokenizer, output / "sharded")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
