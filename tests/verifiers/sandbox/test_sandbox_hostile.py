"""The sandbox against hostile programs: each is contained, and the next run still works.

Programs are real: C compiled with gcc inside the sandbox, Python scripts, shell commands, and a
TCP server on 127.0.0.1 in the test process. Hostile tests run under the strongest isolation of
this machine and under the fallback used where no cgroup is writable.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from verifiers.sandbox.helpers import (
    FAST,
    SANDBOX_VARIANTS,
    assert_still_works,
    build,
    processes_with,
    python_for,
    require,
    sandbox_variant,
)

from halo_forge.verifiers.sandbox import (
    Sandbox,
    SandboxLimits,
    isolation_report,
)

sandbox_fixture = pytest.fixture(scope="module", params=SANDBOX_VARIANTS, name="sandbox")(
    sandbox_variant
)

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
    require(sandbox.isolation.restricts_files, "no filesystem isolation", sandbox.isolation)
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
