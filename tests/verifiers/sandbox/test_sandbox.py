"""The sandbox's API and upkeep: ordinary runs, the isolation report, cgroup cleanup.

Programs are real (shell commands, g++, a script under /tmp). Hostile programs are in
test_sandbox_hostile.py, long-lived servers in test_sandbox_servers.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from verifiers.sandbox.helpers import (
    FAST,
    REPO_ROOT,
    build,
    require,
)

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox import (
    IsolationReport,
    Sandbox,
    isolation_report,
    probe_isolation,
    run_sandboxed,
)
from halo_forge.verifiers.sandbox.cgroupfs import find_hierarchies
from halo_forge.verifiers.sandbox.cgroups import PARENT_PREFIX
from halo_forge.verifiers.sandbox.view import installation_of

# ---------------------------------------------------------------------- ordinary runs


def test_program_output_status_and_stdin_are_returned() -> None:
    result = run_sandboxed(
        ["sh", "-c", "read line; echo got:$line; echo oops >&2; exit 3"], stdin="hello\n"
    )
    assert (result.returncode, result.stdout, result.stderr) == (3, "got:hello\n", "oops\n")
    assert not result.ok and not result.timed_out and result.signal is None


def test_stdin_is_dev_null_when_not_given() -> None:
    result = run_sandboxed(["readlink", "/proc/self/fd/0"])
    assert result.ok and result.stdout == "/dev/null\n"


def test_large_stdin_does_not_deadlock_a_program_that_never_reads_it() -> None:
    result = run_sandboxed(["sh", "-c", "echo ignored"], stdin=b"x" * 5_000_000)
    assert result.ok and result.stdout == "ignored\n"


def test_files_are_written_into_a_workspace_removed_afterwards() -> None:
    with Sandbox(FAST).workspace() as workspace:
        workspace.write("data/in.txt", "payload")
        result = workspace.run(["cat", "data/in.txt"])
        path = workspace.path
        assert path.is_dir()
        with pytest.raises(VerifierError, match="outside the workspace"):
            workspace.write("../escape.txt", "x")
    assert result.stdout == "payload" and not path.exists()


def test_secrets_in_the_callers_environment_are_not_visible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    with Sandbox(FAST).workspace() as workspace:
        result = workspace.run(["env"], env={"LC_ALL": "C"})
        home = str(workspace.path)
    variables = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert variables.pop("PWD", home) == home  # bubblewrap sets it when it changes directory
    assert variables == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C",
    }


def test_program_the_sandbox_user_cannot_reach_raises_a_verifier_error() -> None:
    as_nobody = Sandbox(FAST, isolation=probe_isolation(use_cgroups=False))
    require(
        as_nobody.isolation.process_limit == "rlimit-nproc(nobody)",
        "not run as root",
        as_nobody.isolation,
    )
    with as_nobody.workspace() as workspace:
        private = workspace.path / "private"
        private.mkdir(mode=0o700)  # owned by root, like /root
        tool = private / "tool"
        tool.write_text("#!/bin/sh\necho ran\n")
        tool.chmod(0o755)
        with pytest.raises(VerifierError, match=f"chmod o\\+x {private}"):
            workspace.run([str(tool)])
        private.chmod(0o711)
        assert workspace.run([str(tool)]).stdout == "ran\n"


@pytest.mark.parametrize("program", ["no-such-program-xyz", "./not-built-yet"])
def test_missing_program_raises_a_verifier_error(program: str) -> None:
    with pytest.raises(VerifierError, match="not found"):
        run_sandboxed([program])


def test_gpp_compiles_and_runs_a_bits_stdcpp_program_with_default_limits() -> None:
    source = (
        "#include <bits/stdc++.h>\n"
        "int main() { std::vector<int> v{3, 1, 2}; std::sort(v.begin(), v.end());\n"
        "  std::cout << v[0] << v[1] << v[2] << '\\n'; }\n"
    )
    with Sandbox().workspace() as workspace:
        workspace.write("prog.cpp", source)
        compiled = workspace.run(["g++", "-std=c++17", "-O2", "prog.cpp", "-o", "prog"])
        assert compiled.ok, compiled.stderr
        ran = workspace.run(["./prog"])
    assert ran.ok and ran.stdout == "123\n"


def test_a_crash_reports_its_signal() -> None:
    with Sandbox(FAST).workspace() as workspace:
        program = build(workspace, "int main(void) { volatile int *p = 0; return *p; }")
        result = workspace.run([program])
    assert result.signal == signal.SIGSEGV and result.returncode == -signal.SIGSEGV
    assert not result.timed_out and not result.ok


def test_runs_from_many_threads_at_once_keep_their_own_output() -> None:
    sandbox = Sandbox(FAST)

    def run(number: int) -> tuple[int, str]:
        with sandbox.workspace() as workspace:
            workspace.write("n.txt", str(number))
            result = workspace.run(["sh", "-c", 'cat n.txt; echo " $1"', "sh", str(number * 7)])
        return number, result.stdout

    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = list(pool.map(run, range(32)))
    assert outputs == [(number, f"{number} {number * 7}\n") for number in range(32)]


# ---------------------------------------------------------------------- the report


def test_isolation_report_rows_cover_every_protection() -> None:
    report = isolation_report()
    rows = report.as_rows()
    assert [row[0] for row in rows] == [
        "process group",
        "resource limits",
        "process limit",
        "memory limit",
        "network",
        "filesystem view",
        "disk limit",
        "user",
        "environment",
    ]
    assert all(isinstance(active, bool) for _, _, active in rows)
    assert report is isolation_report()  # probed once per process


def test_missing_protections_are_warnings_that_name_the_fix() -> None:
    report = probe_isolation(use_cgroups=False)
    assert isinstance(report, IsolationReport)
    assert report.process_limit in ("rlimit-nproc(nobody)", "rlimit-nproc")
    assert any("pids cgroup" in warning for warning in report.warnings)
    assert any("memory cgroup" in warning for warning in report.warnings)


def test_groups_left_by_a_crashed_process_are_swept_with_their_processes() -> None:
    hierarchies = [h for h in find_hierarchies() if "pids" in h.controllers]
    report = isolation_report()
    require(
        bool(hierarchies) and report.process_limit.startswith("pids-cgroup"),
        "no pids cgroup",
        report,
    )
    exited = subprocess.Popen(["true"])
    exited.wait()  # its pid now names the groups of a process that is gone
    stale_run = hierarchies[0].own_directory / f"{PARENT_PREFIX}{exited.pid}" / "run-1"
    stale_run.mkdir(parents=True)
    leftover = subprocess.Popen(["sleep", "300"])
    try:
        (stale_run / "cgroup.procs").write_text(str(leftover.pid))
        sweep = (
            "from halo_forge.verifiers.sandbox.cgroupfs import find_hierarchies\n"
            "from halo_forge.verifiers.sandbox.cgroups import parent_directory\n"
            "for hierarchy in find_hierarchies():\n"
            "    parent_directory(hierarchy)\n"
        )
        subprocess.run([sys.executable, "-c", sweep], cwd=REPO_ROOT, check=True)
        assert leftover.wait(timeout=5) == -signal.SIGKILL
        assert not stale_run.parent.exists()
    finally:
        leftover.kill()
        leftover.wait()


def test_runs_leave_no_cgroups_behind() -> None:
    sandbox = Sandbox(FAST)
    with sandbox.workspace() as workspace:
        for _ in range(3):
            workspace.run(["true"])
    own_groups = [
        hierarchy.own_directory / f"{PARENT_PREFIX}{os.getpid()}"
        for hierarchy in find_hierarchies()
    ]
    leftovers = [
        child
        for group in own_groups
        if group.is_dir()
        for child in group.iterdir()
        if child.is_dir()
    ]
    assert leftovers == []


def test_a_program_installed_under_tmp_stays_reachable(tmp_path: Path) -> None:
    # bubblewrap gives each run an empty /tmp; a checkout or venv under /tmp must survive it.
    assert tmp_path.resolve().is_relative_to("/tmp")
    tool = tmp_path / "bin" / "greet"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho hello from $0\n")
    tool.chmod(0o755)
    assert installation_of(str(tool)) == [tmp_path.resolve()]  # the parent of its bin/
    result = run_sandboxed([str(tool)])
    assert result.ok, result.stderr
    assert result.stdout == f"hello from {tool}\n"
