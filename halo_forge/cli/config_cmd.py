"""`halo-forge config ...`: check configuration files before a long run starts."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer
import yaml
from pydantic import BaseModel
from rich.syntax import Syntax

from halo_forge import ui
from halo_forge.config import (
    CONFIG_TYPES,
    BenchmarkConfig,
    GRPOConfig,
    RAFTConfig,
    VerifierConfig,
    detect_config_type,
    load_yaml,
)
from halo_forge.config.loader import validate_config
from halo_forge.errors import ConfigError
from halo_forge.verifiers.registry import available_verifiers, verifier_config_problems

app = typer.Typer(help="Validate and inspect YAML configuration files.", no_args_is_help=True)


class ConfigType(str, Enum):
    auto = "auto"
    sft = "sft"
    raft = "raft"
    grpo = "grpo"
    benchmark = "benchmark"


def verifier_problems(config: BaseModel) -> list[str]:
    """`key.path: problem` for each bad verifier setting of a config: its `verifier:` section
    and every `cycles[i]` override, checked against the registry's options models.

    The config schema cannot see these (a verifier's options depend on its type), and
    building the verifier would need its toolchain; this reads the registry only, so a run
    stops on a misspelt option in a second, before torch or a model loads.
    """
    sections: list[tuple[str, VerifierConfig]] = []
    if isinstance(config, RAFTConfig | GRPOConfig | BenchmarkConfig):
        sections.append(("verifier", config.verifier))
    if isinstance(config, RAFTConfig):
        sections += [
            (f"cycles[{index}].verifier", override.verifier)
            for index, override in enumerate(config.cycles)
            if override.verifier is not None
        ]
    problems = [
        f"{path}: {problem}"
        for path, section in sections
        for problem in verifier_config_problems({"type": section.type, **section.options()})
    ]
    if isinstance(config, RAFTConfig):
        problems += _run_after_compile_problems(config)
    return problems


def _run_after_compile_problems(config: RAFTConfig) -> list[str]:
    """A `cycles[i].run_after_compile` given to a verifier that has no such option."""
    verifiers = available_verifiers()
    having = [
        name
        for name, entry in verifiers.items()
        if "run_after_compile" in entry.options.model_fields
    ]
    problems = []
    for index, override in enumerate(config.cycles):
        chosen = (override.verifier or config.verifier).type
        if override.run_after_compile is None or chosen not in verifiers or chosen in having:
            continue
        problems.append(
            f"cycles[{index}].run_after_compile: verifier {chosen!r} has no run_after_compile "
            f"option (verifiers that have it: {', '.join(having)}); remove the key"
        )
    return problems


def check_verifiers(config: BaseModel, source: str) -> None:
    """Raise ConfigError listing each bad verifier setting of `config` (`verifier_problems`)."""
    problems = verifier_problems(config)
    if problems:
        raise ConfigError(
            f"{source}: {len(problems)} invalid verifier setting(s) for {type(config).__name__}:"
            "\n  - " + "\n  - ".join(problems)
        )


@app.command("validate")
def validate(
    files: list[Path] = typer.Argument(..., help="One or more YAML config files.", exists=False),
    config_type: ConfigType = typer.Option(
        ConfigType.auto, "--type", "-t", help="Schema to check against; auto detects from the keys."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Print the full config with defaults."
    ),
) -> None:
    """Check config files against the typed schema; exit 1 if any is invalid.

    Unknown keys, wrong types and out-of-range values are reported with the key path, the bad value
    and the allowed values; so are the options of each `verifier:` section, checked against the
    chosen verifier's own options.
    """
    failures = 0
    for path in files:
        try:
            data = load_yaml(path)
            kind = detect_config_type(data) if config_type is ConfigType.auto else config_type.value
            config = validate_config(CONFIG_TYPES[kind], data, source=str(path))
            check_verifiers(config, source=str(path))
        except ConfigError as error:
            failures += 1
            ui.echo(f"[red]INVALID[/red] {error}")
            continue
        ui.echo(f"[green]OK[/green] {path} ({kind})")
        if verbose:
            rendered = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
            ui.echo(Syntax(rendered, "yaml", theme="ansi_dark"))
    if failures:
        raise typer.Exit(code=1)
