"""Long-lived sandboxed servers: each child of a fork server is confined and released, and
killing a server ends everything it started (under both sandbox variants).
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from verifiers.sandbox.helpers import (
    REPO_ROOT,
    SANDBOX_VARIANTS,
    assert_still_works,
    processes_with,
    python_for,
    sandbox_variant,
)

from halo_forge.verifiers.sandbox import (
    Sandbox,
    SandboxLimits,
)

sandbox_fixture = pytest.fixture(scope="module", params=SANDBOX_VARIANTS, name="sandbox")(
    sandbox_variant
)

# ---------------------------------------------------------------------- long-lived servers

FORK_SERVER = r"""
import os, sys, time
from pathlib import Path
from halo_forge.verifiers.sandbox import ChildConfinement, SandboxLimits


def escape_to_the_servers_group():
    # A grandchild that moves itself out of the children's group, into the server's own.
    line = next(l for l in Path("/proc/self/cgroup").read_text().splitlines() if ":pids:" in l)
    group = Path("/sys/fs/cgroup/pids" + line.split(":", 2)[2])
    (group.parent / "cgroup.procs").write_text(str(os.getpid()))


confinement = ChildConfinement(SandboxLimits(max_processes=12))
for line in sys.stdin:
    workdir = Path(line.strip())
    workdir.mkdir()
    os.chdir(workdir)
    read_end, write_end = os.pipe()
    go_read, go_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.read(go_read, 1)
        confinement.enter(keep_fds=(write_end,))
        started = 0
        for number in range(50):
            try:
                if os.fork() == 0:
                    os.setsid()
                    if number == 0 and confinement.process_limit == "pids-cgroup-v1":
                        escape_to_the_servers_group()
                    os.execvp("sleep", ["sleep", sys.argv[1]])
                started += 1
            except OSError:
                break
        os.write(write_end, f"{confinement.process_limit} {started} {os.getcwd()}".encode())
        time.sleep(60)
        os._exit(0)
    os.close(write_end)
    confinement.admit(pid)
    os.write(go_write, b"g")
    report = os.read(read_end, 1000).decode()
    confinement.release(pid)
    os.waitpid(pid, 0)
    print(report, pid, flush=True)
"""


def test_spawned_server_confines_each_child_and_releases_it(sandbox: Sandbox) -> None:
    marker = f"6{time.time_ns() % 10**6}.5"
    # The server imports the package, which the sandbox shows only when asked to.
    package = REPO_ROOT / "halo_forge"
    sandbox = Sandbox(sandbox.limits, readable_paths=(package,), isolation=sandbox.isolation)
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
        # The group took the setsid grandchildren with it, and the one that left for the
        # server's own group too.
        assert after_release == []
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
