"""The one place untrusted programs run: model-written code and the compilers that read it.

    from halo_forge.verifiers.sandbox import Sandbox, SandboxLimits
    sandbox = Sandbox(SandboxLimits(wall_timeout_s=5.0))
    with sandbox.workspace() as workspace:
        result = workspace.run(["./prog"], stdin="1 2\n")

`runner.py` explains every protection a run gets. Names are imported on first use, so the fork
server of the Python verifiers can import `limits` and `confine` without the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halo_forge.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from halo_forge.verifiers.sandbox.confine import ChildConfinement
    from halo_forge.verifiers.sandbox.isolation import IsolationReport
    from halo_forge.verifiers.sandbox.limits import SandboxLimits, SandboxResult
    from halo_forge.verifiers.sandbox.process import SANDBOX_PATH
    from halo_forge.verifiers.sandbox.runner import (
        Sandbox,
        isolation_report,
        probe_isolation,
        run_sandboxed,
    )
    from halo_forge.verifiers.sandbox.workspace import Workspace

_EXPORTS = {
    "ChildConfinement": "confine",
    "IsolationReport": "isolation",
    "SandboxLimits": "limits",
    "SandboxResult": "limits",
    "SANDBOX_PATH": "process",
    "Sandbox": "runner",
    "Workspace": "workspace",
    "isolation_report": "runner",
    "probe_isolation": "runner",
    "run_sandboxed": "runner",
}

__all__ = [
    "SANDBOX_PATH",
    "ChildConfinement",
    "IsolationReport",
    "Sandbox",
    "SandboxLimits",
    "SandboxResult",
    "Workspace",
    "isolation_report",
    "probe_isolation",
    "run_sandboxed",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
