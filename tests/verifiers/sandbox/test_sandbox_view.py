"""What a sandboxed run sees of the file system, and how much it may write.

Under bubblewrap: a minimal root (the system, the program's own installation, what the caller
exposes), nothing of the home, the project or the caller's directory; a capped scratch whose
filling is reported. Without bubblewrap (the unshare tier), `halo-forge info` says plainly that
neither holds. Real programs, real sandbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError
from verifiers.sandbox.helpers import FAST, REPO_ROOT, require

from halo_forge.errors import VerifierError
from halo_forge.verifiers.cpp.options import CompileOptions
from halo_forge.verifiers.sandbox import Sandbox, isolation_report
from halo_forge.verifiers.sandbox.isolation import (
    FILESYSTEM_UNRESTRICTED,
    UNSHARE,
    IsolationReport,
)
from halo_forge.verifiers.sandbox.view import installation_of

TINY_DISK = replace(FAST, disk_limit_mb=4)


@pytest.fixture(scope="module")
def report() -> IsolationReport:
    found = isolation_report()
    require(found.restricts_files, "bubblewrap is not active here", found)
    return found


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A directory of the project (outside /tmp, whose private copy would hide it anyway)."""
    directory = REPO_ROOT / f".halo-forge-view-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    try:
        yield directory
    finally:
        subprocess.run(["rm", "-rf", str(directory)], check=True)


def test_a_run_sees_the_system_and_nothing_of_the_home_or_the_project(
    report: IsolationReport,
) -> None:
    places = [str(Path.home()), str(REPO_ROOT), os.getcwd(), "/etc/shadow", "/var", "/opt"]
    script = (
        "ls /; for place in "
        + " ".join(places)
        + '; do test -e "$place" && echo "$place"; done; true'
    )
    with Sandbox(FAST).workspace() as workspace:
        result = workspace.run(["sh", "-c", script])
    assert result.ok, result.stderr
    listed = result.stdout.split()
    assert {"usr", "bin", "lib", "etc", "tmp", "dev", "proc"} <= set(listed)
    assert not set(places) & set(listed), listed
    assert not {"root", "home", "work", "var", "opt", "srv", "mnt"} & set(listed)


def test_python_runs_with_its_interpreter_and_without_the_project(report: IsolationReport) -> None:
    program = "import os, sys, json; print(sys.prefix); print(os.path.exists(sys.argv[1]))"
    with Sandbox(FAST).workspace() as workspace:
        result = workspace.run([sys.executable, "-c", program, str(REPO_ROOT / "pyproject.toml")])
    assert result.ok, result.stderr
    assert result.stdout.split() == [sys.prefix, "False"]


def test_a_tool_in_the_home_does_not_expose_the_home(outside_tmp: Path) -> None:
    home_tool = Path.home() / "bin" / "tool"
    assert installation_of(str(home_tool)) == [home_tool]  # the file alone, not the home
    tool = outside_tmp / "bin" / "tool"
    assert installation_of(str(tool)) == [outside_tmp]  # the parent of its bin/


def test_readable_paths_are_shown_read_only_and_must_exist(
    report: IsolationReport, outside_tmp: Path
) -> None:
    (outside_tmp / "shown.txt").write_text("shown\n")
    sandbox = Sandbox(FAST, readable_paths=(outside_tmp,))
    with sandbox.workspace() as workspace:
        result = workspace.run(["sh", "-c", f"cat {outside_tmp}/shown.txt; touch {outside_tmp}/x"])
    assert result.stdout == "shown\n" and not result.ok
    assert not (outside_tmp / "x").exists()
    with pytest.raises(VerifierError, match="does not exist; create it"):
        Sandbox(FAST, readable_paths=(outside_tmp / "missing",))


def test_expose_paths_must_be_absolute_existing_and_not_the_root(outside_tmp: Path) -> None:
    assert CompileOptions(expose_paths=[outside_tmp]).expose_paths == [outside_tmp]
    for wrong, message in (
        ("relative/dir", "is not absolute"),
        (str(outside_tmp / "missing"), "does not exist"),
        ("/", "would expose every file"),
    ):
        with pytest.raises(ValidationError, match=message):
            CompileOptions(expose_paths=[wrong])


def test_runs_that_do_not_keep_writes_leave_the_host_workspace_as_it_was(
    report: IsolationReport,
) -> None:
    sandbox = Sandbox(FAST, keep_writes=False)
    with sandbox.workspace() as workspace:
        workspace.write("input.txt", "given\n")
        os.symlink("/etc/hostname-of-the-host", workspace.path / "link")
        script = "cat input.txt; echo new > new.txt; cat new.txt; echo x >> input.txt; ls"
        result = workspace.run(["sh", "-c", script])
        left = sorted(path.name for path in workspace.path.iterdir())
        assert (workspace.path / "input.txt").read_text() == "given\n"
    assert result.stdout.split() == ["given", "new", "input.txt", "link", "new.txt"]
    assert "Read-only file system" in result.stderr
    assert left == ["input.txt", "link"]
    assert result.disk_limit_reached_mb is None


@pytest.mark.parametrize("place", [".", "/tmp", "/dev/shm"])
def test_a_run_that_fills_its_scratch_is_reported_and_not_ok(
    report: IsolationReport, place: str
) -> None:
    fill = (
        f"i=0; while dd if=/dev/zero of={place}/f$i bs=1M count=1 2>/dev/null; do i=$((i+1)); done"
    )
    with Sandbox(TINY_DISK, keep_writes=False).workspace() as workspace:
        result = workspace.run(["sh", "-c", fill + "; echo done"])
        honest = workspace.run(["sh", "-c", "echo fine > f; cat f"])
    assert result.returncode == 0 and result.stdout == "done\n"
    assert result.disk_limit_reached_mb == 4 and not result.ok
    assert honest.ok and honest.stdout == "fine\n" and honest.disk_limit_reached_mb is None


def test_a_kept_workdir_is_written_on_the_host_and_tmp_is_still_capped(
    report: IsolationReport,
) -> None:
    fill = "dd if=/dev/zero of=/tmp/big bs=1M count=8 2>&1; echo out > kept.txt"
    with Sandbox(TINY_DISK).workspace() as workspace:
        result = workspace.run(["sh", "-c", fill])
        assert (workspace.path / "kept.txt").read_text() == "out\n"
    assert "No space left on device" in result.stdout


def test_without_bubblewrap_info_says_the_files_are_not_protected() -> None:
    report = replace(isolation_report(), network=UNSHARE, filesystem=FILESYSTEM_UNRESTRICTED)
    rows = {name: (how, active) for name, how, active in report.as_rows()}
    assert rows["filesystem view"] == (FILESYSTEM_UNRESTRICTED, False)
    assert rows["disk limit"][1] is False and "fill the disk" in rows["disk limit"][0]


def test_info_lists_the_filesystem_view_and_the_disk_limit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "halo_forge.cli.main", "info"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "COLUMNS": "400"},  # one line per row
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "filesystem view" in text and "disk limit" in text
    if isolation_report().restricts_files:
        assert "nothing of $HOME" in text and "256 MiB" in text
