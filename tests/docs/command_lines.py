"""The command lines of a shell block, and a check that each `halo-forge` line parses.

A block's lines are joined at trailing backslashes, comments are dropped, and each line is
split as the shell would (`shlex`). A `halo-forge ...` line is parsed by the real click command
tree, down to the leaf command, without running it: an unknown command, an unknown or renamed
option, a bad value or a missing required option fails, exactly as it would for a user.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import typer.main
from typer.core import TyperGroup

from halo_forge.cli.main import app

_SHELL_OPERATORS = {"&&", "||", ";", "|"}


def command_lines(script: str) -> list[list[str]]:
    """Each simple command of a shell block as its words (continuations joined, comments dropped)."""
    joined = script.replace("\\\n", " ")
    commands: list[list[str]] = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        current: list[str] = []
        for word in words:
            if word in _SHELL_OPERATORS:
                commands.append(current)
                current = []
            else:
                current.append(word)
        commands.append(current)
    return [_without_environment(words) for words in commands if words]


def _without_environment(words: list[str]) -> list[str]:
    """`A=1 B=2 halo-forge ...` -> `halo-forge ...` (leading variable assignments dropped)."""
    index = 0
    while index < len(words) and "=" in words[index] and not words[index].startswith("-"):
        index += 1
    return words[index:]


def create_path_arguments(arguments: list[str], directory: Path) -> None:
    """Create every relative path-looking argument as an empty file under `directory`.

    Some options take files that must exist (`verify INPUT_FILE`); a skipped block names files
    that an earlier, unrun step would write. Parsing in `directory` then checks the command
    line, not the state of a machine the block never ran on.
    """
    for word in arguments:
        if word.startswith("-") or "=" in word or not ("/" in word or "." in word):
            continue
        path = directory / word
        if Path(word).is_absolute() or directory.resolve() not in path.resolve().parents:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)
        except OSError:
            continue


def parse_halo_forge(arguments: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse `halo-forge ARGUMENTS` down to its leaf command; returns its path and parameters.

    Raises the click error a user would see (an unknown command or option, a bad or missing
    value). Nothing runs: click only parses and converts.
    """
    command: Any = typer.main.get_command(app)
    context: Any = None
    name, path = "halo-forge", ["halo-forge"]
    remaining = list(arguments)
    while True:
        context = command.make_context(name, remaining, parent=context)
        if not isinstance(command, TyperGroup):
            return " ".join(path), dict(context.params)
        remaining = [*context._protected_args, *context.args]
        if not remaining:
            raise AssertionError(f"`{' '.join(path)}` needs a subcommand")
        subcommand = command.get_command(context, remaining[0])
        if subcommand is None:
            raise AssertionError(f"`{' '.join(path)}` has no command {remaining[0]!r}")
        name, command, remaining = remaining[0], subcommand, remaining[1:]
        path.append(name)
