"""The generated reference pages are committed as generated: a stale page fails with the fix."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docs.markdown_blocks import REPOSITORY_ROOT

from halo_forge.docs_reference import GENERATED_PAGES, REGENERATE_COMMAND


def _generate(root: Path, environment: dict[str, str] | None = None) -> Path:
    """Run the generator in a fresh process (no test-registered verifiers) into `root`."""
    completed = subprocess.run(
        [sys.executable, "-m", "halo_forge.docs_reference", str(root)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        env=environment,
    )
    assert completed.returncode == 0, f"generation failed:\n{completed.stderr[-3000:]}"
    return root


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pages as generation writes them now."""
    return _generate(tmp_path_factory.mktemp("generated"))


@pytest.mark.parametrize("page", sorted(GENERATED_PAGES))
def test_committed_reference_page_matches_generation(generated_root: Path, page: str) -> None:
    committed_path = REPOSITORY_ROOT / page
    generated = (generated_root / page).read_text(encoding="utf-8")
    committed = committed_path.read_text(encoding="utf-8") if committed_path.exists() else ""
    if committed != generated:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                fromfile=f"{page} (committed)",
                tofile=f"{page} (generated now)",
                n=1,
            )
        )
        pytest.fail(
            f"{page} is out of date; regenerate it with `{REGENERATE_COMMAND}` and commit it.\n"
            + diff[:4000]
        )


def test_generation_is_deterministic(generated_root: Path, tmp_path: Path) -> None:
    """A second generation, with another terminal width, writes the same bytes."""
    _generate(tmp_path, {**os.environ, "COLUMNS": "40"})
    for page in GENERATED_PAGES:
        assert (tmp_path / page).read_bytes() == (generated_root / page).read_bytes(), page
