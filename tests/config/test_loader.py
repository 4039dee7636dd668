"""Config loading: YAML numbers, error messages that name the key, and CLI > YAML > default precedence."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import typer
import yaml
from pydantic import BaseModel

from halo_forge.cli.overrides import (
    BENCHMARK_OPTION_KEYS,
    RAFT_OPTION_KEYS,
    SFT_OPTION_KEYS,
    overrides_from_options,
    verifier_option_overrides,
)
from halo_forge.config import BenchmarkConfig, RAFTConfig, SFTConfig, load_config, load_yaml
from halo_forge.config.loader import detect_config_type, validate_config
from halo_forge.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_scientific_notation_is_read_as_a_number(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "training:\n  learning_rate: 5e-5\n  min_lr: 1E-6\n")
    data = load_yaml(path)
    assert data["training"]["learning_rate"] == pytest.approx(5e-5)
    assert isinstance(data["training"]["min_lr"], float)
    assert yaml.safe_load("x: 5e-5")["x"] == "5e-5"  # the PyYAML behaviour this loader fixes


def test_plain_strings_stay_strings(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "model: e5-large\nprompts: 1e5.jsonl\n")
    assert load_yaml(path) == {"model": "e5-large", "prompts": "1e5.jsonl"}


def test_typo_key_names_the_path_and_suggests_the_key(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "raft:\n  keep_top_pct: 0.3\n")
    with pytest.raises(ConfigError) as error:
        load_config(RAFTConfig, path)
    message = str(error.value)
    assert "raft.keep_top_pct: unknown key" in message
    assert "Did you mean 'keep_top_percent'" in message
    assert str(path) in message


def test_invalid_choice_lists_allowed_values(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "raft:\n  curriculum: sideways\n")
    with pytest.raises(ConfigError) as error:
        load_config(RAFTConfig, path)
    message = str(error.value)
    assert "raft.curriculum = 'sideways'" in message
    for choice in ("none", "progressive", "adaptive", "historical"):
        assert choice in message


def test_out_of_range_value_is_reported_with_the_value(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "raft:\n  keep_top_percent: 50\n")
    with pytest.raises(ConfigError, match=r"raft.keep_top_percent = 50: .*less than or equal to 1"):
        load_config(RAFTConfig, path)


def test_typo_inside_a_cycle_override_lists_cycle_keys(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "raft:\n  num_cycles: 2\ncycles:\n  - temprature: 0.5\n")
    with pytest.raises(
        ConfigError, match=r"cycles\[0\]\.temprature: unknown key. Did you mean 'temperature'"
    ):
        load_config(RAFTConfig, path)


def test_more_cycle_overrides_than_cycles_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"cycles lists 2 overrides but raft\.num_cycles is 1"):
        validate_config(RAFTConfig, {"raft": {"num_cycles": 1}, "cycles": [{}, {}]})


def test_learning_rate_schedule_keys_must_name_cycles() -> None:
    with pytest.raises(ConfigError, match="schedule key 'first' must look like 'cycle_1'"):
        validate_config(RAFTConfig, {"training": {"learning_rate_schedule": {"first": 1e-5}}})


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "raft:\n  num_cycles: [1, 2\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: invalid YAML"):
        load_yaml(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_yaml(tmp_path / "absent.yaml")


def test_verifier_section_keeps_its_own_options() -> None:
    config = validate_config(RAFTConfig, {"verifier": {"type": "gcc", "run_after_compile": True}})
    assert config.verifier.type == "gcc"
    assert config.verifier.options() == {"run_after_compile": True}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"raft": {"num_cycles": 2}}, "raft"),
        ({"sft_checkpoint": "x"}, "raft"),
        ({"lora": {"r": 8}}, "sft"),
        ({"model": {"name": "x"}}, "sft"),
        ({"samples": 5, "k": [1]}, "benchmark"),
    ],
)
def test_config_type_is_detected_from_keys(data: dict, kind: str) -> None:
    assert detect_config_type(data) == kind


def test_undetectable_config_type_asks_for_type() -> None:
    with pytest.raises(ConfigError, match="pass --type"):
        detect_config_type({"hello": 1})


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    data = load_yaml(path)
    config = validate_config(
        {"sft": SFTConfig, "raft": RAFTConfig, "benchmark": BenchmarkConfig}[
            detect_config_type(data)
        ],
        data,
    )
    assert config.model_dump()  # non-empty, fully typed


# ----------------------------------------------------------------------------- precedence


def _field_for(model: type[BaseModel], dotted_key: str):
    current: type[BaseModel] = model
    *parents, leaf = dotted_key.split(".")
    for part in parents:
        annotation = current.model_fields[part].annotation
        current = annotation if isinstance(annotation, type) else typing.get_args(annotation)[0]
    return current.model_fields[leaf]


def _two_distinct_values(field) -> tuple[object, object]:
    """Two valid values that differ from each other and from the default."""
    annotation = field.annotation
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = (
        arguments[0]
        if typing.get_origin(annotation) in (typing.Union, type(int | None))
        else annotation
    )
    if typing.get_origin(base) is typing.Literal:
        choices = [c for c in typing.get_args(base) if c != field.default]
        return choices[0], choices[1]
    if typing.get_origin(base) is list:
        return [2, 3], [4]
    if base is bool:
        return True, False
    if base is int:
        return 3, 7
    if base is float:
        return 0.25, 0.75
    return "from-yaml", "from-cli"


PRECEDENCE_CASES = [
    (model, option, key)
    for model, mapping in (
        (SFTConfig, SFT_OPTION_KEYS),
        (RAFTConfig, RAFT_OPTION_KEYS),
        (BenchmarkConfig, BENCHMARK_OPTION_KEYS),
    )
    for option, key in mapping.items()
]


def _get(config: BaseModel, dotted_key: str) -> object:
    value: object = config
    for part in dotted_key.split("."):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize(
    ("model", "option", "key"),
    PRECEDENCE_CASES,
    ids=[f"{m.__name__}:{o}" for m, o, _ in PRECEDENCE_CASES],
)
def test_cli_over_yaml_over_default(
    tmp_path: Path, model: type[BaseModel], option: str, key: str
) -> None:
    field = _field_for(model, key)
    yaml_value, cli_value = _two_distinct_values(field)
    nested: dict = {}
    node = nested
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = yaml_value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(nested))
    all_options_absent = dict.fromkeys(
        {
            SFTConfig: SFT_OPTION_KEYS,
            RAFTConfig: RAFT_OPTION_KEYS,
            BenchmarkConfig: BENCHMARK_OPTION_KEYS,
        }[model]
    )

    default_only = load_config(
        model, None, overrides_from_options({option: key}, all_options_absent)
    )
    assert _get(default_only, key) == _get(model(), key)

    yaml_only = load_config(model, path, overrides_from_options({option: key}, all_options_absent))
    assert _get(yaml_only, key) == yaml_value, (
        "an absent CLI option must not replace the YAML value"
    )

    given = {**all_options_absent, option: cli_value}
    cli_and_yaml = load_config(model, path, overrides_from_options({option: key}, given))
    assert _get(cli_and_yaml, key) == cli_value


def test_verifier_options_from_the_command_line_join_the_yaml_ones(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path, "verifier:\n  type: gcc\n  run_after_compile: false\n  timeout: 9\n"
    )
    overrides = verifier_option_overrides(["run_after_compile=true", "language=c"])
    config = load_config(RAFTConfig, path, overrides)
    assert config.verifier.type == "gcc"
    assert config.verifier.options() == {"run_after_compile": True, "timeout": 9, "language": "c"}


def test_malformed_verifier_option_names_the_flag() -> None:
    with pytest.raises(typer.BadParameter, match="--verifier-option"):
        verifier_option_overrides(["run_after_compile"])


def test_sft_and_raft_training_sections_share_their_keys() -> None:
    shared = {"num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps"}
    assert shared <= set(SFTConfig().training.model_dump())
    assert shared | {"max_seq_length"} <= set(RAFTConfig().training.model_dump())


@pytest.mark.parametrize(
    ("model", "alias", "name", "value"),
    [
        (RAFTConfig, "training.epochs", "training.num_train_epochs", 2.0),
        (RAFTConfig, "training.batch_size", "training.per_device_train_batch_size", 3),
        (SFTConfig, "training.epochs", "training.num_train_epochs", 2.0),
        (RAFTConfig, "raft.keep_top_fraction", "raft.keep_top_percent", 0.25),
    ],
)
def test_an_alias_sets_the_key_in_yaml_and_in_overrides(
    tmp_path: Path, model: type[BaseModel], alias: str, name: str, value: object
) -> None:
    section, key = alias.split(".")
    path = write_yaml(tmp_path, f"{section}:\n  {key}: {value}\n")
    from_yaml = load_config(model, path)
    from_override = load_config(model, overrides={alias: value})
    for config in (from_yaml, from_override):
        assert getattr(getattr(config, section), name.split(".")[1]) == value


def test_a_flag_for_the_name_beats_the_alias_in_the_yaml(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "training:\n  epochs: 4\n  batch_size: 8\n")
    config = load_config(RAFTConfig, path, overrides={"training.num_train_epochs": 1})
    assert (config.training.num_train_epochs, config.training.per_device_train_batch_size) == (1, 8)


def test_a_key_set_under_both_spellings_is_an_error() -> None:
    data = {"raft": {"keep_top_percent": 0.5, "keep_top_fraction": 0.3}}
    with pytest.raises(ConfigError, match="'keep_top_percent' is set twice"):
        validate_config(RAFTConfig, data)


def test_keep_top_fraction_alias_works_in_cycle_overrides() -> None:
    config = validate_config(RAFTConfig, {"cycles": [{"keep_top_fraction": 0.4}]})
    assert config.cycles[0].keep_top_percent == 0.4
