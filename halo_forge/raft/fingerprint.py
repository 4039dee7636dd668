"""The run fingerprint: every setting that changes what a cached stage of a RAFT run holds.

A resumed run trusts the files of earlier invocations (samples, verified records, kept samples,
checkpoints). That is only sound when they were made with the same start model, prompts and
settings, so the first invocation stores the fingerprint in `OUTPUT/fingerprint.json` and every
later one compares (`halo_forge.config.fingerprint`, the mechanism every resumable command
shares): a difference stops the run with the changed keys named, unless `force`.

Left out on purpose: `raft.num_cycles` (extending a finished run by more cycles is the point of
resuming), `output_dir` and `prompts` as a path (the prompts' content is hashed instead), and the
dataloader settings (how batches reach the device, not what a cycle learns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.config.fingerprint import (
    compare_fingerprint,
    content_sha256,
    flatten_settings,
    store_fingerprint,
)
from halo_forge.config.models import RAFTConfig
from halo_forge.data.records import PromptRecord

FINGERPRINT_FILE = "fingerprint.json"
_NOT_FINGERPRINTED = (
    "output_dir",
    "prompts",
    "raft.num_cycles",
    "training.dataloader_num_workers",
    "training.dataloader_pin_memory",
    "training.report_to",
)


def run_fingerprint(
    config: RAFTConfig, prompts: Sequence[PromptRecord], start_model: str
) -> dict[str, Any]:
    """A flat `{dotted.key: value}` map of everything that decides a stage's output."""
    flat = flatten_settings(config.model_dump(mode="json"), keep_whole=("learning_rate_schedule",))
    for key in _NOT_FINGERPRINTED:
        flat.pop(key, None)
    flat.pop("sft_checkpoint", None)
    flat.pop("model", None)
    flat["start_model"] = start_model
    flat["prompts_sha256"] = content_sha256([prompt.to_dict() for prompt in prompts])
    return flat


def check_fingerprint(
    output_dir: str | Path, fingerprint: Mapping[str, Any], force: bool = False
) -> None:
    """Store the fingerprint of a new run; for a resumed one, refuse a changed one unless `force`.

    With `force`, the new fingerprint replaces the old one and the cached stages are reused as
    they are (the caller accepts that earlier cycles were made with other settings).
    """
    path = Path(output_dir) / FINGERPRINT_FILE
    changed = compare_fingerprint(
        path,
        fingerprint,
        force=force,
        holder=f"{output_dir} holds a run",
        force_effect="reuse its finished stages anyway",
    )
    store_fingerprint(path, fingerprint)
    if changed:
        ui.echo(
            f"--force: reusing {output_dir} although {', '.join(changed)} changed",
            style="yellow",
        )
