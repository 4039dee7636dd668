"""A throwaway directory for one program's files and the runs in it (`Sandbox.workspace`).

The verifiers write a sample's files here and run its build and its program through the
sandbox that made it; the directory is removed when the `with` block ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox.limits import SandboxLimits, SandboxResult

if TYPE_CHECKING:
    from halo_forge.verifiers.sandbox.runner import Sandbox


class Workspace:
    """A throwaway directory (from `Sandbox.workspace`) for one program's files and runs."""

    def __init__(self, sandbox: Sandbox, path: Path) -> None:
        self.sandbox = sandbox
        self.path = path

    def write(self, name: str, content: str | bytes) -> Path:
        """Write a file (utf-8 for text) at `name`, relative to the workspace; return its path."""
        path = (self.path / name).resolve()
        if not path.is_relative_to(self.path):
            raise VerifierError(f"workspace file {name!r} points outside the workspace")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        for owned in (path, *path.relative_to(self.path).parents[:-1]):
            self.sandbox._hand_over(self.path / owned)
        return path

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: str | bytes | None = None,
        limits: SandboxLimits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> SandboxResult:
        """Run `argv` here. `argv[0]` is looked up on the sandbox PATH, or relative to the
        workspace when it has a slash (`./prog`); VerifierError when it does not exist.
        stdin is /dev/null unless given; `env` adds to (or overrides) the clean environment."""
        return self.sandbox.run(argv, workdir=self.path, stdin=stdin, limits=limits, env=env)
