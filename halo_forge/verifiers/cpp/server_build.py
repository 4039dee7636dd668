"""Where a compile happens: a sample's workspace on the host, or its session on a run server.

A sample that runs after it compiles pays for the compile's sandbox start as much as for a
run's (10-40 ms). Its run server (`sandbox.run_pool`) can compile it as well: the source goes
to the server with the session's first request, the compiler runs there like a run (with the
compiler's limits instead of the program's), and the binary it writes stays on the server for
the test cases. `CompileVerifier._compile` takes either place (`BuildPlace`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Protocol

from halo_forge.verifiers.sandbox import SandboxLimits, SandboxResult
from halo_forge.verifiers.sandbox.run_pool import RunSession


class BuildPlace(Protocol):
    """Where a compile writes its source and runs its compiler (a `Workspace`, a `ServerBuild`)."""

    def write(self, name: str, content: str | bytes) -> PurePath: ...

    def run(self, argv: list[str], *, env: Mapping[str, str] | None = None) -> SandboxResult: ...


class ServerBuild:
    """A compile on a sample's run server, under the compiler's `limits`; the `binary` it
    writes joins the session's files, for the runs that follow."""

    def __init__(self, session: RunSession, limits: SandboxLimits, binary: str) -> None:
        self.session = session
        self.limits = limits
        self.binary = binary

    def write(self, name: str, content: str | bytes) -> PurePath:
        return self.session.write(name, content)

    def run(self, argv: list[str], *, env: Mapping[str, str] | None = None) -> SandboxResult:
        return self.session.run(argv, limits=self.limits, env=env, keep=(self.binary,))
