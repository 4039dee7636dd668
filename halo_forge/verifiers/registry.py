"""Verifier names -> factories with typed options, for the CLI and YAML configs.

A verifier module registers itself with a decorator, the one place its name and options are
declared (the decorator sets the class's `verifier_name` and `options_model`)::

    @register_verifier("gcc", options=CompileOptions)
    class GCCVerifier(CompileVerifier): ...

and a config `verifier: {type: gcc, run_after_compile: true}` becomes
`build_verifier_from_config(...)`. Options are pydantic models with `extra="forbid"`, so a
mistyped key or a bad value fails at build time with the key, the value and what is allowed.
The built-in modules are imported on first use, which keeps `import halo_forge.verifiers`
fast and lets a module that needs an optional tool register without importing it.

Besides its own options, every verifier takes `executor` (`ExecutorOptions`: where its batches
run, e.g. `executor: ray`). It is declared once, here, not in each options model; it decides
how fast results come, never what they are.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from halo_forge.config.loader import validation_problems
from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.executors import ExecutorOptions, VerifierRecipe, build_executor

#: Modules whose import registers the built-in verifiers.
_BUILTIN_MODULES = [
    "halo_forge.verifiers.cpp.compile",
    "halo_forge.verifiers.custom",
    "halo_forge.verifiers.python.verifiers",
    "halo_forge.verifiers.remote.msvc",
    "halo_forge.verifiers.languages.rust",
    "halo_forge.verifiers.languages.go",
    "halo_forge.verifiers.languages.csharp",
    "halo_forge.verifiers.auto",
]

#: The option every verifier takes besides its own: where its batches run.
EXECUTOR_OPTION = "executor"

OptionsModel = TypeVar("OptionsModel", bound=BaseModel)
Factory = TypeVar("Factory", bound=Callable[..., Verifier])


@dataclass(frozen=True)
class VerifierEntry:
    """A registered verifier: how to build it and which options it takes."""

    name: str
    factory: Callable[..., Verifier]
    options: type[BaseModel]
    description: str


_REGISTRY: dict[str, VerifierEntry] = {}
_builtins_loaded = False


def register_verifier(name: str, *, options: type[BaseModel]) -> Callable[[Factory], Factory]:
    """Register a verifier class (or factory) under `name`; its docstring's first line describes it.

    The factory is called with the validated options as keyword arguments. A class gets
    `verifier_name = name` and `options_model = options`, which its cache fingerprint and its
    own option checks read, so neither is written twice.
    """

    def decorate(factory: Factory) -> Factory:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.factory is not factory:
            raise VerifierError(
                f"verifier name {name!r} is already registered by {existing.factory.__qualname__}; "
                "choose another name"
            )
        doc = (factory.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = VerifierEntry(
            name=name, factory=factory, options=options, description=doc[0] if doc else name
        )
        if isinstance(factory, type):
            factory.verifier_name = name
            factory.options_model = options
        return factory

    return decorate


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        _builtins_loaded = True


def available_verifiers() -> dict[str, VerifierEntry]:
    """Every registered verifier by name (built-ins and any registered by user code)."""
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def _did_you_mean(given: str, choices: list[str]) -> str:
    """The "did you mean" hint of a misspelt name: its closest choice, or nothing."""
    guess = difflib.get_close_matches(given, choices, n=1)
    return f"; did you mean {guess[0]!r}?" if guess else ""


def _unknown_verifier(name: str, verifiers: Mapping[str, VerifierEntry]) -> str:
    return (
        f"unknown verifier {name!r}; available verifiers: {', '.join(verifiers)}"
        + _did_you_mean(name, list(verifiers))
    )


def _entry(name: str) -> VerifierEntry:
    verifiers = available_verifiers()
    if name not in verifiers:
        raise VerifierError(_unknown_verifier(name, verifiers))
    return verifiers[name]


def _validated(
    model: type[OptionsModel], options: Mapping[str, Any]
) -> tuple[OptionsModel | None, list[str]]:
    """`options` checked against `model`: (the options, []) or (None, one line per problem)."""
    try:
        return model.model_validate(dict(options)), []
    except ValidationError as error:
        problems = [
            f"unknown option {problem.key_path!r} (allowed: {', '.join(problem.allowed_keys)})"
            + (f"; did you mean {problem.suggestion!r}?" if problem.suggestion else "")
            if problem.unknown_key
            else f"option {problem.key_path or '(options)'!r}={problem.value!r}: {problem.message}"
            for problem in validation_problems(error, model)
        ]
        return None, problems


def validate_options(
    model: type[OptionsModel], options: Mapping[str, Any], owner: str
) -> OptionsModel:
    """`options` checked against `model`; a bad key or value raises VerifierError saying the fix."""
    validated, problems = _validated(model, options)
    if validated is None:
        raise VerifierError(f"{owner}: " + "; ".join(problems))
    return validated


def verifier_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The verifier's own options: `options` without the `executor` option every verifier takes."""
    return {key: value for key, value in options.items() if key != EXECUTOR_OPTION}


def _executor_settings(value: Any) -> Any:
    """`executor: ray` is short for `executor: {type: ray}`; absent means the local pool."""
    if value is None:
        return {}
    return {"type": value} if isinstance(value, str) else value


def _executor_problems(options: Mapping[str, Any]) -> list[str]:
    settings = _executor_settings(options.get(EXECUTOR_OPTION))
    if not isinstance(settings, Mapping):
        return [f"option 'executor'={settings!r}: give 'local', 'ray' or a mapping with a 'type'"]
    return [f"executor: {problem}" for problem in _validated(ExecutorOptions, settings)[1]]


def verifier_config_problems(config: Mapping[str, Any]) -> list[str]:
    """What is wrong with a `{type: ..., **options}` verifier config, one line per problem.

    Checks the name and the options against the registry without building the verifier, so
    a config is checked in a fraction of a second, with no toolchain and no torch.
    """
    options = dict(config)
    name = options.pop("type", None)
    verifiers = available_verifiers()
    if not isinstance(name, str):
        return [f"needs a 'type' naming the verifier; available verifiers: {', '.join(verifiers)}"]
    if name not in verifiers:
        return [_unknown_verifier(name, verifiers)]
    own_problems = _validated(verifiers[name].options, verifier_options(options))[1]
    return _executor_problems(options) + own_problems


def build_verifier(name: str, **options: Any) -> Verifier:
    """A verifier by registered name, with its options validated (`build_verifier("gcc", ...)`).

    `executor` (see `ExecutorOptions`) sets where its batches run; a Ray executor rebuilds the
    verifier on each worker from this factory and these validated options.
    """
    entry = _entry(name)
    problems = _executor_problems(options)
    if problems:
        raise VerifierError(f"verifier {name!r}: " + "; ".join(problems))
    executor = ExecutorOptions.model_validate(_executor_settings(options.get(EXECUTOR_OPTION)))
    validated = validate_options(
        entry.options, verifier_options(options), owner=f"verifier {name!r}"
    )
    settings = validated.model_dump(exclude_unset=True)
    verifier = entry.factory(**settings)
    verifier.batch_executor = build_executor(
        executor, VerifierRecipe(name, entry.factory, settings)
    )
    return verifier


def build_verifier_from_config(config: Mapping[str, Any]) -> Verifier:
    """A verifier from a config mapping `{"type": "gcc", **options}` (YAML `verifier:` section)."""
    options = dict(config)
    name = options.pop("type", None)
    if not isinstance(name, str):
        raise VerifierError(
            "verifier config needs a 'type' naming the verifier; available verifiers: "
            + ", ".join(available_verifiers())
        )
    return build_verifier(name, **options)


def verifier_options_schema(name: str) -> dict[str, Any]:
    """JSON schema of a verifier's options (for docs, editors and `--set` help)."""
    return _entry(name).options.model_json_schema()
