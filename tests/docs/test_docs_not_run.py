"""Blocks the runner skips still hold true commands: every `halo-forge` line parses, every
`make` target exists, and the reason for skipping is one of the allowed ones.

A `halo-forge` line is parsed by the real command tree (docs/command_lines.py), so a renamed
flag or command in the code fails here even though the block never runs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

import pytest
from docs.command_lines import command_lines, create_path_arguments, parse_halo_forge
from docs.markdown_blocks import NOT_RUN_REASONS, REPOSITORY_ROOT, CodeBlock, all_blocks
from typer import Exit

NOT_RUN_BLOCKS = [
    block for language in ("bash", "python") for block in all_blocks(language) if block.not_run
]

#: Programs whose lines in a skipped block are not checked, and why.
UNCHECKED_PROGRAMS = {
    "pip": "installs packages; its arguments belong to pip",
    "python": "a python -m / -c line outside halo-forge",
    "source": "activates an environment",
    "export": "sets a variable",
    "ssh": "reaches a remote host",
    "apt-get": "installs system packages",
    "sudo": "installs system packages",
    "cd": "changes directory",
    "git": "fetches the repository",
    "accelerate": "a launcher around halo-forge; its arguments belong to accelerate",
    "ray": "starts or joins a Ray cluster, on machines a test run does not have",
    "torchrun": "a launcher around halo-forge; its arguments belong to torchrun",
    "vllm": "starts an inference server on a GPU machine",
}


def _id(block: CodeBlock) -> str:
    return block.where


@pytest.mark.parametrize("block", NOT_RUN_BLOCKS, ids=_id)
def test_skip_reason_is_allowed(block: CodeBlock) -> None:
    assert block.not_run in NOT_RUN_REASONS, (
        f"{block.where}: not-run reason {block.not_run!r}; use one of {sorted(NOT_RUN_REASONS)}"
    )


@pytest.mark.parametrize("block", [b for b in NOT_RUN_BLOCKS if b.language == "bash"], ids=_id)
def test_skipped_commands_parse(
    block: CodeBlock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for words in command_lines(block.text):
        program = PurePosixPath(words[0]).name  # `.venv/bin/halo-forge` is `halo-forge`
        if program == "halo-forge":
            create_path_arguments(words[1:], tmp_path)
            try:
                parse_halo_forge(words[1:])
            except Exit as stop:
                assert stop.exit_code == 0, f"{block.where}: {' '.join(words)}"
            except Exception as error:
                pytest.fail(f"{block.where}: `{' '.join(words)}` does not parse: {error}")
        elif program == "make":
            targets = [word for word in words[1:] if "=" not in word and not word.startswith("-")]
            for target in targets:
                dry_run = subprocess.run(
                    ["make", "-n", target], cwd=REPOSITORY_ROOT, capture_output=True, text=True
                )
                assert dry_run.returncode == 0, f"{block.where}: make {target}: {dry_run.stderr}"
        else:
            assert program in UNCHECKED_PROGRAMS, (
                f"{block.where}: `{program}` in a not-run block is neither checked nor listed in "
                "UNCHECKED_PROGRAMS"
            )


def test_skipped_python_compiles() -> None:
    for block in NOT_RUN_BLOCKS:
        if block.language == "python":
            compile(block.text, block.where, "exec")
