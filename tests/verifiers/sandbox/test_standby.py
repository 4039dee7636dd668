"""A run server's loop without its sandbox: the standbys of this machine's kind.

Under its sandbox a run server has a writable cgroup, and its standbys, forked by its standby
factory, join it (`test_run_server` covers them). As root without a writable cgroup (a process
outside the sandbox, on the machines this project tests on), its standbys drop to nobody once
the server has set their rlimits. Either way a run gets its
output, exit status, an empty directory of its own, its standard streams only, and nothing of
what another program did to the waiting children. The loop runs in a process of its own: a
server changes its process's working directory, environment and descriptors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from verifiers.sandbox.helpers import REPO_ROOT
from verifiers.sandbox.test_run_server import PROGRAM

from halo_forge.verifiers.sandbox.limits import NOBODY_UID
from halo_forge.verifiers.sandbox.standby import STANDBYS

SERVER_LOOP = """
import json, sys
from dataclasses import asdict
from halo_forge.verifiers.sandbox import SandboxLimits
from halo_forge.verifiers.sandbox.run_server import RunServer
from halo_forge.verifiers.sandbox.standby_factory import build_standby_factory

scratch, program, *inputs = sys.argv[1:]
limits = asdict(SandboxLimits(wall_timeout_s=5.0, memory_limit_mb=256, max_processes=8))
server = RunServer(scratch, [scratch], [], str(build_standby_factory()))
server.files = [("prog", open(program, "rb").read())]
runs = []
for stdin in inputs:
    header, stdout, _ = server.run({"limits": limits, "argv": ["./prog"]}, stdin.encode())
    runs.append([header["status"], stdout.decode(), len(server.standbys.waiting)])
print(json.dumps({"process_limit": server.standbys.confinement.process_limit, "runs": runs}))
server.standbys.close()
"""


def test_runs_from_the_standbys_of_this_machine_s_kind(tmp_path: Path) -> None:
    subprocess.run(
        ["gcc", "-O0", "-x", "c", "-", "-o", tmp_path / "prog"],
        input=PROGRAM,
        text=True,
        check=True,
    )
    # Nobody must reach its directory: under /tmp (pytest's directories are private).
    scratch = tempfile.mkdtemp(prefix="standby-test-", dir="/tmp")
    os.chmod(scratch, 0o711)
    tampering = [f"reach {how}\n" for how in ("stop", "kill", "limit")]
    inputs = ["echo 41\n", "uid\n", "fds\n", "state\n", "pause\n", *tampering, "state\n", "look\n"]
    try:
        completed = subprocess.run(
            [sys.executable, "-c", SERVER_LOOP, scratch, str(tmp_path / "prog"), *inputs],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(scratch)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    runs = report["runs"]
    outputs = [stdout for _, stdout, _ in runs]
    assert all(status == 0 for status, _, _ in runs), runs
    nobody = report["process_limit"] == "rlimit-nproc(nobody)"
    assert outputs[:3] == ["42\n", f"{NOBODY_UID if nobody else os.getuid()}\n", ""]
    assert runs[4][2] == STANDBYS  # a long run: the server made its standbys beside it
    assert outputs[-2] == outputs[3]  # the tampering left the next run nothing
    home, tmpdir, found, runnable = outputs[-1].split()
    assert (home, tmpdir, found, runnable) == (f"{scratch}/run", home, "0", "1")
