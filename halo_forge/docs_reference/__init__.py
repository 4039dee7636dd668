"""Generators of the reference pages of the user guide, so the pages cannot drift from the code.

`docs/reference/configuration.md` is rendered from the pydantic config models and the options
models of every registered verifier; `docs/reference/cli.md` from the click command tree of the
`halo-forge` app. Regenerate both with `make docs`; a test fails when a committed page differs
from what these functions produce now.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from halo_forge.docs_reference.cli_page import render_cli_page
from halo_forge.docs_reference.config_page import render_configuration_page

#: The command that rewrites every generated page (printed by the freshness test on failure).
REGENERATE_COMMAND = "make docs"

#: Generated pages, relative to the repository root, and the function that renders each.
GENERATED_PAGES: dict[str, Callable[[], str]] = {
    "docs/reference/configuration.md": render_configuration_page,
    "docs/reference/cli.md": render_cli_page,
}


def write_pages(repository_root: Path) -> list[Path]:
    """Render every generated page and write it under `repository_root`; returns the paths."""
    written = []
    for relative_path, render in GENERATED_PAGES.items():
        path = repository_root / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written


__all__ = [
    "GENERATED_PAGES",
    "REGENERATE_COMMAND",
    "render_cli_page",
    "render_configuration_page",
    "write_pages",
]
