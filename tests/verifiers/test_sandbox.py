"""The sandbox against hostile programs: each is contained, and the next run still works.

Programs are real: C compiled with gcc inside the sandbox, Python scripts, shell commands, and a
TCP server on 127.0.0.1 in the test process. Hostile tests run under the strongest isolation of
this machine and under the fallback used where no cgroup is writable.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox import (
    IsolationReport,
    Sandbox,
    SandboxLimits,
    Workspace,
    isolation_report,
    probe_isolation,
    run_sandboxed,
)
from halo_forge.verifiers.sandbox_cgroups import PARENT_PREFIX, find_hierarchies
from halo_forge.verifiers.sandbox_process import tools_under_tmp

REPO_ROOT = Path(__file__).resolve().parents[2]
FAST = SandboxLimits(wall_timeout_s=5.0)


@pytest.fixture(scope="module", params=["strongest", "without-cgroups"])
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """The sandbox as used here, and as used where no cgroup is writable."""
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


# ---------------------------------------------------------------------- hostile programs


def test_fork_bomb_is_contained(sandbox: Sandbox) -> None:
    require(
        sandbox.isolation.process_limit != "none",
        "no process limit: fork bomb not run",
        sandbox.isolation,
    )
    limits = SandboxLimits(wall_timeout_s=1.0, max_processes=32)
    with sandbox.workspace() as workspace:
        program = build(workspace, "#include <unistd.h>\nint main(void){for(;;) fork();}")
        started = time.monotonic()
        result = workspace.run([program], limits=limits)
        leftovers = processes_with(str(workspace.path))
    assert result.timed_out and result.returncode is None
    assert time.monotonic() - started < 10
    assert leftovers == []
    assert_still_works(sandbox)


def test_process_limit_caps_how_many_processes_a_run_gets(sandbox: Sandbox) -> None:
    require(sandbox.isolation.process_limit != "none", "no process limit", sandbox.isolation)
    forker = r"""
#include <stdio.h>
#include <unistd.h>
int main(void) {
  int started = 0;
  for (int i = 0; i < 200; i++) { pid_t pid = fork(); if (pid == 0) { sleep(30); _exit(0); }
                                  if (pid > 0) started++; }
  printf("%d\n", started); return 0; }
"""
    with sandbox.workspace() as workspace:
        program = build(workspace, forker)
        result = workspace.run([program], limits=SandboxLimits(max_processes=20))
        leftovers = processes_with(str(workspace.path))
    assert result.ok
    assert 0 < int(result.stdout) < 20
    assert leftovers == []  # the sleeping children did not outlive the run
    assert_still_works(sandbox)


def test_infinite_loop_is_stopped_by_the_wall_timeout(sandbox: Sandbox) -> None:
    with sandbox.workspace() as workspace:
        started = time.monotonic()
        result = workspace.run(["sleep", "60"], limits=SandboxLimits(wall_timeout_s=0.5))
    assert result.timed_out and result.returncode is None and result.signal == signal.SIGKILL
    assert 0.5 <= result.wall_time_s < 5 and time.monotonic() - started < 5
    assert_still_works(sandbox)


def test_busy_loop_is_stopped_by_the_cpu_limit() -> None:
    sandbox = Sandbox(FAST)
    with sandbox.workspace() as workspace:
        program = build(workspace, "int main(void){ volatile unsigned long n = 0; for(;;) n++; }")
        result = workspace.run([program], limits=SandboxLimits(wall_timeout_s=20, cpu_timeout_s=1))
    assert result.timed_out and result.signal == signal.SIGXCPU
    assert result.wall_time_s < 10  # the CPU limit, not the 20 s wall timeout, stopped it
    assert_still_works(sandbox)


def test_memory_hog_fails_to_get_4_gb(sandbox: Sandbox) -> None:
    hog = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  size_t size = (size_t)4 << 30;
  char *block = malloc(size);
  if (block == NULL) { puts("malloc failed"); return 1; }
  memset(block, 1, size);
  puts("touched 4 GB"); return 0; }
"""
    with sandbox.workspace() as workspace:
        program = build(workspace, hog)
        result = workspace.run([program], limits=SandboxLimits(wall_timeout_s=20))
    assert not result.ok and "touched" not in result.stdout
    assert result.stdout == "malloc failed\n"
    assert_still_works(sandbox)


def test_memory_cgroup_caps_the_total_of_a_runs_processes() -> None:
    report = isolation_report()
    require(report.memory_limit.startswith("memory-cgroup"), "no memory cgroup here", report)
    hogs = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 4; i++) if (fork() == 0) {
      size_t size = (size_t)200 << 20; char *block = malloc(size);
      if (block == NULL) _exit(2);
      memset(block, 1, size); usleep(500000); _exit(0); }
  int completed = 0, status;
  while (wait(&status) > 0) if (WIFEXITED(status) && WEXITSTATUS(status) == 0) completed++;
  printf("%d\n", completed); return 0; }
"""
    sandbox = Sandbox(SandboxLimits(wall_timeout_s=20))
    with sandbox.workspace() as workspace:
        program = build(workspace, hogs)
        # 4 x 200 MB fits each process's 512 MB address space, not the run's 512 MB total.
        result = workspace.run([program], limits=SandboxLimits(memory_limit_mb=512))
    assert result.ok and int(result.stdout) < 4
    assert_still_works(sandbox)


def test_output_flood_is_capped_flagged_and_stopped(sandbox: Sandbox) -> None:
    limits = SandboxLimits(wall_timeout_s=30, max_output_bytes=10_000)
    with sandbox.workspace() as workspace:
        result = workspace.run(["yes", "flood"], limits=limits)
    assert result.output_truncated and len(result.stdout) == 10_000
    assert result.stdout.startswith("flood\nflood\n")
    assert result.returncode is None and not result.timed_out and result.wall_time_s < 10
    assert_still_works(sandbox)


@pytest.fixture
def tcp_server() -> tuple[int, list[socket.socket]]:
    """A TCP server on 127.0.0.1 in the test process; records every connection it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()
    for connection in accepted:
        connection.close()


CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2)\n"
    "    print('connected')\n"
    "except OSError as error:\n"
    "    print('refused', error)\n"
)


def test_connection_to_a_server_on_the_host_fails(
    sandbox: Sandbox, tcp_server: tuple[int, list[socket.socket]]
) -> None:
    require(sandbox.isolation.network != "none", "no network isolation", sandbox.isolation)
    port, accepted = tcp_server
    with sandbox.workspace() as workspace:
        workspace.write("connect.py", CONNECT)
        result = workspace.run([python_for(sandbox), "connect.py", str(port)])
    assert result.ok and result.stdout.startswith("refused"), result
    assert accepted == []
    assert_still_works(sandbox)


def test_network_is_reachable_when_allowed(tcp_server: tuple[int, list[socket.socket]]) -> None:
    port, accepted = tcp_server
    with Sandbox(SandboxLimits(allow_network=True)).workspace() as workspace:
        workspace.write("connect.py", CONNECT)
        result = workspace.run([sys.executable, "connect.py", str(port)])
    assert result.stdout == "connected\n"
    deadline = time.monotonic() + 5
    while not accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(accepted) == 1


def test_writes_outside_the_workdir_do_not_reach_the_host(sandbox: Sandbox, tmp_path: Path) -> None:
    require(sandbox.isolation.filesystem != "none", "no filesystem isolation", sandbox.isolation)
    name = f"halo-forge-escape-{uuid.uuid4().hex}"
    targets = [Path.home() / name, tmp_path / name, Path("/var/tmp") / name]
    script = "\n".join(
        f"echo owned > {target} && echo wrote {target} || echo denied {target}"
        for target in targets
    )
    with sandbox.workspace() as workspace:
        result = workspace.run(["sh", "-c", script + "\necho inside > ok.txt"])
        inside = (workspace.path / "ok.txt").read_text()
    assert inside == "inside\n"  # the workdir itself is writable
    assert [target for target in targets if target.exists()] == []
    assert f"denied {targets[0]}" in result.stdout  # read-only outside the sandbox's /tmp
    assert_still_works(sandbox)


def test_child_that_calls_setsid_is_gone_after_the_run(sandbox: Sandbox) -> None:
    marker = f"{time.time_ns() % 10**6}.{os.getpid()}"
    escape = (
        "import subprocess, sys, time\n"
        "subprocess.Popen(['sleep', sys.argv[1]], start_new_session=True)\n"
        "time.sleep(0.3)\n"
        "print('started')\n"
    )
    with sandbox.workspace() as workspace:
        workspace.write("escape.py", escape)
        result = workspace.run([python_for(sandbox), "escape.py", marker])
    assert result.ok and result.stdout == "started\n"
    assert processes_with(f"sleep\0{marker}") == []
    assert_still_works(sandbox)


def test_large_file_write_is_stopped_at_the_file_size_limit(sandbox: Sandbox) -> None:
    with sandbox.workspace() as workspace:
        result = workspace.run(
            ["dd", "if=/dev/zero", "of=big.bin", "bs=1M", "count=8"],
            limits=SandboxLimits(max_file_size_mb=1),
        )
        size = (workspace.path / "big.bin").stat().st_size
    assert result.signal == signal.SIGXFSZ and not result.ok
    assert size == 1024 * 1024
    assert_still_works(sandbox)


# ---------------------------------------------------------------------- long-lived servers

FORK_SERVER = r"""
import os, sys, time
from pathlib import Path
from halo_forge.verifiers.sandbox import SandboxLimits, confine_current_process, release_confined

limits = SandboxLimits(max_processes=12)
for line in sys.stdin:
    workdir = Path(line.strip())
    workdir.mkdir()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        process_limit = confine_current_process(limits, workdir, keep_fds=(write_end,))
        started = 0
        for _ in range(50):
            try:
                if os.fork() == 0:
                    os.setsid()
                    os.execvp("sleep", ["sleep", sys.argv[1]])
                started += 1
            except OSError:
                break
        os.write(write_end, f"{process_limit} {started} {os.getcwd()}".encode())
        time.sleep(60)
        os._exit(0)
    os.close(write_end)
    report = os.read(read_end, 1000).decode()
    release_confined(pid)
    os.waitpid(pid, 0)
    print(report, pid, flush=True)
"""


def test_spawned_server_confines_each_child_and_releases_it(sandbox: Sandbox) -> None:
    marker = f"6{time.time_ns() % 10**6}.5"
    with sandbox.workspace() as workspace:
        workspace.write("server.py", FORK_SERVER)
        server = sandbox.spawn(
            [python_for(sandbox), "server.py", marker],
            workdir=workspace.path,
            env={"PYTHONPATH": str(REPO_ROOT)},
            limits=SandboxLimits(wall_timeout_s=60, max_processes=64),
            stderr=subprocess.PIPE,
        )
        try:
            reports = []
            for number in range(2):
                server.stdin.write(f"{workspace.path / f'sample{number}'}\n".encode())
                server.stdin.flush()
                line = server.stdout.readline().decode()
                assert line, server.stderr.read().decode() if server.poll() is not None else ""
                reports.append(line.split())
            after_release = processes_with(f"sleep\0{marker}")
        finally:
            sandbox.kill(server)
        after_kill = processes_with(f"sleep\0{marker}")
    expected_limit = sandbox.isolation.process_limit
    if not expected_limit.startswith("pids-cgroup"):
        expected_limit = "rlimit-nproc"  # the server already runs as nobody
    for number, (process_limit, started, workdir, _) in enumerate(reports):
        assert process_limit == expected_limit
        # Its own budget of 12, not the 50 it tried nor the server's 64. RLIMIT_NPROC counts
        # per user, so other processes of that user running at the same time shift it a little.
        assert 0 < int(started) <= 24
        assert workdir == str(workspace.path / f"sample{number}")
    if expected_limit.startswith("pids-cgroup"):
        assert after_release == []  # each child's group took its setsid grandchildren with it
    assert after_kill == []  # without cgroups, the end of the server's sandbox does
    assert server.returncode is not None
    assert_still_works(sandbox)


def test_kill_ends_a_spawned_server_and_everything_it_started(sandbox: Sandbox) -> None:
    marker = f"7{time.time_ns() % 10**6}.25"
    program = (
        "import subprocess, sys\n"
        "subprocess.Popen(['sleep', sys.argv[1]], start_new_session=True)\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    with sandbox.workspace() as workspace:
        workspace.write("server.py", program)
        server = sandbox.spawn([python_for(sandbox), "server.py", marker], workdir=workspace.path)
        try:
            assert server.stdout.readline() == b"ready\n"
            deadline = time.monotonic() + 5  # the child's command line appears once exec is done
            while not processes_with(f"sleep\0{marker}") and time.monotonic() < deadline:
                time.sleep(0.01)
            assert processes_with(f"sleep\0{marker}") != []
        finally:
            sandbox.kill(server)
    assert processes_with(f"sleep\0{marker}") == []
    assert server.returncode == -signal.SIGKILL


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
        "filesystem",
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
            "from halo_forge.verifiers.sandbox_cgroups import find_hierarchies, parent_directory\n"
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
    assert tool.parent.resolve() in tools_under_tmp(str(tool))
    result = run_sandboxed([str(tool)])
    assert result.ok, result.stderr
    assert result.stdout == f"hello from {tool}\n"
