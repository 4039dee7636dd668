"""A sample's directory on the remote host, and the runs of the program built in it.

`RemoteWorkspace` uploads files into the directory over SFTP. `RemoteRunner` is a
`testcases.ProgramRunner` like the local `Sandbox`, so the shared `verify_runs` counts the
passing cases and gives the reward exactly as it does for local programs (0.6 crash or timeout, 0.7 wrong output, 0.8 some cases, 1.0).
Each run uploads its stdin as a file, because Windows shells cannot pass an SSH channel's
stdin to a program reliably, and the host's shell stops the program at `run_timeout`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.verifiers.build.testcases import cases_from_context, verify_runs
from halo_forge.verifiers.remote.commands import TIMEOUT_EXIT_CODE, RemoteShell
from halo_forge.verifiers.remote.ssh import CommandResult, SSHConnection, sftp_quote
from halo_forge.verifiers.result import VerifyResult
from halo_forge.verifiers.sandbox import SandboxResult

STDIN_NAME = "stdin.txt"
#: Seconds allowed for directory housekeeping and small transfers.
HOUSEKEEPING_TIMEOUT_S = 60.0
#: Seconds on top of `run_timeout` before the local side gives up on a run (PowerShell start-up).
RUN_SLACK_S = 30.0
_SIGNAL_BASE = 128  # a POSIX shell reports "killed by signal N" as status 128 + N

UploadCheck = Callable[[SSHConnection, CommandResult, str], None]


@dataclass
class RemoteWorkspace:
    """One sample's directory on the host, reached through one connection."""

    connection: SSHConnection
    shell: RemoteShell
    directory: str
    local_dir: Path
    binary_name: str = "prog.exe"

    def upload(self, name: str, content: str) -> CommandResult:
        """Write `content` to `name` in the directory, over SFTP from a local temporary file."""
        local = self.local_dir / name
        local.write_text(content, encoding="utf-8", newline="")
        remote = self.shell.sftp_path(self.shell.join(self.directory, name))
        return self.connection.transfer(
            [f"put {sftp_quote(str(local))} {sftp_quote(remote)}"], HOUSEKEEPING_TIMEOUT_S
        )


class RemoteRunner:
    """Runs a built program in a remote workspace; `run` mirrors `Sandbox.run`."""

    def __init__(
        self, workspace: RemoteWorkspace, run_timeout_s: float, check_upload: UploadCheck
    ) -> None:
        self.workspace = workspace
        self.run_timeout_s = run_timeout_s
        self._check_upload = check_upload

    def run(
        self, argv: Sequence[str], *, workdir: Path, stdin: str | bytes | None = None
    ) -> SandboxResult:
        """Run `argv[0]` (a file in the remote `workdir`) once with `stdin`."""
        text = stdin.decode("utf-8", errors="replace") if isinstance(stdin, bytes) else stdin
        connection = self.workspace.connection
        uploaded = self.workspace.upload(STDIN_NAME, text or "")
        self._check_upload(connection, uploaded, self.workspace.directory)
        command = self.workspace.shell.run_command(
            str(workdir), argv[0], STDIN_NAME, self.run_timeout_s
        )
        result = connection.run(command, self.run_timeout_s + RUN_SLACK_S, untrusted_output=True)
        returncode, signal = result.returncode, None
        posix = self.workspace.shell.name == "posix"
        if posix and returncode is not None and _SIGNAL_BASE < returncode < _SIGNAL_BASE + 65:
            signal = returncode - _SIGNAL_BASE
            returncode = -signal
        return SandboxResult(
            returncode=returncode,
            stdout=result.stdout,
            stderr=result.stderr,
            timed_out=result.timed_out or result.returncode == TIMEOUT_EXIT_CODE,
            wall_time_s=result.wall_time_s,
            output_truncated=result.output_truncated,
            signal=signal,
        )


def run_remote_cases(
    runner: RemoteRunner,
    context: Mapping[str, Any],
    default_stdin: str | None,
    default_expected: str | None,
    metadata: dict[str, Any],
) -> VerifyResult:
    """Run the built program once per test case of `context` and score it."""
    cases = cases_from_context(context, default_stdin, default_expected)
    workdir = Path(runner.workspace.directory)
    binary = runner.workspace.binary_name
    return verify_runs(runner, workdir, [binary], cases, metadata)
