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

import json
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
from halo_forge.config.generation import BACKEND_KEYS
from halo_forge.config.models import RAFTConfig
from halo_forge.data.records import PromptRecord
from halo_forge.verifiers.base import Verifier

FINGERPRINT_FILE = "fingerprint.json"
_NOT_FINGERPRINTED = (
    "output_dir",
    "prompts",
    "raft.num_cycles",
    "training.dataloader_num_workers",
    "training.dataloader_pin_memory",
    "training.cpu_threads",
    "training.report_to",
)


#: Keys of fingerprints stored before SFT and RAFT shared one training section, under their
#: names now, and the value a key that did not exist yet had; a run started then resumes.
_LEGACY_KEYS = {
    "training.epochs": "training.num_train_epochs",
    "training.batch_size": "training.per_device_train_batch_size",
}
_LEGACY_DEFAULTS = {"training.max_seq_length": 1024}


def run_fingerprint(
    config: RAFTConfig, prompts: Sequence[PromptRecord], start_model: str
) -> dict[str, Any]:
    """A flat `{dotted.key: value}` map of everything that decides a stage's output."""
    settings = config.model_dump(
        mode="json", exclude={"generation": {key: True for key in BACKEND_KEYS}}
    )
    flat = flatten_settings(settings, keep_whole=("learning_rate_schedule",))
    flat |= flatten_settings(config.generation.fingerprint_keys(), prefix="generation.")
    for key in _NOT_FINGERPRINTED:
        flat.pop(key, None)
    flat.pop("sft_checkpoint", None)
    flat.pop("model", None)
    flat["start_model"] = start_model
    flat["prompts_sha256"] = content_sha256([prompt.to_dict() for prompt in prompts])
    return flat


def verifier_identity(verifier: Verifier | None) -> str | None:
    """What a passed-in verifier instance is, for the fingerprint (None: built from config)."""
    if verifier is None:
        return None
    identity = {"class": type(verifier).__qualname__, "fingerprint": verifier.cache_fingerprint()}
    return json.dumps(identity, sort_keys=True, default=str)


def check_fingerprint(
    output_dir: str | Path, fingerprint: Mapping[str, Any], force: bool = False
) -> None:
    """Store the fingerprint of a new run; for a resumed one, refuse a changed one unless `force`.

    With `force`, the new fingerprint replaces the old one and the cached stages are reused as
    they are (the caller accepts that earlier cycles were made with other settings).
    """
    path = Path(output_dir) / FINGERPRINT_FILE
    _upgrade_legacy_fingerprint(path)
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


def _upgrade_legacy_fingerprint(path: Path) -> None:
    """Rewrite a fingerprint stored under the old training-section names in today's names."""
    if not path.is_file():
        return
    stored = json.loads(path.read_text(encoding="utf-8"))
    if not any(old in stored for old in _LEGACY_KEYS):
        return
    for old, new in _LEGACY_KEYS.items():
        if old in stored:
            stored[new] = stored.pop(old)
    for key, value in _LEGACY_DEFAULTS.items():
        stored.setdefault(key, value)
    store_fingerprint(path, stored)
