"""`python -m halo_forge.docs_reference [ROOT]`: rewrite the generated reference pages under ROOT."""

from __future__ import annotations

import sys
from pathlib import Path

from halo_forge.docs_reference import write_pages


def main(arguments: list[str]) -> None:
    """Write the pages under the given repository root (default: the current directory)."""
    root = Path(arguments[0]) if arguments else Path.cwd()
    for path in write_pages(root):
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
