"""The command lines sent to the build host, checked character for character for each shell.

The cmd.exe and PowerShell lines cannot run here, so their exact text is the contract; the
posix lines also run for real in test_remote.py.
"""

from __future__ import annotations

import base64

import pytest

from halo_forge.verifiers.remote.commands import (
    CmdShell,
    PosixShell,
    PowerShellShell,
    cmd_quote,
    encoded_powershell,
    powershell_quote,
)

VCVARS = 'call "C:\\BuildTools\\VC\\Auxiliary\\Build\\vcvars64.bat" >nul'
DEV_SHELL = "& 'C:\\BuildTools\\Common7\\Tools\\Launch-VsDevShell.ps1' -Arch amd64"
SAMPLE = "C:\\Users\\build\\halo-forge-builds\\sample-1"
FLAGS = ["/nologo", "/EHsc", "/W4", "/DGREETING=hello world"]
RUN_SCRIPT = (
    "$p = Start-Process -FilePath 'C:\\Users\\build\\halo-forge-builds\\sample-1\\prog.exe' "
    "-WorkingDirectory 'C:\\Users\\build\\halo-forge-builds\\sample-1' -NoNewWindow -PassThru "
    "-RedirectStandardInput 'C:\\Users\\build\\halo-forge-builds\\sample-1\\stdin.txt' "
    "-RedirectStandardOutput 'C:\\Users\\build\\halo-forge-builds\\sample-1\\stdout.txt' "
    "-RedirectStandardError 'C:\\Users\\build\\halo-forge-builds\\sample-1\\stderr.txt'\n"
    "$null = $p.Handle\n"
    "$finished = $p.WaitForExit(2500)\n"
    "if (-not $finished) { Stop-Process -Id $p.Id -Force; $p.WaitForExit() }\n"
    "[Console]::Out.Write([IO.File]::ReadAllText("
    "'C:\\Users\\build\\halo-forge-builds\\sample-1\\stdout.txt'))\n"
    "[Console]::Error.Write([IO.File]::ReadAllText("
    "'C:\\Users\\build\\halo-forge-builds\\sample-1\\stderr.txt'))\n"
    "if (-not $finished) { exit 124 }\n"
    "exit $p.ExitCode"
)


def decoded(command: str) -> str:
    """The script inside a `powershell ... -EncodedCommand B64` line (which must be that form)."""
    prefix = "powershell -NoProfile -NonInteractive -EncodedCommand "
    assert command.startswith(prefix), command
    return base64.b64decode(command[len(prefix) :]).decode("utf-16-le")


def test_encoded_powershell_is_utf16_base64_of_the_script() -> None:
    assert encoded_powershell("exit 3") == (
        "powershell -NoProfile -NonInteractive -EncodedCommand ZQB4AGkAdAAgADMA"
    )


def test_cmd_setup_makes_the_directory_prints_it_and_probes_cl() -> None:
    assert CmdShell().setup_command("halo-forge-builds", VCVARS, "cl") == (
        '(if not exist "halo-forge-builds\\" mkdir "halo-forge-builds") & '
        'cd /d "halo-forge-builds" && (for %I in (.) do @echo HALO_FORGE_DIR=%~fI) && '
        'call "C:\\BuildTools\\VC\\Auxiliary\\Build\\vcvars64.bat" >nul && "cl"'
    )


def test_cmd_compile_loads_the_environment_then_enters_the_directory() -> None:
    command = CmdShell().compile_command(SAMPLE, VCVARS, "cl", FLAGS, "prog.cpp", "prog.exe")
    assert command == (
        'call "C:\\BuildTools\\VC\\Auxiliary\\Build\\vcvars64.bat" >nul && '
        'cd /d "C:\\Users\\build\\halo-forge-builds\\sample-1" && '
        '"cl" /nologo /EHsc /W4 "/DGREETING=hello world" prog.cpp /Feprog.exe'
    )


def test_cmd_compile_without_env_setup_starts_with_the_directory() -> None:
    command = CmdShell().compile_command(SAMPLE, None, "cl", ["/W4"], "prog.cpp", "prog.exe")
    assert command == (
        'cd /d "C:\\Users\\build\\halo-forge-builds\\sample-1" && "cl" /W4 prog.cpp /Feprog.exe'
    )


def test_cmd_runs_programs_through_the_powershell_run_script() -> None:
    command = CmdShell().run_command(SAMPLE, "prog.exe", "stdin.txt", 2.5)
    assert decoded(command) == RUN_SCRIPT


def test_cmd_remove_and_free_space() -> None:
    shell = CmdShell()
    assert shell.remove_command(SAMPLE) == (
        'rmdir /s /q "C:\\Users\\build\\halo-forge-builds\\sample-1"'
    )
    assert decoded(shell.free_space_command("D:\\builds")) == (
        "(Get-Item -LiteralPath 'D:\\builds').PSDrive.Free"
    )


def test_cmd_rejects_what_it_cannot_quote() -> None:
    with pytest.raises(ValueError, match="cannot quote"):
        CmdShell().check_path("C:\\builds\\%USERNAME%")
    with pytest.raises(ValueError, match="cannot quote"):
        cmd_quote('/DNAME="x"')
    assert cmd_quote("/W4") == "/W4"
    assert cmd_quote("a&b") == '"a&b"'


def test_powershell_setup_script() -> None:
    command = PowerShellShell().setup_command("halo-forge-builds", DEV_SHELL, "cl")
    assert decoded(command) == (
        "$dir = New-Item -ItemType Directory -Force -Path 'halo-forge-builds'\n"
        "'HALO_FORGE_DIR=' + $dir.FullName\n"
        "try { & 'C:\\BuildTools\\Common7\\Tools\\Launch-VsDevShell.ps1' -Arch amd64; & 'cl' } "
        "catch { [Console]::Error.WriteLine($_); exit 9009 }\n"
        "exit $LASTEXITCODE"
    )


def test_powershell_compile_script_quotes_every_argument() -> None:
    command = PowerShellShell().compile_command(
        SAMPLE, DEV_SHELL, "cl", FLAGS, "prog.cpp", "prog.exe"
    )
    assert decoded(command) == (
        "try { & 'C:\\BuildTools\\Common7\\Tools\\Launch-VsDevShell.ps1' -Arch amd64; "
        "Set-Location -LiteralPath 'C:\\Users\\build\\halo-forge-builds\\sample-1' "
        "-ErrorAction Stop; & 'cl' '/nologo' '/EHsc' '/W4' '/DGREETING=hello world' "
        "'prog.cpp' '/Feprog.exe' } catch { [Console]::Error.WriteLine($_); exit 9009 }\n"
        "exit $LASTEXITCODE"
    )


def test_powershell_run_and_remove() -> None:
    shell = PowerShellShell()
    assert decoded(shell.run_command(SAMPLE, "prog.exe", "stdin.txt", 2.5)) == RUN_SCRIPT
    assert decoded(shell.remove_command(SAMPLE)) == (
        "Remove-Item -LiteralPath 'C:\\Users\\build\\halo-forge-builds\\sample-1' -Recurse -Force"
    )


def test_powershell_quote_doubles_single_quotes() -> None:
    assert powershell_quote("C:\\it's here") == "'C:\\it''s here'"


def test_windows_paths_for_sftp_use_forward_slashes_and_a_leading_slash() -> None:
    assert CmdShell().sftp_path(SAMPLE) == "/C:/Users/build/halo-forge-builds/sample-1"
    assert PowerShellShell().sftp_path("builds\\sample-1") == "builds/sample-1"
    assert CmdShell().join("C:\\builds", "sample-1") == "C:\\builds\\sample-1"


def test_posix_commands_quote_every_path() -> None:
    shell = PosixShell()
    directory = "/srv/my builds/sample-1"
    assert shell.setup_command("/srv/my builds", "export PATH=/opt/cl:$PATH", "cl") == (
        "mkdir -p -- '/srv/my builds' && "
        "printf 'HALO_FORGE_DIR=%s\\n' \"$(cd -- '/srv/my builds' && pwd)\" && "
        "export PATH=/opt/cl:$PATH && cl"
    )
    assert shell.compile_command(directory, None, "cl", FLAGS, "prog.cpp", "prog.exe") == (
        "cd -- '/srv/my builds/sample-1' && "
        "cl /nologo /EHsc /W4 '/DGREETING=hello world' prog.cpp /Feprog.exe"
    )
    assert shell.run_command(directory, "prog.exe", "stdin.txt", 2.5) == (
        "cd -- '/srv/my builds/sample-1' && timeout -k 1 2.5 ./prog.exe < stdin.txt"
    )
    assert shell.remove_command(directory) == "rm -rf -- '/srv/my builds/sample-1'"
    assert shell.sftp_path(directory) == directory
