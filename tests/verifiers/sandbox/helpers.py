"""What the sandbox tests share: the sandbox variants, a C build step and process lookups."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox import (
    IsolationReport,
    Sandbox,
    SandboxLimits,
    Workspace,
    probe_isolation,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
FAST = SandboxLimits(wall_timeout_s=5.0)


#: Hostile tests run under both, through a module fixture named `sandbox`:
#: `pytest.fixture(scope="module", params=SANDBOX_VARIANTS, name="sandbox")(sandbox_variant)`.
SANDBOX_VARIANTS = ["strongest", "without-cgroups"]


def sandbox_variant(request: pytest.FixtureRequest) -> Sandbox:
    """The sandbox as used here, and as used where no cgroup is writable (a fixture body)."""
    if request.param == "strongest":
        return Sandbox(FAST)
    return Sandbox(FAST, isolation=probe_isolation(use_cgroups=False))


def build(workspace: Workspace, source: str, name: str = "prog") -> str:
    """Compile a C program with gcc inside the sandbox; the path to run it by."""
    workspace.write(f"{name}.c", source)
    result = workspace.run(["gcc", "-O0", f"{name}.c", "-o", name])  # -O0: keep dead stores
    assert result.ok, result.stderr
    return f"./{name}"


def assert_still_works(sandbox: Sandbox) -> None:
    """After a hostile run, an ordinary program in the same sandbox runs normally."""
    with sandbox.workspace() as workspace:
        result = workspace.run(["sh", "-c", "echo fine; echo err >&2"])
    assert (result.returncode, result.stdout, result.stderr) == (0, "fine\n", "err\n")


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command_line = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if marker.encode() in command_line and state != "Z":
            found.append(int(entry.name))
    return found


def python_for(sandbox: Sandbox) -> str:
    """This interpreter, or the system's where the sandbox user cannot reach it (run as nobody,
    a Python installed under /root is out of reach)."""
    try:
        with sandbox.workspace() as workspace:
            workspace.run([sys.executable, "-c", "pass"])
    except VerifierError:
        return "python3"
    return sys.executable


def require(active: bool, message: str, report: IsolationReport) -> None:
    """Fail (never skip) when a protection a test relies on is not active here."""
    if not active:
        pytest.fail(f"{message}; isolation report: {report}")
