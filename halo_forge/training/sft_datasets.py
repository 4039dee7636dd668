"""The SFT view of the public dataset registry (`halo-forge sft datasets`, `--dataset NAME`).

There is one registry, `halo_forge.data.public_datasets`; SFT can use every entry that has
reference solutions. Records loaded here keep the raw prompt, so the trainer formats it with
the same chat template that sampling uses later.
"""

from __future__ import annotations

from halo_forge.data.dataset_sources import iter_rows
from halo_forge.data.public_datasets import (
    DATASETS,
    OutputForm,
    PublicDataset,
    convert_rows,
    get_dataset,
)
from halo_forge.data.records import PromptCompletionRecord
from halo_forge.errors import ConfigError, DataError


def sft_datasets() -> list[PublicDataset]:
    """Registry entries that hold reference solutions, in registry order."""
    return [entry for entry in DATASETS.values() if OutputForm.SFT in entry.forms]


def load_sft_dataset(name: str, limit: int | None = None) -> list[PromptCompletionRecord]:
    """Download (or read from the Hugging Face cache) `name` as prompt/completion records."""
    entry = get_dataset(name)
    if OutputForm.SFT not in entry.forms:
        usable = ", ".join(item.name for item in sft_datasets())
        raise ConfigError(
            f"dataset '{name}' has no reference solutions to train on; SFT datasets: {usable}"
        )
    try:
        rows = iter_rows(
            entry.hub_id,
            entry.config,
            entry.split,
            streaming=limit is not None,
            dataset_name=entry.name,
        )
        tasks, _ = convert_rows(entry, rows, limit, require_completion=True)
    except DataError as error:
        raise DataError(
            f"{error}. For SFT offline, write the records once with `halo-forge data prepare "
            f"--dataset {name} --format sft --from PATH --output FILE`, then train with --data FILE"
        ) from None
    if not tasks:
        raise DataError(f"dataset '{name}' gave no rows with a reference solution")
    return [
        PromptCompletionRecord(
            prompt=task.prompt.prompt,
            completion=task.completion or "",
            language=task.prompt.language,
            metadata={
                "dataset": name,
                **({"task_id": task.prompt.task_id} if task.prompt.task_id else {}),
            },
        )
        for task in tasks
    ]
