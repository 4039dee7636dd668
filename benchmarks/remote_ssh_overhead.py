"""Per-command cost of SSH for the msvc verifier: a multiplexed channel vs a fresh connection.

Usage: python benchmarks/remote_ssh_overhead.py [--commands 30] [--repeats 3]

Starts the test build host (a real sshd on 127.0.0.1, from tests/verifiers/ssh_server.py) and
runs `true` there and uploads a small file, `--commands` times each, two ways: over the
verifier's ControlMaster connection (`SSHConnection.run` and `.transfer`), and with a fresh
`ssh` or `sftp` per command (TCP connection, key exchange and public-key login each time: the
baseline a verifier without connection reuse would pay). Prints the median over repeats of the
mean time per command, and baseline / multiplexed. A command also pays the account's shell
start-up (its ~/.bashrc) on both sides; an SFTP upload starts no shell.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from verifiers.ssh_server import start_build_host, stop_build_host

from halo_forge.verifiers.remote.ssh import SSHConnection, SSHTarget, sftp_quote


def seconds_per_command(run: Callable[[], object], commands: int) -> float:
    started = time.perf_counter()
    for _ in range(commands):
        run()
    return (time.perf_counter() - started) / commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="halo-forge-bench-") as scratch:
        root = Path(scratch)
        host = start_build_host(root / "host")
        try:
            target = SSHTarget(
                host="127.0.0.1",
                port=host.port,
                user=host.user,
                ssh_key=host.client_key,
                known_hosts_file=host.known_hosts,
            )
            connection = SSHConnection(target, root / "control")
            connection.open()
            local = root / "prog.cpp"
            local.write_text("int main() { return 0; }\n")
            upload = [f"put {sftp_quote(str(local))} {sftp_quote(str(root / 'uploaded.cpp'))}"]
            fresh_ssh = ["ssh", *target.options(), "-T", "--", target.host, "true"]
            fresh_sftp = ["sftp", *target.options(), "-q", "-b", "-", "--", target.host]
            batch = "".join(f"{line}\n" for line in upload).encode()
            ways: dict[str, Callable[[], object]] = {
                "command, fresh ssh connection (baseline)": lambda: subprocess.run(
                    fresh_ssh, check=True, capture_output=True
                ),
                "command, ControlMaster channel": lambda: connection.run("true", 30),
                "upload, fresh sftp connection (baseline)": lambda: subprocess.run(
                    fresh_sftp, input=batch, check=True, capture_output=True
                ),
                "upload, ControlMaster channel": lambda: connection.transfer(upload, 30),
            }
            medians = {}
            for name, run in ways.items():
                run()  # warm-up
                timings = [seconds_per_command(run, args.commands) for _ in range(args.repeats)]
                medians[name] = statistics.median(timings)
                runs = ", ".join(f"{timing * 1000:.1f}" for timing in timings)
                print(f"{name}: median {medians[name] * 1000:.1f} ms/command (runs: {runs} ms)")
            connection.close()
        finally:
            stop_build_host(host)
    for kind, baseline_name in (("command", "ssh"), ("upload", "sftp")):
        baseline = medians[f"{kind}, fresh {baseline_name} connection (baseline)"]
        multiplexed = medians[f"{kind}, ControlMaster channel"]
        saved_ms = (baseline - multiplexed) * 1000
        print(
            f"{kind}: fresh / multiplexed {baseline / multiplexed:.1f}x, {saved_ms:.0f} ms saved each"
        )


if __name__ == "__main__":
    main()
