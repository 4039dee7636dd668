"""Training: SFT with a completion-only loss (LoRA or full), and onward training for RAFT cycles."""

from halo_forge.training.hf_trainer import TRAINING_LOG_FILE, TrainingOptions, TrainingOutcome
from halo_forge.training.sft import (
    FINAL_MODEL_DIR,
    SFTPlan,
    SFTResult,
    load_sft_records,
    plan_sft,
    run_sft,
    train_on_records,
)

__all__ = [
    "FINAL_MODEL_DIR",
    "TRAINING_LOG_FILE",
    "SFTPlan",
    "SFTResult",
    "TrainingOptions",
    "TrainingOutcome",
    "load_sft_records",
    "plan_sft",
    "run_sft",
    "train_on_records",
]
