"""The run fingerprint: every setting that changes what a cached stage of a RAFT run holds.

A resumed run trusts the files of earlier invocations (samples, verified records, kept samples,
checkpoints). That is only sound when they were made with the same start model, prompts and
settings, so the first invocation stores the fingerprint in `OUTPUT/fingerprint.json` and every
later one compares: a difference stops the run with the changed keys named, unless `force`.

Left out on purpose: `raft.num_cycles` (extending a finished run by more cycles is the point of
resuming), `output_dir` and `prompts` as a path (the prompts' content is hashed instead), and the
dataloader settings (how batches reach the device, not what a cycle learns).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.config.models import RAFTConfig
from halo_forge.data.jsonl import write_json
from halo_forge.data.records import PromptRecord
from halo_forge.errors import ConfigError

FINGERPRINT_FILE = "fingerprint.json"
_NOT_FINGERPRINTED = (
    "output_dir",
    "prompts",
    "raft.num_cycles",
    "training.dataloader_num_workers",
    "training.dataloader_pin_memory",
)


def run_fingerprint(
    config: RAFTConfig, prompts: Sequence[PromptRecord], start_model: str
) -> dict[str, Any]:
    """A flat `{dotted.key: value}` map of everything that decides a stage's output."""
    flat = _flatten(config.model_dump(mode="json"))
    for key in _NOT_FINGERPRINTED:
        flat.pop(key, None)
    flat.pop("sft_checkpoint", None)
    flat.pop("model", None)
    flat["start_model"] = start_model
    content = json.dumps([prompt.to_dict() for prompt in prompts], sort_keys=True)
    flat["prompts_sha256"] = hashlib.sha256(content.encode("utf-8")).hexdigest()
    return flat


def changed_keys(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Keys whose values differ (or that only one side has), sorted."""
    return sorted(
        key for key in stored.keys() | current.keys() if stored.get(key) != current.get(key)
    )


def check_fingerprint(
    output_dir: str | Path, fingerprint: Mapping[str, Any], force: bool = False
) -> None:
    """Store the fingerprint of a new run; for a resumed one, refuse a changed one unless `force`.

    With `force`, the new fingerprint replaces the old one and the cached stages are reused as
    they are (the caller accepts that earlier cycles were made with other settings).
    """
    path = Path(output_dir) / FINGERPRINT_FILE
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        changed = changed_keys(stored, fingerprint)
        if changed and not force:
            details = ", ".join(
                f"{key}: {stored.get(key)!r} -> {fingerprint.get(key)!r}" for key in changed
            )
            raise ConfigError(
                f"{output_dir} holds a run made with other settings ({details}); resume with "
                "the same settings, choose a new --output, or pass --force to reuse its "
                "finished stages anyway"
            )
        if changed:
            ui.echo(
                f"--force: reusing {output_dir} although {', '.join(changed)} changed",
                style="yellow",
            )
    write_json(path, dict(fingerprint))


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and key != "learning_rate_schedule":
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat
