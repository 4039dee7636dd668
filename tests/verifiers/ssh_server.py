"""A real OpenSSH server on 127.0.0.1 that stands in for a Windows build host in tests.

Everything about SSH is real: `sshd` from openssh-server with a throwaway config, a host key
and a client key pair made by `ssh-keygen`, public-key login, SFTP. Only the compiler stands
in for MSVC: `cl` is a wrapper around Clang in MSVC mode (`--driver-mode=cl`, the clang-cl
driver, which takes MSVC flags such as /EHsc, /W4 and /Fe and prints MSVC-style locations).
It targets Linux (`--target=x86_64-pc-linux-gnu`, plus `/clang:-lstdc++`, which the cl driver
does not add) so that programs link with the system linker and run here; a Windows target
would need the MSVC libraries to link. The wrapper lives
in a directory that only `env_setup` puts on PATH, as vcvars64.bat does for the real `cl`.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
CL_WRAPPER = """#!/bin/sh
# Stands in for MSVC's cl: with no arguments it prints a version banner and usage, like cl.
if [ "$#" -eq 0 ]; then
  clang --version | head -n 1 >&2
  echo "usage: cl [ option... ] filename... [ /link linkoption... ]" >&2
  exit 0
fi
exec clang --driver-mode=cl --target=x86_64-pc-linux-gnu "$@" /clang:-lstdc++
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_key(path: Path) -> Path:
    """An unencrypted ed25519 key pair at `path` and `path.pub`."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "halo-forge-test", "-f", str(path)],
        check=True,
    )
    return path


@dataclass
class BuildHost:
    """A running test sshd and what a client needs to reach it."""

    root: Path
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    log: Path
    compiler_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def env_setup(self) -> str:
        """What loads the "MSVC environment" on this host: puts the `cl` wrapper on PATH."""
        return f"export PATH={self.compiler_dir}:$PATH"

    def options(self, remote_dir: Path, **overrides: Any) -> dict[str, Any]:
        """Verifier options that reach this host as a posix build host building in `remote_dir`."""
        options: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "user": self.user,
            "ssh_key": self.client_key,
            "known_hosts_file": self.known_hosts,
            "shell": "posix",
            "env_setup": self.env_setup,
            "remote_dir": str(remote_dir),
            "use_cache": False,
        }
        options.update(overrides)
        return options

    def accepted_logins(self) -> int:
        """Public-key logins the server accepted so far (one per SSH connection)."""
        return self.log.read_text(errors="replace").count("Accepted publickey")


def start_build_host(root: Path) -> BuildHost:
    """Generate keys and a config under `root`, start sshd on a free port, wait until it listens."""
    root.mkdir(parents=True, exist_ok=True)
    host_key = make_key(root / "host_ed25519")
    client_key = make_key(root / "client_ed25519")
    authorized = root / "authorized_keys"
    shutil.copy(client_key.with_suffix(".pub"), authorized)
    compiler_dir = root / "msvc-bin"
    compiler_dir.mkdir()
    wrapper = compiler_dir / "cl"
    wrapper.write_text(CL_WRAPPER)
    wrapper.chmod(0o755)
    config = root / "sshd_config"
    config.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {root / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "UsePAM no",
                "StrictModes no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "Subsystem sftp internal-sftp",
                "MaxStartups 100",
                "MaxSessions 100",
                "LogLevel INFO",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation directory
    port = free_port()
    log = root / "sshd.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config), "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    public_host_key = host_key.with_suffix(".pub").read_text().split()
    known_hosts = root / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {public_host_key[0]} {public_host_key[1]}\n")
    deadline = time.monotonic() + 10
    while "Server listening" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"sshd did not start: {log.read_text(errors='replace')}")
        time.sleep(0.02)
    return BuildHost(
        root=root,
        port=port,
        user=getpass.getuser(),
        client_key=client_key,
        known_hosts=known_hosts,
        log=log,
        compiler_dir=compiler_dir,
        process=process,
    )


def stop_build_host(host: BuildHost) -> None:
    host.process.terminate()
    try:
        host.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        host.process.kill()
        host.process.wait()
