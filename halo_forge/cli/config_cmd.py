"""`halo-forge config ...`: check configuration files before a long run starts."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer
import yaml
from rich.syntax import Syntax

from halo_forge import ui
from halo_forge.config import CONFIG_TYPES, detect_config_type, load_yaml
from halo_forge.config.loader import validate_config
from halo_forge.errors import ConfigError

app = typer.Typer(help="Validate and inspect YAML configuration files.", no_args_is_help=True)


class ConfigType(str, Enum):
    auto = "auto"
    sft = "sft"
    raft = "raft"
    benchmark = "benchmark"


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
    and the allowed values.
    """
    failures = 0
    for path in files:
        try:
            data = load_yaml(path)
            kind = detect_config_type(data) if config_type is ConfigType.auto else config_type.value
            config = validate_config(CONFIG_TYPES[kind], data, source=str(path))
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
