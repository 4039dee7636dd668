"""The run fingerprint: stored on the first run, compared on resume, overridable with force."""

from __future__ import annotations

import json

import pytest

from halo_forge.config.fingerprint import changed_keys
from halo_forge.config.models import RAFTConfig
from halo_forge.data.records import PromptRecord
from halo_forge.errors import ConfigError
from halo_forge.raft.fingerprint import FINGERPRINT_FILE, check_fingerprint, run_fingerprint

PROMPTS = [PromptRecord(prompt="Print 42.", expected_output="42\n")]


def _config(**raft: object) -> RAFTConfig:
    return RAFTConfig.model_validate({"raft": raft, "generation": {"temperature": 0.7}})


def test_fingerprint_covers_settings_prompts_and_model_but_not_cycle_count():
    base = run_fingerprint(_config(), PROMPTS, "builtin:tiny-coder")
    assert run_fingerprint(_config(num_cycles=9), PROMPTS, "builtin:tiny-coder") == base
    hotter = run_fingerprint(
        RAFTConfig.model_validate({"generation": {"temperature": 1.0}}),
        PROMPTS,
        "builtin:tiny-coder",
    )
    assert changed_keys(base, hotter) == ["generation.temperature"]
    other_prompts = [PromptRecord(prompt="Print 43.", expected_output="43\n")]
    assert changed_keys(base, run_fingerprint(_config(), other_prompts, "builtin:tiny-coder")) == [
        "prompts_sha256"
    ]
    assert changed_keys(base, run_fingerprint(_config(), PROMPTS, "other/model")) == ["start_model"]


def test_dataloader_settings_do_not_change_the_fingerprint():
    base = run_fingerprint(_config(), PROMPTS, "m")
    unpinned = RAFTConfig.model_validate(
        {
            "generation": {"temperature": 0.7},
            "training": {"dataloader_pin_memory": False, "dataloader_num_workers": 2},
        }
    )
    assert run_fingerprint(unpinned, PROMPTS, "m") == base


def test_resume_with_changed_settings_stops_and_names_the_keys(tmp_path):
    check_fingerprint(tmp_path, run_fingerprint(_config(), PROMPTS, "m"))
    check_fingerprint(tmp_path, run_fingerprint(_config(num_cycles=7), PROMPTS, "m"))
    changed = run_fingerprint(_config(seed=1, reward_threshold=0.9), PROMPTS, "m")
    with pytest.raises(ConfigError) as raised:
        check_fingerprint(tmp_path, changed)
    message = str(raised.value)
    assert "raft.seed" in message and "raft.reward_threshold" in message
    assert "--force" in message
    stored = json.loads((tmp_path / FINGERPRINT_FILE).read_text())
    assert stored["raft.seed"] == 42


def test_force_accepts_and_stores_the_new_fingerprint(tmp_path):
    check_fingerprint(tmp_path, run_fingerprint(_config(), PROMPTS, "m"))
    changed = run_fingerprint(_config(seed=1), PROMPTS, "m")
    check_fingerprint(tmp_path, changed, force=True)
    assert json.loads((tmp_path / FINGERPRINT_FILE).read_text())["raft.seed"] == 1
    check_fingerprint(tmp_path, changed)


def test_a_run_fingerprinted_under_the_old_training_names_resumes(tmp_path):
    current = run_fingerprint(_config(), PROMPTS, "m")
    legacy = dict(current)
    legacy["training.epochs"] = legacy.pop("training.num_train_epochs")
    legacy["training.batch_size"] = legacy.pop("training.per_device_train_batch_size")
    del legacy["training.max_seq_length"]
    (tmp_path / FINGERPRINT_FILE).write_text(json.dumps(legacy))

    check_fingerprint(tmp_path, current)  # no "made with other settings" error
    assert json.loads((tmp_path / FINGERPRINT_FILE).read_text()) == json.loads(json.dumps(current))
