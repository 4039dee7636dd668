"""SSH to a build host with the system OpenSSH client: one multiplexed connection per worker.

Each `SSHConnection` is an `ssh -M` ControlMaster process: it authenticates once, and every
later command (`ssh -S socket`) and file transfer (`sftp`, over the same socket) of that
worker opens a channel on it instead of a new TCP connection and key exchange. The OpenSSH
client reads the user's `~/.ssh/config` (host aliases, ProxyJump, agents) and checks host
keys against known_hosts; only argv lists are run, never a local shell.

Connection-level failures (host unreachable, authentication refused, unknown host key) raise
`VerifierError` with the fix: they are the setup's fault, and scoring every sample 0 would
train on noise. Only the remote build's own verdict becomes a reward.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from halo_forge.errors import VerifierError
from halo_forge.verifiers.sandbox.output import collect_output

logger = logging.getLogger(__name__)

#: Longest output kept from one remote command (a program printing in a loop must not fill memory).
MAX_OUTPUT_BYTES = 1 << 20
_HOST_KEY_PROBLEM = re.compile(
    r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed"
)
_AUTHENTICATION_PROBLEM = re.compile(
    r"Permission denied|Too many authentication failures|no such identity|Load key .*: "
)
_UNREACHABLE = re.compile(
    r"Connection refused|Connection timed out|Operation timed out|No route to host|"
    r"Could not resolve hostname|Name or service not known|Network is unreachable|"
    r"Connection closed by|Connection reset|kex_exchange_identification"
)
_SSH_CLIENT_ERROR = re.compile(
    r"^(?:(?:ssh|mux_client_\w+|Control socket|client_loop): |Connection to \S+ closed|"
    r"Received disconnect)",
    re.M,
)


@dataclass(frozen=True)
class SSHTarget:
    """Where and as whom to connect, and how to check the host's identity."""

    host: str
    port: int = 22
    user: str | None = None
    ssh_key: Path | None = None
    strict_host_key_checking: bool = True
    known_hosts_file: Path | None = None
    connect_timeout_s: float = 10.0

    @property
    def name(self) -> str:
        """`user@host:port` for messages."""
        return f"{self.user + '@' if self.user else ''}{self.host}:{self.port}"

    def options(self) -> list[str]:
        """`-o` options shared by `ssh` and `sftp` (their own flags for ports differ)."""
        options = {
            "BatchMode": "yes",  # never wait for a password or a yes/no prompt
            "ConnectTimeout": str(max(1, round(self.connect_timeout_s))),
            "ServerAliveInterval": "15",
            "ServerAliveCountMax": "3",
            "Port": str(self.port),
        }
        if self.user:
            options["User"] = self.user
        if self.ssh_key is not None:
            options["IdentityFile"] = str(self.ssh_key)
            options["IdentitiesOnly"] = "yes"
        if self.strict_host_key_checking:
            options["StrictHostKeyChecking"] = "yes"
            if self.known_hosts_file is not None:
                options["UserKnownHostsFile"] = str(self.known_hosts_file)
        else:
            options["StrictHostKeyChecking"] = "no"
            options["UserKnownHostsFile"] = os.devnull  # accept any key, remember none
            options["LogLevel"] = "ERROR"
        return [argument for key, value in options.items() for argument in ("-o", f"{key}={value}")]


@dataclass(frozen=True)
class CommandResult:
    """How one remote command ended and what it printed (decoded, undecodable bytes replaced)."""

    returncode: int | None  # None when the deadline stopped it
    stdout: str
    stderr: str
    timed_out: bool
    output_truncated: bool
    wall_time_s: float


def connection_error(target: SSHTarget, stderr: str) -> VerifierError:
    """A VerifierError naming the fix for an `ssh` failure (exit status 255) with this stderr."""
    message = stderr.strip().splitlines()[-1] if stderr.strip() else "ssh exited with status 255"
    if _HOST_KEY_PROBLEM.search(stderr):
        return VerifierError(
            f"the host key of {target.name} is unknown or changed ({message}); check its "
            f"fingerprint, then add it with `ssh-keyscan -p {target.port} {target.host} >> "
            "~/.ssh/known_hosts` (or point known_hosts_file at a file that has it); "
            "strict_host_key_checking=false skips the check (insecure)"
        )
    if _AUTHENTICATION_PROBLEM.search(stderr):
        return VerifierError(
            f"{target.name} refused authentication ({message}); check user and ssh_key, and "
            "that the public key is in the account's authorized_keys on the host (Windows: "
            "C:\\ProgramData\\ssh\\administrators_authorized_keys for administrators)"
        )
    if _UNREACHABLE.search(stderr):
        return VerifierError(
            f"cannot reach the build host {target.name} ({message}); check that it is up, "
            "that OpenSSH Server runs there and listens on that port, and the host and port options"
        )
    return VerifierError(f"ssh to {target.name} failed: {message}")


class SSHConnection:
    """One authenticated ControlMaster connection; commands and transfers share it."""

    def __init__(self, target: SSHTarget, control_path: Path) -> None:
        self.target = target
        self.control_path = control_path
        self._log_path = control_path.with_suffix(".log")
        self._master: subprocess.Popen[bytes] | None = None

    def open(self) -> None:
        """Start the master and wait until it has authenticated (its socket appears)."""
        self.control_path.unlink(missing_ok=True)  # left by a master that was killed
        with self._log_path.open("wb") as log:
            self._master = subprocess.Popen(
                [
                    "ssh",
                    *self.target.options(),
                    "-o", "ControlMaster=yes",
                    "-o", "ControlPersist=no",
                    "-S", str(self.control_path),
                    "-N", "--", self.target.host,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + self.target.connect_timeout_s + 5.0
        while not self.control_path.exists():
            if self._master.poll() is not None:
                raise connection_error(self.target, self._log_path.read_text(errors="replace"))
            if time.monotonic() > deadline:
                self.close()
                raise VerifierError(
                    f"cannot reach the build host {self.target.name}: no SSH session after "
                    f"{self.target.connect_timeout_s:g} s; check that it is up and the port is right"
                )
            time.sleep(0.01)

    @property
    def alive(self) -> bool:
        return self._master is not None and self._master.poll() is None

    def run(
        self, command: str, timeout_s: float, *, untrusted_output: bool = False
    ) -> CommandResult:
        """Run `command` in the host's login shell; raises VerifierError if SSH itself failed.

        `untrusted_output`: the command is a generated program, which may print what ssh
        prints and exit 255 as ssh does; then only a dead master counts as an SSH failure.
        """
        argv = ["ssh", *self._mux_options(), "-T", "--", self.target.host, command]
        return self._client(argv, None, timeout_s, untrusted_output)

    def transfer(self, batch: Sequence[str], timeout_s: float) -> CommandResult:
        """Run SFTP batch commands (`mkdir`, `put`, `get`; see `sftp_quote`) on this connection.

        The batch stops at the first command that fails; the result then has a non-zero status.
        """
        script = "".join(f"{line}\n" for line in batch).encode("utf-8")
        return self._client(
            ["sftp", *self._mux_options(), "-q", "-b", "-", "--", self.target.host],
            script,
            timeout_s,
            untrusted_output=False,
        )

    def _mux_options(self) -> list[str]:
        # `-o ControlPath`, not `-S`: for sftp, -S names the ssh program instead.
        control = ["-o", "ControlMaster=no", "-o", f"ControlPath={self.control_path}"]
        return [*self.target.options(), *control]

    def _client(
        self, argv: list[str], stdin: bytes | None, timeout_s: float, untrusted_output: bool
    ) -> CommandResult:
        if not self.alive:
            raise VerifierError(
                f"the SSH connection to {self.target.name} was lost "
                f"({self._log_path.read_text(errors='replace').strip() or 'master exited'}); "
                "check the network and the host, then run again"
            )
        started = time.monotonic()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            collected = collect_output(
                process, stdin, started + timeout_s, MAX_OUTPUT_BYTES, process.kill
            )
        finally:
            process.kill()
            returncode = process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        stderr = collected.stderr.decode("utf-8", errors="replace")
        ssh_says_it_failed = not untrusted_output and _SSH_CLIENT_ERROR.search(stderr)
        if returncode == 255 and not collected.killed and (not self.alive or ssh_says_it_failed):
            raise connection_error(self.target, stderr)
        return CommandResult(
            returncode=None if collected.killed else returncode,
            stdout=collected.stdout.decode("utf-8", errors="replace"),
            stderr=stderr,
            timed_out=collected.timed_out,
            output_truncated=collected.truncated,
            wall_time_s=time.monotonic() - started,
        )

    def close(self) -> None:
        """Stop the master (which closes the TCP connection and removes its socket)."""
        if self._master is not None and self._master.poll() is None:
            self._master.terminate()
            try:
                self._master.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._master.kill()
                self._master.wait()


def sftp_quote(path: str) -> str:
    """`path` as one argument of an SFTP batch command (double quotes, `\\` and `"` escaped)."""
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConnectionPool:
    """At most `max_connections` connections, each lent to one worker at a time and reused."""

    def __init__(self, target: SSHTarget, max_connections: int) -> None:
        if shutil.which("ssh") is None or shutil.which("sftp") is None:
            raise VerifierError(
                "the OpenSSH client (ssh, sftp) is not on PATH; install it with "
                "`apt-get install openssh-client` (Debian/Ubuntu) or your system's openssh package"
            )
        self.target = target
        self.max_connections = max_connections
        # Socket paths must stay short (about 100 bytes), hence a fresh directory under /tmp.
        self._control_dir = Path(tempfile.mkdtemp(prefix="halo-forge-ssh-"))
        self._idle: list[SSHConnection] = []
        self._opened: list[SSHConnection] = []  # changed in place: the finalizer holds it
        self._condition = threading.Condition()
        # A pool that is never closed still stops its ssh processes when it goes or Python exits.
        self._finalizer = weakref.finalize(self, _close_all, self._opened, self._control_dir)

    @property
    def opened(self) -> int:
        """Connections opened so far (each one authenticated once)."""
        return len(self._opened)

    @contextmanager
    def connection(self) -> Iterator[SSHConnection]:
        """Borrow an idle connection, or open one while fewer than the maximum exist."""
        connection = self._take()
        try:
            if not connection.alive:
                logger.warning("SSH connection to %s was lost; reconnecting", self.target.name)
                connection.open()
            yield connection
        finally:
            with self._condition:
                self._idle.append(connection)
                self._condition.notify()

    def _take(self) -> SSHConnection:
        with self._condition:
            while not self._idle and len(self._opened) >= self.max_connections:
                self._condition.wait()
            if self._idle:
                return self._idle.pop()
            self._control_dir.mkdir(mode=0o700, exist_ok=True)
            connection = SSHConnection(self.target, self._control_dir / f"c{len(self._opened)}")
            self._opened.append(connection)
        try:
            connection.open()
        except BaseException:
            with self._condition:
                self._opened.remove(connection)
                self._condition.notify()
            raise
        return connection

    def close(self) -> None:
        """Close every connection and remove the socket directory (the pool stays usable)."""
        with self._condition:
            self._idle.clear()
            _close_all(self._opened, self._control_dir)


def _close_all(connections: list[SSHConnection], control_dir: Path) -> None:
    """Close `connections` (emptying the list) and remove their socket directory."""
    while connections:
        connections.pop().close()
    shutil.rmtree(control_dir, ignore_errors=True)
