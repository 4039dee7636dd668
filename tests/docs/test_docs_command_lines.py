"""The parse check of skipped commands fails on exactly what would fail for a user."""

from __future__ import annotations

import pytest
from docs.command_lines import command_lines, parse_halo_forge


def test_command_lines_join_continuations_and_drop_comments() -> None:
    script = (
        "# set up\n"
        "HF_TOKEN=x halo-forge sft train --model m \\\n    --data d.jsonl  # trains\n"
        "make demo && halo-forge info\n"
    )
    assert command_lines(script) == [
        ["halo-forge", "sft", "train", "--model", "m", "--data", "d.jsonl"],
        ["make", "demo"],
        ["halo-forge", "info"],
    ]


def test_a_valid_command_parses_to_its_leaf_and_values() -> None:
    path, parameters = parse_halo_forge(["raft", "train", "--cycles", "3", "--lr", "1e-5"])
    assert path == "halo-forge raft train"
    assert parameters["cycles"] == 3
    assert parameters["learning_rate"] == pytest.approx(1e-5)


@pytest.mark.parametrize(
    "arguments",
    [
        ["raft", "train", "--num-cycles", "3"],  # a renamed or invented flag
        ["benchmark", "compare-all", "a.json"],  # an unknown subcommand
        ["sft", "train", "--epochs", "three"],  # a value of the wrong type
        ["verify", "samples.jsonl"],  # a missing required option (--output)
        ["sft"],  # a group without its command
    ],
)
def test_a_wrong_command_fails_to_parse(arguments: list[str]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - click's usage errors and missing-command errors
        parse_halo_forge(arguments)
