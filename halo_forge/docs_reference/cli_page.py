"""docs/reference/cli.md from the click command tree of the `halo-forge` typer app.

The tree is read through `typer.main.get_command(app)`, never from `--help` text, so the page
does not depend on the terminal width. Commands keep their registration order (the order of
`--help`); options keep their declaration order.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer.main
from typer.core import TyperArgument, TyperGroup, TyperOption

from halo_forge.docs_reference.markdown import GENERATED_NOTICE, cell, code, table, value_literal


def _context(command: Any, name: str, parent: Any | None) -> Any:
    """A click context for `command`, needed to ask parameters for their displayed types."""
    return command.context_class(command, info_name=name, parent=parent)


def _usage(path: str, command: Any) -> str:
    pieces = [path, "[OPTIONS]"]
    for parameter in command.params:
        if isinstance(parameter, TyperArgument) and not parameter.hidden:
            label = (parameter.metavar or parameter.name or "").upper()
            if parameter.nargs == -1:
                label += "..."
            pieces.append(label if parameter.required else f"[{label}]")
    if isinstance(command, TyperGroup):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _type_text(parameter: Any, context: Any) -> str:
    label = parameter.display_type(context).strip("<>")
    bounds = []
    if parameter.type_descriptor.is_ranged:
        if parameter.min is not None:
            bounds.append(f">= {parameter.min}")
        if parameter.max is not None:
            bounds.append(f"<= {parameter.max}")
    return f"{label} ({', '.join(bounds)})" if bounds else label


def _default_text(parameter: Any) -> str:
    if parameter.required:
        return "required"
    default = parameter.default
    if default is None or default == [] or callable(default):
        return ""
    return code(value_literal(default))


def _parameter_row(parameter: Any, context: Any) -> list[str]:
    if isinstance(parameter, TyperOption):
        names = ", ".join(parameter.opts)
        if parameter.secondary_opts:
            names += " / " + ", ".join(parameter.secondary_opts)
    else:
        names = (parameter.metavar or parameter.name or "").upper()
    return [
        code(names),
        cell(_type_text(parameter, context)),
        cell(_default_text(parameter)),
        cell(parameter.help or ""),
    ]


def _command_lines(command: Any, path: str, context: Any) -> list[str]:
    """The section of one command, then those of its subcommands, depth first."""
    lines = [f"## {code(path)}", ""]
    if command.help:
        lines += [inspect.cleandoc(command.help), ""]
    lines += ["```text", _usage(path, command), "```", ""]
    parameters = [parameter for parameter in command.params if not parameter.hidden]
    if parameters:
        rows = [_parameter_row(parameter, context) for parameter in parameters]
        lines += [*table(["option / argument", "type", "default", "help"], rows), ""]
    if isinstance(command, TyperGroup):
        for name in command.list_commands(context):
            subcommand = command.get_command(context, name)
            if subcommand is None or subcommand.hidden:
                continue
            lines += _command_lines(
                subcommand, f"{path} {name}", _context(subcommand, name, context)
            )
    return lines


def render_cli_page() -> str:
    """The whole CLI reference page, deterministic for a given code base."""
    from halo_forge.cli.main import app  # the CLI registers every command on import

    root = typer.main.get_command(app)
    lines = [
        GENERATED_NOTICE,
        "",
        "# CLI reference",
        "",
        "Every command of `halo-forge`, with every option, read from the command tree itself. "
        "Each command also answers `-h` / `--help`. An option given on the command line "
        "overrides the same key of a `--config` file; an option without a default is unset "
        "unless you give it, and then the config file's value (or the config default) applies.",
        "",
    ]
    lines += _command_lines(root, "halo-forge", _context(root, "halo-forge", None))
    return "\n".join(lines).rstrip() + "\n"
