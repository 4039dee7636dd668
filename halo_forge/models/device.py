"""Where a model runs and in what precision: the device and dtype rules every loader shares.

`auto` picks CUDA (or ROCm), then MPS, then the CPU, and bf16 only where the GPU computes it
well; anything named explicitly is checked, so a typo fails with the allowed values.
"""

from __future__ import annotations

import torch

from halo_forge.distributed import local_rank, world_size
from halo_forge.errors import ConfigError

DTYPE_NAMES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


def resolve_device(device: str | None = None) -> torch.device:
    """`None`/`"auto"` picks CUDA (or ROCm), then MPS, then CPU; anything else is checked and used.

    Under a multi-process launch, `auto` on CUDA is this process's GPU (`cuda:LOCAL_RANK`).
    """
    if device in (None, "auto"):
        if torch.cuda.is_available():
            # One GPU per process under a multi-process launch: LOCAL_RANK says which.
            return torch.device("cuda", local_rank()) if world_size() > 1 else torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ConfigError(
            f"device {device!r} is not a torch device ({error}); use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} asked for, but this torch build sees no CUDA/ROCm GPU; "
            "use --device cpu or install a GPU build of torch"
        )
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(
            f"device {device!r} asked for, but MPS is not available; use --device cpu"
        )
    return chosen


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 compute is fast and correct on `device` (CUDA/ROCm GPUs that support it)."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def resolve_dtype(dtype: str | None, device: torch.device) -> torch.dtype:
    """`None`/`"auto"`: bf16 where the GPU supports it, else fp32; names like `bf16` are explicit."""
    if dtype in (None, "auto"):
        return torch.bfloat16 if bf16_supported(device) else torch.float32
    if dtype not in DTYPE_NAMES:
        raise ConfigError(
            f"dtype {dtype!r} is not known; use one of: auto, {', '.join(DTYPE_NAMES)}"
        )
    return DTYPE_NAMES[dtype]
