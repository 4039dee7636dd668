"""Which CLI option sets which config key, for every command that takes a config file.

Commands declare their options with default None and pass `overrides_from_options(MAPPING, locals())`
to `load_config`, so only options the user actually typed override the YAML file. The tables are
also what the precedence tests iterate over, key by key. Every other key of a config is reached
with the generic `--set a.b=value` (as in torchtune and Hydra): the few named flags are shortcuts,
checked against the config by the tests, not a second declaration of the knobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import typer
import yaml

from halo_forge.config.loader import parse_yaml_value

SFT_OPTION_KEYS: dict[str, str] = {
    "model": "model.name",
    "data": "data.train_file",
    "dataset": "data.dataset",
    "output": "output.dir",
    "epochs": "training.num_train_epochs",
    "max_samples": "data.max_samples",
    "learning_rate": "training.learning_rate",
    "batch_size": "training.per_device_train_batch_size",
    "gradient_accumulation_steps": "training.gradient_accumulation_steps",
    "max_seq_length": "data.max_seq_length",
    "lora": "lora.enabled",
    "lora_r": "lora.r",
    "seed": "training.seed",
}

RAFT_OPTION_KEYS: dict[str, str] = {
    "checkpoint": "sft_checkpoint",
    "model": "model",
    "prompts": "prompts",
    "output": "output_dir",
    "verifier": "verifier.type",
    "cycles": "raft.num_cycles",
    "samples_per_prompt": "raft.samples_per_prompt",
    "temperature": "generation.temperature",
    "top_p": "generation.top_p",
    "max_new_tokens": "generation.max_new_tokens",
    "backend": "generation.backend",
    "keep_percent": "raft.keep_top_percent",
    "reward_threshold": "raft.reward_threshold",
    "min_samples": "raft.min_samples",
    "learning_rate": "training.learning_rate",
    "lr_decay": "training.lr_decay",
    "min_lr": "training.min_lr",
    "lora": "lora.enabled",
    "lora_r": "lora.r",
    "curriculum": "raft.curriculum",
    "reward_shaping": "raft.reward_shaping",
    "system_prompt": "raft.system_prompt",
    "seed": "raft.seed",
}

GRPO_OPTION_KEYS: dict[str, str] = {
    "checkpoint": "sft_checkpoint",
    "model": "model",
    "prompts": "prompts",
    "output": "output_dir",
    "verifier": "verifier.type",
    "num_generations": "grpo.num_generations",
    "loss_type": "grpo.loss_type",
    "beta": "grpo.beta",
    "temperature": "grpo.temperature",
    "max_completion_length": "grpo.max_completion_length",
    "learning_rate": "training.learning_rate",
    "max_steps": "training.max_steps",
    "backend": "generation.backend",
    "lora": "lora.enabled",
    "seed": "grpo.seed",
}

BENCHMARK_OPTION_KEYS: dict[str, str] = {
    "model": "model",
    "prompts": "prompts",
    "verifier": "verifier.type",
    "samples": "samples",
    "k": "k",
    "max_prompts": "max_prompts",
    "temperature": "temperature",
    "max_new_tokens": "max_new_tokens",
    "backend": "backend",
    "output": "output",
}


def overrides_from_options(
    mapping: Mapping[str, str], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Dotted config keys for the options that were given (None means "not on the command line")."""
    return {key: options[name] for name, key in mapping.items() if options.get(name) is not None}


def parse_key_values(assignments: Sequence[str], option: str) -> dict[str, Any]:
    """`["run_timeout=2", "flags=[-O1, -Wall]"]` -> options; values are read as YAML."""
    options: dict[str, Any] = {}
    for assignment in assignments:
        key, separator, raw_value = assignment.partition("=")
        if not separator or not key.strip():
            raise typer.BadParameter(
                f"{assignment!r} is not KEY=VALUE (e.g. {option} run_timeout=2)", param_hint=option
            )
        try:
            options[key.strip()] = parse_yaml_value(raw_value) if raw_value else ""
        except yaml.YAMLError as error:
            raise typer.BadParameter(f"{assignment!r}: value is not valid YAML ({error})") from None
    return options


def config_overrides(assignments: Sequence[str]) -> dict[str, Any]:
    """`--set training.save_steps=50 --set lora.r=8` as dotted config overrides (YAML values).

    They are applied after the named flags, so `--set` is the last word; an unknown key fails
    in the config's validation with the key's path and a "did you mean".
    """
    return parse_key_values(assignments, "--set")


#: The repeatable option that sets any key of a command's config.
CONFIG_SET_HELP = (
    "Any config key as DOTTED.KEY=VALUE (YAML value), repeatable: --set output.save_steps=50. "
    "Keys: docs/reference/configuration.md."
)


def verifier_option_overrides(assignments: Sequence[str]) -> dict[str, Any]:
    """`--verifier-option KEY=VALUE` flags as config overrides of the `verifier` section."""
    return {
        f"verifier.{key}": value
        for key, value in parse_key_values(assignments, "--verifier-option").items()
    }


#: The option that picks the sampler backend.
BACKEND_HELP = (
    "Sampler: transformers (default), vllm (needs vLLM installed) or openai (a running "
    "OpenAI-compatible server; its address: --set ...openai.base_url=URL)."
)


#: The repeatable option that sets any typed option of the chosen verifier.
VERIFIER_OPTION_HELP = (
    "Verifier option KEY=VALUE (YAML value), repeatable: "
    "--verifier-option run_after_compile=true --verifier-option language=c."
)
