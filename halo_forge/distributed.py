"""Which process of a multi-process launch this is, and the barriers between the processes.

`torchrun` and `accelerate launch` start one process per device, with `RANK`, `WORLD_SIZE` and
`LOCAL_RANK` in each one's environment. transformers' `Trainer` reads them and trains with DDP
(or FSDP / DeepSpeed when an accelerate config asks for it). Everything halo-forge does around
training (RAFT's generation, verification and stage files, SFT's output files, the terminal)
is done once, by the main process (rank 0), while the other processes wait at `barrier()`:
files are written by one writer, and every process reads them only after the barrier.
Without a launcher the world is one process and every function here is a no-op.
"""

from __future__ import annotations

import os
from datetime import timedelta

#: How long a process may wait at a barrier. Rank 0 generates and verifies a RAFT cycle while the
#: others wait, which can take hours at scale (torch's default would fail them after 30 minutes).
BARRIER_TIMEOUT = timedelta(hours=24)


def rank() -> int:
    """This process's rank among all processes of the launch (0 without a launcher)."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's rank on its own machine: the index of the GPU it drives."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def world_size() -> int:
    """How many processes the launch started (1 without a launcher)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """Whether this process writes the shared files and talks to the terminal."""
    return rank() == 0


def barrier() -> None:
    """Wait until every process of the launch reaches this point (no-op for one process).

    The process group is the launcher's (`env://` rendezvous), created here when the Trainer
    has not created it yet: NCCL on GPUs, gloo on CPUs, with `BARRIER_TIMEOUT`.
    """
    if world_size() == 1:
        return
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank())
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend, timeout=BARRIER_TIMEOUT)
    dist.barrier()
