"""docs/reference/configuration.md from the pydantic config models and the verifier options models.

Every key of every config type gets a row: its dotted path, type (with its bounds), default and
description, read from the model itself, so a renamed key or a changed default changes the page.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from halo_forge.config.loader import CONFIG_TYPES
from halo_forge.config.models import VerifierConfig
from halo_forge.docs_reference.markdown import GENERATED_NOTICE, cell, code, table, value_literal
from halo_forge.verifiers.executors.base import ExecutorOptions
from halo_forge.verifiers.registry import EXECUTOR_OPTION, available_verifiers

_BOUND_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_HEADER = ["key", "type", "default", "meaning"]


def type_label(annotation: Any) -> str:
    """A readable type: `int`, `str | null`, `"cosine" | "linear"`, `list[str]`."""
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    origin = get_origin(annotation)
    if origin is Literal:
        return " | ".join(value_literal(choice) for choice in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " | ".join(type_label(argument) for argument in get_args(annotation))
    if origin in (list, dict, tuple):
        inner = ", ".join(type_label(argument) for argument in get_args(annotation))
        return f"{origin.__name__}[{inner}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section" if annotation is not VerifierConfig else "verifier section"
    if isinstance(annotation, type):
        return "path" if annotation.__name__.endswith("Path") else annotation.__name__
    return str(annotation).replace("typing.", "")


def bounds_label(field: FieldInfo) -> str:
    """The numeric bounds of a field (`> 0`, `>= 0, <= 1`), empty when it has none."""
    bounds = []
    for constraint in field.metadata:
        for name, symbol in _BOUND_SYMBOLS.items():
            limit = getattr(constraint, name, None)
            if limit is not None:
                bounds.append(f"{symbol} {limit}")
    return ", ".join(bounds)


def default_label(field: FieldInfo) -> str:
    """The default as written in YAML, `required` when there is none, `(section)` for a section."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section)"
    return code(value_literal(value))


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The config section a field holds directly, as `X`, `X | None` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _section_model(argument)
        if found is not None:
            return found
    return None


def _section_doc(field: FieldInfo) -> str | None:
    """What a section field holds: the section's own docstring, else a pointer to its table."""
    section = _section_model(field.annotation)
    if section is None:
        return None
    return typing.cast(str | None, section.__dict__.get("__doc__")) or "Section: keys below."


def _row(key: str, field: FieldInfo) -> list[str]:
    label = type_label(field.annotation)
    bounds = bounds_label(field)
    type_text = f"{label} ({bounds})" if bounds else label
    meaning = field.description or _section_doc(field) or "(no description in the schema)"
    return [code(key), cell(type_text), cell(default_label(field)), cell(meaning)]


def _section_lines(model: type[BaseModel], kind: str, path: str) -> list[str]:
    """A heading and table for the section at `path` of a `kind` config, then its nested sections."""
    rows, nested = [], []
    for name, field in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        rows.append(_row(key, field))
        section = _section_model(field.annotation)
        if section is VerifierConfig:
            continue
        if section is not None:
            is_list = get_origin(field.annotation) is list
            nested.append((section, f"{key}[]" if is_list else key))
    if VerifierConfig in (_section_model(f.annotation) for f in model.model_fields.values()):
        rows.append(
            [
                code(f"{path}.verifier.*" if path else "verifier.*"),
                "any",
                "",
                "The options of the chosen verifier type (see [Verifier options](#verifier-options)).",
            ]
        )
    doc = typing.cast(str | None, model.__dict__.get("__doc__"))
    lines = [f"### {kind}: {code(path)}" if path else f"### {kind}: top level", ""]
    if doc:
        lines += [" ".join(doc.split()), ""]
    lines += [*table(_HEADER, rows), ""]
    for section, nested_path in nested:
        lines += _section_lines(section, kind, nested_path)
    return lines


def _verifier_lines() -> list[str]:
    lines = [
        "## Verifier options",
        "",
        "A `verifier:` section names a registered verifier in `type` and sets its options "
        "beside it; `--verifier-option KEY=VALUE` (`raft train`, `benchmark run`) and "
        "`--set KEY=VALUE` (`verify`) set the same options on the command line. Unknown "
        "options are errors.",
        "",
    ]
    executor_rows = [
        _row(f"{EXECUTOR_OPTION}.{key}", field)
        for key, field in ExecutorOptions.model_fields.items()
    ]
    lines += [
        f"### Every verifier: {code(EXECUTOR_OPTION)}",
        "",
        f"{cell(ExecutorOptions.__doc__ or '')} It decides where results are computed, never "
        "what they are, so it is not part of a run's fingerprint.",
        "",
        *table(_HEADER, executor_rows),
        "",
    ]
    for name, entry in available_verifiers().items():
        rows = [_row(key, field) for key, field in entry.options.model_fields.items()]
        lines += [f"### {code(name)}", "", f"{cell(entry.description)} Options model: "]
        lines[-1] += f"{code(entry.options.__name__)}."
        lines += ["", *table(_HEADER, rows), ""]
    return lines


def render_configuration_page() -> str:
    """The whole configuration reference page, deterministic for a given code base."""
    lines = [
        GENERATED_NOTICE,
        "",
        "# Configuration reference",
        "",
        "Every key of every config file, read from the schema (`halo_forge/config/models.py`) and "
        "the verifiers' options models. Precedence for every key: an option given on the command "
        "line, then the YAML file, then the default below. Sections reject unknown keys. Check a "
        "file with `halo-forge config validate FILE`.",
        "",
    ]
    for kind, model in CONFIG_TYPES.items():
        lines += [f"## {code(kind)} config ({code(model.__name__)})", ""]
        lines += _section_lines(model, kind, "")
    lines += _verifier_lines()
    return "\n".join(lines).rstrip() + "\n"
