"""One config loader: YAML file -> overrides from the command line -> a validated, typed config.

Why not plain `yaml.safe_load`: PyYAML follows YAML 1.1, which reads `5e-5` as the *string*
"5e-5"; here any scientific-notation literal is a float. Why overrides are a separate dict: the
CLI passes only the options a user actually typed (its defaults are None), so a YAML value is
never silently replaced by a CLI default.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from halo_forge.config.models import BenchmarkConfig, RAFTConfig, SFTConfig
from halo_forge.errors import ConfigError

ConfigModel = TypeVar("ConfigModel", bound=BaseModel)

CONFIG_TYPES: dict[str, type[BaseModel]] = {
    "sft": SFTConfig,
    "raft": RAFTConfig,
    "benchmark": BenchmarkConfig,
}


class _NumberAwareLoader(yaml.SafeLoader):
    """SafeLoader that also reads `5e-5`, `1E3` and `.5e-3` as floats (YAML 1.2 behaviour)."""


_FLOAT_PATTERN = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)
_NumberAwareLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", _FLOAT_PATTERN, list("-+0123456789.")
)


def parse_yaml_value(text: str) -> Any:
    """One YAML value as a config file would read it (`5e-5` is a float), for `--set KEY=VALUE`."""
    return yaml.load(text, Loader=_NumberAwareLoader)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_NumberAwareLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(error, 'problem', error)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    return data


def merge_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Apply `{"raft.num_cycles": 3, ...}` onto a nested dict; None values mean "not given"."""
    merged = _deep_copy(data)
    for dotted_key, value in overrides.items():
        if value is None:
            continue
        node = merged
        *parents, leaf = dotted_key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[leaf] = value
    return merged


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _deep_copy(value) if isinstance(value, dict) else value for key, value in data.items()
    }


def load_config(
    model: type[ConfigModel],
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> ConfigModel:
    """Build a config: defaults, then the YAML file (if any), then CLI overrides (non-None only)."""
    data = load_yaml(path) if path is not None else {}
    data = merge_overrides(data, overrides or {})
    return validate_config(model, data, source=str(path) if path else "command line")


def validate_config(
    model: type[ConfigModel], data: dict[str, Any], source: str = "config"
) -> ConfigModel:
    """Validate a mapping into `model`; every problem is reported with key path, value and what is allowed."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [_describe(model, item) for item in error.errors()]
        raise ConfigError(
            f"{source}: {len(problems)} invalid key(s) for {model.__name__}:\n  - "
            + "\n  - ".join(problems)
        ) from None


def _describe(model: type[BaseModel], item: Any) -> str:
    location = [part for part in item["loc"]]
    key_path = ".".join(str(part) for part in location) or "(top level)"
    value = item.get("input")
    if item["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, location[:-1])
        guess = difflib.get_close_matches(str(location[-1]), allowed, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else ""
        return f"{key_path}: unknown key.{hint} Allowed keys: {', '.join(allowed)}"
    return f"{key_path} = {value!r}: {item['msg']}"


def _allowed_keys(model: type[BaseModel], location: list[Any]) -> list[str]:
    """Field names of the section at `location` (list indices are stepped over)."""
    current: Any = model
    for part in location:
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = _model_inside(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_inside(annotation: Any) -> Any:
    """The BaseModel inside `X`, `X | None` or `list[X]` annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_inside(argument)
        if found is not None:
            return found
    return None


def detect_config_type(data: dict[str, Any]) -> str:
    """Guess `sft`, `raft` or `benchmark` from a config's top-level keys."""
    keys = set(data)
    if keys & {"raft", "sft_checkpoint", "cycles", "generation", "output_dir"}:
        return "raft"
    if keys & {"lora", "early_stopping", "output"} or (
        "model" in keys and isinstance(data["model"], dict)
    ):
        return "sft"
    if keys & {"samples", "k", "max_prompts"}:
        return "benchmark"
    raise ConfigError(
        "cannot tell the config type from its keys "
        f"({', '.join(sorted(keys)) or 'none'}); pass --type sft|raft|benchmark"
    )
