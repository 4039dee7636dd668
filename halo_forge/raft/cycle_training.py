"""The training stage of a RAFT cycle: the start checkpoint trained onward on the kept samples.

The adapter (or, with `lora.enabled: false`, the whole model) is trained in `cycle_N/train/`
and renamed to `cycle_N_final/` when complete, so a `cycle_N_final` directory is always whole
and a killed training restarts from `kept.jsonl`. A cycle that kept nothing saves the start
model unchanged as its checkpoint, so the next cycle has one to start from.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Any

import torch

from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import read_jsonl
from halo_forge.distributed import barrier, is_main_process
from halo_forge.models.loading import load_model
from halo_forge.models.lora import save_model, trainable_model
from halo_forge.raft.cycle import CyclePaths
from halo_forge.training.sft import FINAL_MODEL_DIR, train_on_records


def train_cycle(
    paths: CyclePaths,
    checkpoint: str,
    config: RAFTConfig,
    learning_rate: float,
    *,
    device: str | None = None,
    dtype: str | None = None,
) -> dict[str, float | None]:
    """Train `checkpoint` onward on `kept.jsonl` unless the cycle's checkpoint exists.

    Returns the timings of this call (`training_seconds`, `training_tokens_per_second`),
    empty when the checkpoint was there already or nothing was kept. Under a multi-process
    launch every process calls it and trains its share (DDP); the main one commits.
    """
    if paths.checkpoint.is_dir():
        return {}
    trained, timing = _train(paths, checkpoint, config, learning_rate, device, dtype)
    release_memory()  # the model went out of scope with `_train`
    # The rename is the commit point: a cycle_N_final directory is always a whole adapter.
    if is_main_process():
        os.replace(trained, paths.checkpoint)
    barrier()
    return timing


def _train(
    paths: CyclePaths,
    checkpoint: str,
    config: RAFTConfig,
    learning_rate: float,
    device: str | None,
    dtype: str | None,
) -> tuple[Path, dict[str, float | None]]:
    """Load `checkpoint` trainable, train on `kept.jsonl`; (model directory, timings)."""
    kept = read_jsonl(paths.kept)
    lora = config.lora
    # A full fine-tune keeps fp32 master weights, as SFT does; LoRA trains in the load dtype.
    load_dtype = dtype if dtype is not None or lora.enabled else "float32"
    model, tokenizer = load_model(
        checkpoint, device=device, dtype=load_dtype, adapter_trainable=lora.enabled
    )
    if not kept:  # the next cycle starts from an unchanged copy, saved as this cycle's
        model = trainable_model(model, lora)
        return save_model(model, tokenizer, paths.train_dir / FINAL_MODEL_DIR), {}
    training = config.training
    start = time.perf_counter()
    result = train_on_records(
        model,
        tokenizer,
        [_training_record(record) for record in kept],
        paths.train_dir,
        learning_rate=learning_rate,
        epochs=training.num_train_epochs,
        batch_size=training.per_device_train_batch_size,
        gradient_accumulation_steps=training.gradient_accumulation_steps,
        max_seq_length=training.max_seq_length,
        seed=config.raft.seed + paths.cycle,
        device=device,
        dataloader_num_workers=training.dataloader_num_workers,
        dataloader_pin_memory=training.dataloader_pin_memory,
        report_to=training.report_to,
        lora=lora,
        cpu_threads=training.cpu_threads,
    )
    timing = {
        "training_seconds": time.perf_counter() - start,
        "training_tokens_per_second": result.outcome.tokens_per_second,
    }
    return result.final_model_dir, timing


def release_memory() -> None:
    """Give freed model memory back (CUDA keeps freed blocks cached otherwise)."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _training_record(kept: dict[str, Any]) -> dict[str, Any]:
    """The SFT record of a kept sample, with the system prompt it was generated under."""
    system_prompt = kept.get("system_prompt")
    if not system_prompt:
        return {"prompt": kept["prompt"], "completion": kept["completion"]}
    return {
        "messages": [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": kept["prompt"]},
            {"role": "assistant", "content": kept["completion"]},
        ]
    }
