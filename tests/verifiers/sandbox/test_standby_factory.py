"""The run servers' standby factory, driven directly: what a standby executes, and with what.

The factory (`standby_factory.c`, built with this machine's C compiler) forks each standby as
a child of its own parent, here the test process, which then tells it what to run and reaps
it, as a run server does.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox import standby_factory
from halo_forge.verifiers.sandbox.limits import NOBODY_UID, SandboxLimits
from halo_forge.verifiers.sandbox.run_pool import RunServerPool
from halo_forge.verifiers.sandbox.standby import StandbyFactory, command_bytes, write_all
from halo_forge.verifiers.sandbox.standby_factory import build_standby_factory


@pytest.fixture
def factory() -> Iterator[StandbyFactory]:
    made = StandbyFactory(str(build_standby_factory()))
    yield made
    made.close()


def run_standby(
    factory: StandbyFactory,
    argv: list[str],
    environment: dict[str, str],
    cwd: str,
    *,
    as_nobody: bool = False,
) -> tuple[int, str]:
    """(exit status, stdout) of one standby told to run `argv`."""
    stdin = os.memfd_create("stdin")
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    go_read, go_write = os.pipe()
    pid = factory.make((stdin, out_write, err_write, go_read), as_nobody)
    for descriptor in (stdin, out_write, err_write, go_read):
        os.close(descriptor)
    write_all(go_write, command_bytes(argv, environment, cwd))
    os.close(go_write)
    output = b""
    while chunk := os.read(out_read, 65536):
        output += chunk
    for descriptor in (out_read, err_read):
        os.close(descriptor)
    _, status = os.waitpid(pid, 0)  # the standby is this process's child, not the factory's
    return os.waitstatus_to_exitcode(status), output.decode()


def test_a_standby_runs_exactly_its_argv_and_environment_in_its_directory(
    factory: StandbyFactory, tmp_path: Path
) -> None:
    arguments = ["", "two words", "it's", 'say "hi"', "new\nline", "$HOME", "*"]
    script = 'printf "%s|" "$@"; echo; pwd; env | sort'
    status, output = run_standby(
        factory,
        ["/bin/sh", "-c", script, "sh", *arguments],
        {"ONLY": "this", "EMPTY": ""},
        str(tmp_path),
    )
    assert status == 0
    expected = "|".join(arguments) + f"|\n{tmp_path}\n"
    assert output.startswith(expected)
    variables = output[len(expected) :].split("\n")[:-1]
    # Nothing of the test process's environment; sh adds only PWD (and SHLVL on some shells).
    assert {"ONLY=this", "EMPTY="} <= set(variables)
    assert not {name.split("=")[0] for name in variables} - {"ONLY", "EMPTY", "PWD", "SHLVL"}


def test_a_name_without_a_slash_is_searched_on_the_environment_s_path(
    factory: StandbyFactory, tmp_path: Path
) -> None:
    program = tmp_path / "bin" / "hello"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\necho found\n")
    program.chmod(0o755)
    path = f"/nonexistent:{program.parent}"
    assert run_standby(factory, ["hello"], {"PATH": path}, str(tmp_path)) == (0, "found\n")
    assert run_standby(factory, ["hello"], {}, str(tmp_path))[0] == 127  # sh's default PATH


def test_missing_and_unexecutable_programs_exit_as_they_do_under_sh(
    factory: StandbyFactory, tmp_path: Path
) -> None:
    unexecutable = tmp_path / "data"
    unexecutable.write_text("not a program\n")
    unexecutable.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert run_standby(factory, [str(tmp_path / "absent")], {}, str(tmp_path))[0] == 127
    assert (
        run_standby(factory, ["absent-program"], {"PATH": str(tmp_path)}, str(tmp_path))[0] == 127
    )
    # No execute bit at all: not even root may execute it.
    assert run_standby(factory, [str(unexecutable)], {}, str(tmp_path))[0] == 126


def test_a_standby_keeps_only_its_standard_streams(factory: StandbyFactory, tmp_path: Path) -> None:
    status, output = run_standby(factory, ["/bin/ls", "/proc/self/fd"], {}, str(tmp_path))
    assert status == 0
    assert sorted(output.split()) == ["0", "1", "2", "3"]  # 3: ls's own listing of the directory


def test_a_standby_asked_to_become_nobody_runs_as_nobody_or_not_at_all(
    factory: StandbyFactory,
) -> None:
    status, output = run_standby(factory, ["/usr/bin/id", "-u"], {}, "/", as_nobody=True)
    if os.geteuid() == 0:
        assert (status, output) == (0, f"{NOBODY_UID}\n")
    else:  # only root can become nobody: the standby runs nothing
        assert (status, output) == (127, "")


def test_a_command_with_nul_or_without_argv_is_refused_before_any_standby_runs() -> None:
    with pytest.raises(ValueError, match="NUL"):
        command_bytes(["prog", "a\0b"], {}, "/")
    with pytest.raises(ValueError):
        command_bytes([], {}, "/")


def test_a_factory_that_was_killed_or_stopped_is_replaced_or_woken(
    factory: StandbyFactory, tmp_path: Path
) -> None:
    first = factory.pid
    os.kill(first, 9)
    assert run_standby(factory, ["/bin/echo", "after kill"], {}, str(tmp_path)) == (
        0,
        "after kill\n",
    )
    assert factory.pid != first
    os.kill(factory.pid, 19)  # SIGSTOP
    assert run_standby(factory, ["/bin/echo", "after stop"], {}, str(tmp_path)) == (
        0,
        "after stop\n",
    )


def test_the_factory_is_built_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))
    binary = build_standby_factory()
    assert binary.is_relative_to(tmp_path) and os.access(binary, os.X_OK)
    built_at = binary.stat().st_mtime_ns
    assert build_standby_factory() == binary
    assert binary.stat().st_mtime_ns == built_at


def test_without_a_c_compiler_the_factory_cannot_be_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no compiler on it
    with pytest.raises(VerifierError, match="no C compiler"):
        standby_factory.build_standby_factory()


def test_without_a_c_compiler_each_run_starts_a_sandbox_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(standby_factory, "COMPILERS", ("halo-forge-no-such-compiler",))
    pool = RunServerPool(1, SandboxLimits(wall_timeout_s=5.0))
    try:
        with pool.session({}) as runner:
            assert runner is pool.per_run
            result = runner.run(["/bin/echo", "still runs"], workdir=tmp_path)
    finally:
        pool.close()
    assert (result.returncode, result.stdout) == (0, "still runs\n")
    assert "each run starts a sandbox instead" in caplog.text


def test_a_cache_directory_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(blocker))
    with pytest.raises(VerifierError, match="could not build the standby factory"):
        build_standby_factory()
