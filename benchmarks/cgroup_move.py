"""What a move into a cgroup costs, by how long it comes after the last move.

A write of a pid to `cgroup.procs` takes the kernel's cgroup threadgroup lock for writing,
which waits for an RCU grace period unless another move happened within about one. The run
servers (`halo_forge/verifiers/sandbox/standby.py`) move their children in bursts beside long
runs because of this. Per gap, `--moves` times: start `sleep`, wait the gap, time the move of
its pid into a fresh pids group, kill it. Needs root and a writable pids hierarchy (cgroup v1
at /sys/fs/cgroup/pids, or v2 at /sys/fs/cgroup).

    .venv/bin/python benchmarks/cgroup_move.py --moves 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

GAPS_MS = (0, 2, 5, 10, 20, 50, 100)


def pids_root() -> Path:
    for root in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
            return root
    raise SystemExit("needs a writable pids cgroup hierarchy (run as root)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=15, help="moves per gap")
    args = parser.parse_args()
    group = pids_root() / f"halo-forge-move-{os.getpid()}"
    group.mkdir()
    try:
        procs = os.open(group / "cgroup.procs", os.O_WRONLY)
        print("| gap since the last move (ms) | median move (ms) | max (ms) |\n|---|---|---|")
        for gap_ms in GAPS_MS:
            times = []
            for _ in range(args.moves):
                sleeper = subprocess.Popen(["sleep", "5"])
                time.sleep(gap_ms / 1000)
                started = time.perf_counter()
                os.write(procs, b"%d" % sleeper.pid)
                times.append((time.perf_counter() - started) * 1000)
                sleeper.kill()
                sleeper.wait()
            print(f"| {gap_ms} | {statistics.median(times):.3f} | {max(times):.3f} |")
        os.close(procs)
    finally:
        for _ in range(100):
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
