"""The command lines the remote MSVC verifier sends to its build host, one builder per shell.

OpenSSH runs every command in the account's login shell on the host: `cmd.exe` on Windows by
default, PowerShell where the server's `DefaultShell` says so, `sh` on Linux and macOS. Each
builder speaks one of them:

- `posix`: every path and argument quoted with `shlex.quote`;
- `powershell`: a script sent as `powershell -NoProfile -NonInteractive -EncodedCommand B64`
  (UTF-16LE base64), so no second quoting layer exists and it works under either Windows
  default shell; string literals are single-quoted with `'` doubled;
- `cmd`: paths double-quoted (a path may not contain `"` or `%`); a program run is started
  through the PowerShell run script, because `cmd.exe` cannot stop a program at a deadline.

`env_setup` (e.g. `call "...\\vcvars64.bat"`, in the syntax of the chosen shell) runs in the
same shell invocation before the compiler, then the build changes into the sample's
directory (vcvars may change the working directory). Exit codes the verifier reads:
`COMMAND_NOT_FOUND_EXIT_CODES` when the compiler is missing, `TIMEOUT_EXIT_CODE` when a run
was stopped at its deadline.
"""

from __future__ import annotations

import base64
import ntpath
import posixpath
import shlex
from abc import ABC, abstractmethod
from collections.abc import Sequence

#: The marker before the absolute build directory in the output of `setup_command`.
DIRECTORY_MARKER = "HALO_FORGE_DIR="
#: Exit status of a run stopped at its deadline (what GNU `timeout` uses).
TIMEOUT_EXIT_CODE = 124
#: Exit status when the compiler is not on PATH: sh says 127, cmd.exe 9009 (PowerShell: 9009 here).
COMMAND_NOT_FOUND_EXIT_CODES = frozenset({127, 9009})
_CMD_UNSAFE = frozenset('"%\r\n')
_CMD_NEEDS_QUOTES = frozenset(" \t&|<>^(),;=")


class RemoteShell(ABC):
    """Builds the command lines of one shell; every path is a path on the build host."""

    name: str

    @abstractmethod
    def join(self, directory: str, name: str) -> str:
        """`name` inside `directory`, with the host's path separator."""

    @abstractmethod
    def setup_command(self, remote_dir: str, env_setup: str | None, compiler: str) -> str:
        """Create `remote_dir`, print DIRECTORY_MARKER + its absolute path, then run the bare
        compiler (MSVC's `cl` prints its version banner and usage when given no file)."""

    @abstractmethod
    def compile_command(
        self,
        directory: str,
        env_setup: str | None,
        compiler: str,
        flags: Sequence[str],
        source: str,
        binary: str,
    ) -> str:
        """Load the environment, change into `directory`, build `source` into `binary`."""

    @abstractmethod
    def run_command(self, directory: str, binary: str, stdin_file: str, timeout_s: float) -> str:
        """Run `binary` in `directory` with stdin from `stdin_file`, stopped after `timeout_s`."""

    @abstractmethod
    def remove_command(self, directory: str) -> str:
        """Delete `directory` and everything in it."""

    @abstractmethod
    def free_space_command(self, directory: str) -> str:
        """Print the bytes free on the file system that holds `directory`."""

    def sftp_path(self, path: str) -> str:
        """`path` as the host's SFTP server names it."""
        return path

    def check_path(self, path: str) -> str:
        """`path` if this shell can quote it; raises ValueError naming what is not allowed."""
        if "\n" in path or "\r" in path or "\0" in path:
            raise ValueError("must not contain line breaks or NUL")
        return path


class PosixShell(RemoteShell):
    """sh, bash, zsh: Linux or macOS build hosts (and Windows hosts with a POSIX login shell)."""

    name = "posix"

    def join(self, directory: str, name: str) -> str:
        return posixpath.join(directory, name)

    def setup_command(self, remote_dir: str, env_setup: str | None, compiler: str) -> str:
        quoted = shlex.quote(remote_dir)
        steps = [
            f"mkdir -p -- {quoted}",
            f"printf '{DIRECTORY_MARKER}%s\\n' \"$(cd -- {quoted} && pwd)\"",
            *([env_setup] if env_setup else []),
            shlex.quote(compiler),
        ]
        return " && ".join(steps)

    def compile_command(
        self,
        directory: str,
        env_setup: str | None,
        compiler: str,
        flags: Sequence[str],
        source: str,
        binary: str,
    ) -> str:
        build = shlex.join([compiler, *flags, source, f"/Fe{binary}"])
        steps = [*([env_setup] if env_setup else []), f"cd -- {shlex.quote(directory)}", build]
        return " && ".join(steps)

    def run_command(self, directory: str, binary: str, stdin_file: str, timeout_s: float) -> str:
        program = shlex.quote(f"./{binary}")
        return (
            f"cd -- {shlex.quote(directory)} && "
            f"timeout -k 1 {timeout_s:g} {program} < {shlex.quote(stdin_file)}"
        )

    def remove_command(self, directory: str) -> str:
        return f"rm -rf -- {shlex.quote(directory)}"

    def free_space_command(self, directory: str) -> str:
        return f"df -Pk -- {shlex.quote(directory)} | awk 'NR==2 {{print $4 * 1024}}'"


def powershell_quote(text: str) -> str:
    """A PowerShell single-quoted string literal (no expansion; `'` is written twice)."""
    return "'" + text.replace("'", "''") + "'"


def encoded_powershell(script: str) -> str:
    """A command line that runs `script` in Windows PowerShell, free of any quoting layer."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"powershell -NoProfile -NonInteractive -EncodedCommand {encoded}"


def powershell_run_script(directory: str, binary: str, stdin_file: str, timeout_s: float) -> str:
    """PowerShell that runs a program with redirected streams and stops it at the deadline.

    `$p.Handle` is read so that `ExitCode` is kept after the process exits (a known quirk of
    `Start-Process -PassThru`); output goes through files because Start-Process redirects
    only to files.
    """
    stdout_file = ntpath.join(directory, "stdout.txt")
    stderr_file = ntpath.join(directory, "stderr.txt")
    return "\n".join(
        [
            f"$p = Start-Process -FilePath {powershell_quote(ntpath.join(directory, binary))} "
            f"-WorkingDirectory {powershell_quote(directory)} -NoNewWindow -PassThru "
            f"-RedirectStandardInput {powershell_quote(ntpath.join(directory, stdin_file))} "
            f"-RedirectStandardOutput {powershell_quote(stdout_file)} "
            f"-RedirectStandardError {powershell_quote(stderr_file)}",
            "$null = $p.Handle",
            f"$finished = $p.WaitForExit({round(timeout_s * 1000)})",
            "if (-not $finished) { Stop-Process -Id $p.Id -Force; $p.WaitForExit() }",
            f"[Console]::Out.Write([IO.File]::ReadAllText({powershell_quote(stdout_file)}))",
            f"[Console]::Error.Write([IO.File]::ReadAllText({powershell_quote(stderr_file)}))",
            f"if (-not $finished) {{ exit {TIMEOUT_EXIT_CODE} }}",
            "exit $p.ExitCode",
        ]
    )


def powershell_free_space_script(directory: str) -> str:
    """PowerShell that prints the free bytes of the drive holding `directory`."""
    return f"(Get-Item -LiteralPath {powershell_quote(directory)}).PSDrive.Free"


class WindowsShell(RemoteShell):
    """What the two Windows shells share: backslash paths and `/C:/...` SFTP paths."""

    def join(self, directory: str, name: str) -> str:
        return ntpath.join(directory, name)

    def sftp_path(self, path: str) -> str:
        """Windows OpenSSH's SFTP server names `C:\\x\\y` as `/C:/x/y`."""
        forward = path.replace("\\", "/")
        drive, _ = ntpath.splitdrive(path)
        return f"/{forward}" if drive.endswith(":") else forward


class PowerShellShell(WindowsShell):
    """Windows PowerShell; `env_setup` is a PowerShell command (e.g. `Enter-VsDevShell ...`)."""

    name = "powershell"

    def setup_command(self, remote_dir: str, env_setup: str | None, compiler: str) -> str:
        return encoded_powershell(
            "\n".join(
                [
                    f"$dir = New-Item -ItemType Directory -Force -Path {powershell_quote(remote_dir)}",
                    f"'{DIRECTORY_MARKER}' + $dir.FullName",
                    self._guarded(
                        [*([env_setup] if env_setup else []), f"& {powershell_quote(compiler)}"]
                    ),
                    "exit $LASTEXITCODE",
                ]
            )
        )

    def compile_command(
        self,
        directory: str,
        env_setup: str | None,
        compiler: str,
        flags: Sequence[str],
        source: str,
        binary: str,
    ) -> str:
        arguments = " ".join(powershell_quote(a) for a in [*flags, source, f"/Fe{binary}"])
        steps = [
            *([env_setup] if env_setup else []),
            f"Set-Location -LiteralPath {powershell_quote(directory)} -ErrorAction Stop",
            f"& {powershell_quote(compiler)} {arguments}",
        ]
        return encoded_powershell(self._guarded(steps) + "\nexit $LASTEXITCODE")

    @staticmethod
    def _guarded(steps: Sequence[str]) -> str:
        """`steps` in a try block: a command that is not found exits 9009, as in cmd.exe."""
        body = "; ".join(steps)
        return f"try {{ {body} }} catch {{ [Console]::Error.WriteLine($_); exit 9009 }}"

    def run_command(self, directory: str, binary: str, stdin_file: str, timeout_s: float) -> str:
        return encoded_powershell(powershell_run_script(directory, binary, stdin_file, timeout_s))

    def remove_command(self, directory: str) -> str:
        return encoded_powershell(
            f"Remove-Item -LiteralPath {powershell_quote(directory)} -Recurse -Force"
        )

    def free_space_command(self, directory: str) -> str:
        return encoded_powershell(powershell_free_space_script(directory))


def cmd_quote(argument: str) -> str:
    """`argument` for a cmd.exe command line: double-quoted when it holds spaces or operators."""
    if any(character in _CMD_UNSAFE for character in argument):
        raise ValueError(f"{argument!r}: cmd.exe cannot quote '\"', '%' or line breaks")
    if not argument or any(character in _CMD_NEEDS_QUOTES for character in argument):
        return f'"{argument}"'
    return argument


class CmdShell(WindowsShell):
    """cmd.exe, the default shell of OpenSSH on Windows; `env_setup` e.g. `call "...vcvars64.bat"`."""

    name = "cmd"

    def check_path(self, path: str) -> str:
        cmd_quote(path)
        return super().check_path(path)

    def setup_command(self, remote_dir: str, env_setup: str | None, compiler: str) -> str:
        quoted = f'"{remote_dir}"'
        steps = [
            f'(if not exist "{remote_dir}\\" mkdir {quoted}) & cd /d {quoted}',
            f"(for %I in (.) do @echo {DIRECTORY_MARKER}%~fI)",
            *([env_setup] if env_setup else []),
            f'"{compiler}"',
        ]
        return " && ".join(steps)

    def compile_command(
        self,
        directory: str,
        env_setup: str | None,
        compiler: str,
        flags: Sequence[str],
        source: str,
        binary: str,
    ) -> str:
        build = " ".join(
            [f'"{compiler}"', *(cmd_quote(a) for a in [*flags, source, f"/Fe{binary}"])]
        )
        steps = [*([env_setup] if env_setup else []), f'cd /d "{directory}"', build]
        return " && ".join(steps)

    def run_command(self, directory: str, binary: str, stdin_file: str, timeout_s: float) -> str:
        return encoded_powershell(powershell_run_script(directory, binary, stdin_file, timeout_s))

    def remove_command(self, directory: str) -> str:
        return f'rmdir /s /q "{directory}"'

    def free_space_command(self, directory: str) -> str:
        return encoded_powershell(powershell_free_space_script(directory))


SHELLS: dict[str, type[RemoteShell]] = {
    "posix": PosixShell,
    "powershell": PowerShellShell,
    "cmd": CmdShell,
}
