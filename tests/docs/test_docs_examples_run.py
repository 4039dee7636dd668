"""Every ```bash and ```python block of the guide runs, page by page, as a reader would run it.

A page is a tutorial: its blocks run in order in one fresh working directory, so a later step
uses the files an earlier one wrote. Bash blocks run with `bash -euo pipefail`, Python blocks
with this interpreter. The working directory starts with links to the running environment (as `.venv`)
and the checkout's `configs/` (a reader follows the guide from the repository root); HOME is a temporary directory,
nothing is downloaded (HF_HUB_OFFLINE=1) and the embedded tiny model does the training.
Blocks marked `<!-- not-run: REASON -->` are checked by test_docs_not_run.py instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from docs.markdown_blocks import REPOSITORY_ROOT, CodeBlock, guide_pages, page_blocks

EXECUTABLE_LANGUAGES = ("bash", "python")
BLOCK_TIMEOUT_SECONDS = 240
_OUTPUT_TAIL = 3000


def _runnable_blocks(page: str) -> list[CodeBlock]:
    return [
        block
        for block in page_blocks(page)
        if block.language in EXECUTABLE_LANGUAGES and block.not_run is None
    ]


PAGES_WITH_EXAMPLES = [page for page in guide_pages() if _runnable_blocks(page)]


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for every page: the tiny model is built once, as on a reader's machine."""
    return tmp_path_factory.mktemp("docs-cache")


def _environment(home: Path, cache: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "PYTHON", "HALO_FORGE_"))
    }
    environment.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(home),
        HALO_FORGE_CACHE_DIR=str(cache),
        HF_HOME=str(home / "huggingface"),
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    return environment


def _prepare_working_directory(directory: Path) -> None:
    """`.venv` (the environment running the tests) and `configs/`, as in a checkout."""
    (directory / ".venv").symlink_to(Path(sys.prefix))
    (directory / "configs").symlink_to(REPOSITORY_ROOT / "configs")


def _run_block(block: CodeBlock, number: int, directory: Path, environment: dict[str, str]) -> None:
    if block.language == "bash":
        script = directory / f".block_{number}.sh"
        script.write_text(block.text, encoding="utf-8")
        command = ["bash", "-euo", "pipefail", str(script)]
    else:
        script = directory / f".block_{number}.py"
        script.write_text(block.text, encoding="utf-8")
        command = [sys.executable, str(script)]
    try:
        completed = subprocess.run(
            command,
            cwd=directory,
            env=environment,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{block.where}: {block.language} block ran over {BLOCK_TIMEOUT_SECONDS} s")
    if completed.returncode != 0:
        pytest.fail(
            f"{block.where}: {block.language} block exited {completed.returncode}\n"
            f"--- block ---\n{block.text}--- stdout (tail) ---\n{completed.stdout[-_OUTPUT_TAIL:]}\n"
            f"--- stderr (tail) ---\n{completed.stderr[-_OUTPUT_TAIL:]}"
        )


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES)
def test_page_examples_run_in_order(page: str, tmp_path: Path, shared_cache: Path) -> None:
    working_directory = tmp_path / "work"
    working_directory.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    _prepare_working_directory(working_directory)
    environment = _environment(home, shared_cache)
    for number, block in enumerate(_runnable_blocks(page), start=1):
        _run_block(block, number, working_directory, environment)


def test_every_executable_looking_block_is_bash_or_python() -> None:
    """An untagged block, or one tagged `sh`/`console`/`py`, would escape the runner unseen."""
    escaped = [
        block.where
        for page in guide_pages()
        for block in page_blocks(page)
        if block.language in ("", "sh", "shell", "console", "py", "python3", "zsh")
    ]
    assert not escaped, f"tag these blocks ```bash, ```python or ```text (output): {escaped}"
