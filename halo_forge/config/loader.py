"""One config loader: YAML file -> overrides from the command line -> a validated, typed config.

Why not plain `yaml.safe_load`: PyYAML follows YAML 1.1, which reads `5e-5` as the *string*
"5e-5"; here any scientific-notation literal is a float. Why overrides are a separate dict: the
CLI passes only the options a user actually typed (its defaults are None), so a YAML value is
never silently replaced by a CLI default.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import AliasChoices, BaseModel, ValidationError

from halo_forge.config.grpo import GRPOConfig
from halo_forge.config.models import BenchmarkConfig, RAFTConfig, SFTConfig
from halo_forge.errors import ConfigError

ConfigModel = TypeVar("ConfigModel", bound=BaseModel)

CONFIG_TYPES: dict[str, type[BaseModel]] = {
    "sft": SFTConfig,
    "raft": RAFTConfig,
    "grpo": GRPOConfig,
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


def load_yaml(path: str | Path, what: str = "config") -> dict[str, Any]:
    """Read a YAML mapping (`what` names the kind of file in errors); errors name file and line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: {what} file not found")
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
    """Build a config: defaults, then the YAML file (if any), then CLI overrides (non-None only).

    Both are first spelt with the keys' own names (`training.epochs` becomes
    `training.num_train_epochs`), so an override replaces a value the file wrote under an alias.
    """
    data = canonical_keys(model, load_yaml(path)) if path is not None else {}
    overrides = {canonical_path(model, key): value for key, value in (overrides or {}).items()}
    data = merge_overrides(data, overrides)
    return validate_config(model, data, source=str(path) if path else "command line")


def validate_config(
    model: type[ConfigModel], data: dict[str, Any], source: str = "config"
) -> ConfigModel:
    """Validate a mapping into `model`; every problem is reported with key path, value and what is allowed."""
    try:
        return model.model_validate(canonical_keys(model, data))
    except ValidationError as error:
        problems = [problem.describe() for problem in validation_problems(error, model)]
        raise ConfigError(
            f"{source}: {len(problems)} invalid key(s) for {model.__name__}:\n  - "
            + "\n  - ".join(problems)
        ) from None


# ----------------------------------------------------------------------------- aliases


def key_aliases(model: type[BaseModel]) -> dict[str, str]:
    """`{alias: name}` for the fields of `model` that also accept another spelling.

    The aliases are the fields' own `validation_alias=AliasChoices(name, alias, ...)`, so a
    section declares each spelling once, beside the field.
    """
    aliases: dict[str, str] = {}
    for name, field in model.model_fields.items():
        if isinstance(field.validation_alias, AliasChoices):
            for choice in field.validation_alias.choices:
                if isinstance(choice, str) and choice != name:
                    aliases[choice] = name
    return aliases


def canonical_keys(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """`data` with every alias replaced by its key's name, in every section; nothing else changes.

    A section that sets a key under both spellings is ambiguous and raises ConfigError.
    """
    aliases = key_aliases(model)
    result: dict[str, Any] = {}
    for key, value in data.items():
        name = aliases.get(key, key)
        if name in result:
            raise ConfigError(f"{name!r} is set twice, once as its alias {key!r}; keep one of them")
        field = model.model_fields.get(name)
        inner = _model_inside(field.annotation) if field is not None else None
        if inner is not None and isinstance(value, dict):
            value = canonical_keys(inner, value)
        elif inner is not None and isinstance(value, list):
            value = [
                canonical_keys(inner, item) if isinstance(item, dict) else item for item in value
            ]
        result[name] = value
    return result


def canonical_path(model: type[BaseModel], dotted_key: str) -> str:
    """A dotted override key with each alias along it replaced by the key's name."""
    parts = []
    current: Any = model
    for part in dotted_key.split("."):
        if isinstance(current, type) and issubclass(current, BaseModel):
            part = key_aliases(current).get(part, part)
            field = current.model_fields.get(part)
            current = _model_inside(field.annotation) if field is not None else None
        parts.append(part)
    return ".".join(parts)


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class ValidationProblem:
    """One problem of a pydantic ValidationError, read once for every message that reports it.

    Config files, verifier options, records, topic files and result files all report their
    problems from this: the key path, the value given, pydantic's message, and for an unknown
    key the keys its section allows and the closest of them.
    """

    key_path: str  # `cycles[0].temperature`; empty for the whole object
    value: Any
    message: str  # pydantic's, without its "Value error, " prefix
    kind: str  # pydantic's error type: `extra_forbidden` for an unknown key, `missing`, ...
    allowed_keys: tuple[str, ...] = ()  # an unknown key's section's keys, when the model is known
    suggestion: str | None = None  # the allowed key closest to an unknown one

    @property
    def unknown_key(self) -> bool:
        """Whether the problem is a key the section does not have (a typo, most often)."""
        return self.kind == "extra_forbidden"

    @property
    def missing(self) -> bool:
        """Whether a required key was not given."""
        return self.kind == "missing"

    def describe(self) -> str:
        """`key.path = value: message`, or for an unknown key its "did you mean" and allowed keys."""
        where = self.key_path or "(top level)"
        if self.unknown_key:
            hint = f" Did you mean '{self.suggestion}'?" if self.suggestion else ""
            allowed = f" Allowed keys: {', '.join(self.allowed_keys)}" if self.allowed_keys else ""
            return f"{where}: unknown key.{hint}{allowed}"
        if self.missing:
            return f"{where}: required but missing"
        return f"{where} = {self.value!r}: {self.message}"


def validation_problems(
    error: ValidationError, model: type[BaseModel] | None = None
) -> list[ValidationProblem]:
    """The problems of `error`; given the validated `model`, unknown keys get the allowed keys."""
    problems = []
    for item in error.errors():
        location = list(item["loc"])
        allowed: list[str] = []
        if item["type"] == "extra_forbidden" and model is not None:
            allowed = _allowed_keys(model, location[:-1])
        guesses = difflib.get_close_matches(str(location[-1]), allowed, n=1) if allowed else []
        problems.append(
            ValidationProblem(
                key_path=key_path(location),
                value=item.get("input"),
                message=item["msg"].removeprefix("Value error, "),
                kind=item["type"],
                allowed_keys=tuple(allowed),
                suggestion=guesses[0] if guesses else None,
            )
        )
    return problems


def key_path(location: list[Any]) -> str:
    """`["cycles", 0, "temperature"]` as `cycles[0].temperature`."""
    return "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in location
    ).lstrip(".")


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
    """Guess `sft`, `raft`, `grpo` or `benchmark` from a config's top-level keys."""
    keys = set(data)
    if "grpo" in keys:  # before raft: a GRPO config shares RAFT's other top-level keys
        return "grpo"
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
        f"({', '.join(sorted(keys)) or 'none'}); pass --type sft|raft|grpo|benchmark"
    )
