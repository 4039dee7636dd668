"""The generated pages hold every key, verifier option, command and option of the code."""

from __future__ import annotations

import typer.main
from typer.core import TyperGroup, TyperOption

from halo_forge.cli.main import app
from halo_forge.config.loader import CONFIG_TYPES
from halo_forge.docs_reference import render_cli_page, render_configuration_page
from halo_forge.docs_reference.config_page import type_label
from halo_forge.verifiers.registry import available_verifiers


def _dotted_keys(model: type, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        keys.append(key)
        annotation = field.annotation
        is_section = isinstance(annotation, type) and hasattr(annotation, "model_fields")
        if is_section and annotation.__name__ != "VerifierConfig":
            keys += _dotted_keys(annotation, f"{key}.")
    return keys


def test_configuration_page_lists_every_key_with_its_default() -> None:
    page = render_configuration_page()
    for model in CONFIG_TYPES.values():
        for key in _dotted_keys(model):
            assert f"| `{key}` |" in page, key
    assert "| `raft.num_cycles` | int (> 0) | `5` |" in page
    assert "| `cycles[].reward_threshold` |" in page


def test_configuration_page_lists_every_verifier_option() -> None:
    page = render_configuration_page()
    for name, entry in available_verifiers().items():
        section = page.split(f"### `{name}`\n", 1)[1].split("\n### ", 1)[0]
        for option in entry.options.model_fields:
            assert f"| `{option}` |" in section, (name, option)


def test_type_labels_read_like_yaml() -> None:
    from typing import Literal

    assert type_label(int | None) == "int | null"
    assert type_label(Literal["a", "b"]) == '"a" | "b"'
    assert type_label(list[str]) == "list[str]"


def _leaf_commands(command: object, path: str) -> list[tuple[str, object]]:
    if isinstance(command, TyperGroup):
        return [
            item
            for name, sub in command.commands.items()
            for item in _leaf_commands(sub, f"{path} {name}")
        ]
    return [(path, command)]


def test_cli_page_lists_every_command_and_option() -> None:
    page = render_cli_page()
    for path, command in _leaf_commands(typer.main.get_command(app), "halo-forge"):
        section = page.split(f"## `{path}`\n", 1)[1].split("\n## ", 1)[0]
        for parameter in command.params:  # type: ignore[attr-defined]
            if isinstance(parameter, TyperOption):
                assert parameter.opts[0] in section, (path, parameter.opts)
