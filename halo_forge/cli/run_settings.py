"""The settings of a training run (`raft train`, `grpo train`): one rule for both commands.

The config file, then the flags the user typed, then `--set`; `--model` on the command line
beats a checkpoint the file names; then the checks that take a second (prompts given, verifier
names and options valid), so a bad run fails before torch loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from halo_forge.cli.config_cmd import check_verifiers
from halo_forge.cli.overrides import (
    config_overrides,
    overrides_from_options,
    verifier_option_overrides,
)
from halo_forge.config import GRPOConfig, RAFTConfig, load_config
from halo_forge.errors import ConfigError

RunConfig = TypeVar("RunConfig", RAFTConfig, GRPOConfig)


def run_settings(
    kind: type[RunConfig],
    config: Path | None,
    option_keys: Mapping[str, str],
    options: Mapping[str, Any],
    verifier_option: Sequence[str],
    set_keys: Sequence[str],
) -> RunConfig:
    """`kind` built from `config`, the typed `options` (named by `option_keys`) and the
    `--verifier-option`/`--set` assignments, checked as far as it can be without torch."""
    if options.get("model") is not None and options.get("checkpoint") is not None:
        raise ConfigError("give either --model or --checkpoint, not both")
    overrides = overrides_from_options(option_keys, options)
    overrides |= verifier_option_overrides(verifier_option) | config_overrides(set_keys)
    settings = load_config(kind, config, overrides)
    if options.get("model") is not None:
        settings.sft_checkpoint = None  # --model on the command line beats a YAML checkpoint
    if settings.prompts is None:
        raise ConfigError("no prompts: pass --prompts FILE or set `prompts:` in the config")
    check_verifiers(settings, source=str(config or "command line"))
    return settings
