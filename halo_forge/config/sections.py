"""What every config section shares: the `Section` base and the `training` keys of SFT and RAFT.

`TrainingSection` declares each key both recipes train with once, under the Hugging Face
`TrainingArguments` names, with the old RAFT spellings as aliases; `report_to` says where
training metrics go. The stage configs in `models.py` build on these.
"""

from __future__ import annotations

import importlib.util
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are re-validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ----------------------------------------------------------------------------- reporting

ReportTarget = Literal["tensorboard", "wandb", "none"]
REPORT_TO_DESCRIPTION = (
    "Where training metrics go besides training_log.json: `tensorboard` (event files in the "
    "run's logs/), `wandb` (Weights & Biases: needs the `wandb` extra and `wandb login`, or "
    "WANDB_MODE=offline; WANDB_PROJECT names the project), or `[none]`."
)


def report_targets(value: object) -> object:
    """A single name (`--set training.report_to=wandb`) is a list of one."""
    return [value] if isinstance(value, str) else value


def check_report_targets(value: list[ReportTarget]) -> list[ReportTarget]:
    """`none` stands alone, and `wandb` is usable here, so a run fails now and not after loading."""
    if not value:
        raise ValueError("report_to is empty; write [none] to turn metric reporting off")
    if "none" in value and len(value) > 1:
        raise ValueError("`none` turns reporting off; it cannot be combined with other targets")
    if "wandb" in value and importlib.util.find_spec("wandb") is None:
        raise ValueError(
            "report_to includes wandb but the wandb package is not installed; "
            "pip install 'halo-forge[wandb]' or remove wandb from report_to"
        )
    return list(dict.fromkeys(value))


# ----------------------------------------------------------------------------- training

MaxSeqLength = Annotated[int, Field(gt=0, description="Longer samples are truncated (tokens).")]
Epochs = Annotated[
    float,
    Field(
        gt=0,
        validation_alias=AliasChoices("num_train_epochs", "epochs"),
        description="Passes over the training data. Alias: `epochs`.",
    ),
]
PerDeviceBatchSize = Annotated[
    int,
    Field(
        gt=0,
        validation_alias=AliasChoices("per_device_train_batch_size", "batch_size"),
        description="Samples per device per step. Alias: `batch_size`.",
    ),
]
GradientAccumulationSteps = Annotated[
    int,
    Field(
        gt=0,
        description="Steps accumulated per optimizer update (effective batch = batch x this).",
    ),
]
LearningRate = Annotated[
    float,
    Field(
        gt=0,
        description=(
            "Peak learning rate; in RAFT, cycle 1's (later cycles follow lr_decay or "
            "learning_rate_schedule). LoRA tolerates ~1e-4..3e-4 for SFT."
        ),
    ),
]


class TrainingSection(Section):
    """The `training` keys SFT and a RAFT cycle share, under one set of names.

    The names are those of Hugging Face `TrainingArguments`, which both recipes run on. How
    long, how big and how fast to train differ between the recipes, so each subclass sets
    those defaults; the rest are declared here once.
    """

    num_train_epochs: Epochs
    per_device_train_batch_size: PerDeviceBatchSize
    gradient_accumulation_steps: GradientAccumulationSteps
    learning_rate: LearningRate
    dataloader_num_workers: int = Field(
        0, ge=0, description="0 is safest on unified-memory machines."
    )
    dataloader_pin_memory: bool = Field(
        True, description="Set false on unified-memory APUs (Strix Halo)."
    )
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description=(
            "torch intra-op threads while training on the CPU, restored afterwards (sampling "
            "keeps the process's setting); null keeps the process's setting."
        ),
    )
    report_to: list[ReportTarget] = Field(
        default_factory=lambda: ["tensorboard"], description=REPORT_TO_DESCRIPTION
    )

    _report_targets = field_validator("report_to", mode="before")(report_targets)
    _check_report_targets = field_validator("report_to")(check_report_targets)
