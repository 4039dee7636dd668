"""The MSVC verifier: compile (and optionally run) each sample on a Windows build host over SSH.

MSVC runs only on Windows, and training runs on Linux, so samples travel to a build host:
each sample gets its own directory there (uploaded over SFTP, removed afterwards), `cl`
builds it in the environment `env_setup` loads (vcvars64.bat), and the program runs there
against the sample's test cases whenever it has something to be checked against, as the local
compile verifiers decide (`run_after_compile`: unset follows the sample, true always, false
never and marks `metadata["compile_only"]`). A sample's `tests` (test code, e.g. a test
`main`) is compiled after the program. Model-written code never runs on this machine; locally
only the OpenSSH client runs (`remote_ssh.py`, one multiplexed connection per worker). Shell syntax lives in `remote_commands.py`, runs against test
cases in `remote_runs.py`, the options in `remote_options.py`.

Rewards follow `RewardLevel`, classified from MSVC's error codes (`msvc_diagnostics.py`):
0.0 syntax, 0.1 missing include or undeclared name, 0.2 other errors and unresolved
externals, 0.3 warnings, 0.5 clean; runs 0.6 crash or timeout, 0.7 wrong output, 0.8 some
cases pass, 1.0 correct. A failure of the setup rather than of the sample raises
`VerifierError` with the fix: host unreachable, authentication or host key refused, `cl` not
found (the environment is not loaded), the host's disk full, flags `cl` rejects.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import ERROR_EXCERPT_CHARS, Verifier, VerifyResult
from halo_forge.verifiers.build.results import (
    compiled_result,
    failure_result,
    no_code_result,
    timeout_result,
)
from halo_forge.verifiers.build.testcases import carries_run_checks, plan_run, with_test_code
from halo_forge.verifiers.cpp.toolsets import C_FAMILY_LANGUAGES, COMPILE_CHECK_KEYS
from halo_forge.verifiers.registry import register_verifier, validate_options
from halo_forge.verifiers.remote.commands import (
    COMMAND_NOT_FOUND_EXIT_CODES,
    DIRECTORY_MARKER,
    SHELLS,
)
from halo_forge.verifiers.remote.msvc_diagnostics import (
    classify_msvc_failure,
    count_msvc_warnings,
    reports_disk_full,
)
from halo_forge.verifiers.remote.options import RemoteMSVCOptions
from halo_forge.verifiers.remote.runs import (
    HOUSEKEEPING_TIMEOUT_S,
    RemoteRunner,
    RemoteWorkspace,
    run_remote_cases,
)
from halo_forge.verifiers.remote.ssh import (
    CommandResult,
    ConnectionPool,
    SSHConnection,
    SSHTarget,
    sftp_quote,
)

logger = logging.getLogger(__name__)

SOURCE_NAME = "prog.cpp"
#: Below this many free bytes, a failed upload or build is reported as a full disk.
DISK_FULL_BYTES = 1 << 20
_NOT_FOUND = re.compile(r"is not recognized as|command not found|not found", re.IGNORECASE)


@register_verifier("msvc", options=RemoteMSVCOptions)
class RemoteMSVCVerifier(Verifier):
    """Compile C/C++ with MSVC on a Windows build host over SSH; run and check what has tests."""

    languages = C_FAMILY_LANGUAGES
    context_keys = ("expected_output", "stdin", "test_cases", "tests")

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(RemoteMSVCOptions, options, owner="RemoteMSVCVerifier")
        workers = self.options.max_workers or self.options.max_connections
        super().__init__(max_workers=workers, use_cache=self.options.use_cache)
        self.shell = SHELLS[self.options.shell]()
        try:
            self.shell.check_path(self.options.remote_dir)
        except ValueError as error:
            raise VerifierError(f"remote_dir {self.options.remote_dir!r}: {error}") from None
        if not self.options.strict_host_key_checking:
            logger.warning(
                "strict_host_key_checking=false: the identity of %s is not checked, so a "
                "machine in between could receive the samples; add its key to known_hosts instead",
                self.options.host,
            )
        self.target = SSHTarget(
            host=self.options.host,
            port=self.options.port,
            user=self.options.user,
            ssh_key=self.options.ssh_key,
            strict_host_key_checking=self.options.strict_host_key_checking,
            known_hosts_file=self.options.known_hosts_file,
            connect_timeout_s=self.options.connect_timeout,
        )
        self._pool = ConnectionPool(self.target, self.options.max_connections)
        try:
            self.build_dir, self.compiler_version = self._set_up_host()
        except BaseException:
            self._pool.close()
            raise

    def _set_up_host(self) -> tuple[str, str]:
        """Make the build directory and ask the compiler its version, on the first connection."""
        command = self.shell.setup_command(
            self.options.remote_dir, self.options.env_setup, self.options.compiler
        )
        with self._pool.connection() as connection:
            result = connection.run(command, HOUSEKEEPING_TIMEOUT_S)
        self._raise_if_compiler_missing(result)
        lines = (result.stdout + "\n" + result.stderr).splitlines()
        marked = [line for line in lines if line.startswith(DIRECTORY_MARKER)]
        if not marked:
            raise VerifierError(
                f"cannot create remote_dir {self.options.remote_dir!r} on {self.target.name}: "
                f"{result.stderr.strip() or result.stdout.strip()}; choose a writable remote_dir "
                f"and check that shell={self.shell.name!r} is the host's login shell"
            )
        if result.returncode != 0:
            output = (result.stderr.strip() or result.stdout.strip())[-ERROR_EXCERPT_CHARS:]
            raise VerifierError(
                f"env_setup or {self.options.compiler!r} failed on {self.target.name} (exit "
                f"status {result.returncode}): {output or 'no output'}; run env_setup and a bare "
                f"{self.options.compiler} in a {self.shell.name} shell on the host and fix env_setup"
            )
        directory = marked[0][len(DIRECTORY_MARKER) :].strip()
        banner = [line.strip() for line in lines if line.strip() and line not in marked]
        return directory, banner[0] if banner else f"{self.options.compiler} (unknown version)"

    def _raise_if_compiler_missing(self, result: CommandResult) -> None:
        output = result.stdout + result.stderr
        if result.returncode in COMMAND_NOT_FOUND_EXIT_CODES and _NOT_FOUND.search(output):
            setup = self.options.env_setup
            hint = (
                f"env_setup ({setup!r}) did not put it on PATH"
                if setup
                else "set env_setup to the command that loads the MSVC environment, e.g. "
                'call "C:\\Program Files (x86)\\Microsoft Visual Studio\\2022\\BuildTools\\VC\\'
                'Auxiliary\\Build\\vcvars64.bat"'
            )
            raise VerifierError(
                f"compiler {self.options.compiler!r} not found on {self.target.name}: the MSVC "
                f"environment is not loaded; {hint} (see docs/windows-build-host.md)"
            )

    def cache_fingerprint(self) -> dict[str, Any] | None:
        if self.options.binary_cache_dir is not None:
            return None  # the binary itself is the product, so every check must build it
        options = self.options.model_dump(
            mode="json",
            include={
                "host", "port", "user", "remote_dir", "shell", "env_setup", "compiler", "flags",
                "timeout", "run_after_compile", "run_timeout", "expected_output",
                "stdin_input", "test_cases",
            },
        )  # fmt: skip
        return {"verifier": "msvc", "options": options, "compiler_version": self.compiler_version}

    # ------------------------------------------------------------------ verification

    def verify(self, code: str, **context: Any) -> VerifyResult:
        """Build `code` (a model answer; the program is extracted) on the host and score it."""
        program = self.extract_code(code)
        metadata: dict[str, Any] = {
            "compiler": self.options.compiler,
            "compiler_version": self.compiler_version,
            "host": self.options.host,
        }
        if self.options.test_cases is not None and "test_cases" not in context:
            context = {**context, "test_cases": self.options.test_cases}
        has_checks = carries_run_checks(
            context, self.options.stdin_input, self.options.expected_output, COMPILE_CHECK_KEYS
        )
        runs = plan_run(self.options.run_after_compile, has_checks, metadata)
        if not program.strip():
            return no_code_result("C/C++", self.languages, metadata)
        program = with_test_code(program, context)
        with self._workspace() as workspace:
            failure = self._compile(workspace, program, metadata)
            if failure is not None:
                return failure
            if self.options.binary_cache_dir is not None:
                metadata["binary_path"] = self._fetch_binary(workspace, program)
            if not runs:
                return compiled_result(metadata["warnings"], metadata)
            runner = RemoteRunner(workspace, self.options.run_timeout, self._check_upload)
            return run_remote_cases(
                runner, context, self.options.stdin_input, self.options.expected_output, metadata
            )

    @contextmanager
    def _workspace(self) -> Iterator[RemoteWorkspace]:
        """A fresh directory on the host for one sample, removed afterwards."""
        name = f"sample-{uuid.uuid4().hex}"
        directory = self.shell.join(self.build_dir, name)
        with (
            self._pool.connection() as connection,
            tempfile.TemporaryDirectory(prefix="halo-forge-msvc-") as local_dir,
        ):
            created = connection.transfer(
                [f"mkdir {sftp_quote(self.shell.sftp_path(directory))}"], HOUSEKEEPING_TIMEOUT_S
            )
            self._check_upload(connection, created, directory)
            workspace = RemoteWorkspace(connection, self.shell, directory, Path(local_dir))
            try:
                yield workspace
            finally:
                self._remove(connection, directory)

    def _remove(self, connection: SSHConnection, directory: str) -> None:
        """Delete a sample's directory; a failure is logged, never raised over the verdict."""
        try:
            removed = connection.run(self.shell.remove_command(directory), HOUSEKEEPING_TIMEOUT_S)
            problem = removed.stderr.strip() if removed.returncode != 0 else ""
        except VerifierError as error:  # a lost connection: the next sample reconnects
            problem = str(error)
        if problem:
            logger.warning("could not remove %s on %s: %s", directory, self.target.name, problem)

    def _check_upload(self, connection: SSHConnection, result: CommandResult, path: str) -> None:
        """Raise VerifierError naming the fix when a transfer to the host failed."""
        if result.returncode == 0:
            return
        if self._free_bytes(connection) < DISK_FULL_BYTES:
            raise self._disk_full_error()
        raise VerifierError(
            f"cannot write {path} on {self.target.name}: "
            f"{result.stderr.strip() or 'sftp failed'}; check that remote_dir is writable by "
            "the SSH account"
        )

    def _free_bytes(self, connection: SSHConnection) -> float:
        result = connection.run(
            self.shell.free_space_command(self.build_dir), HOUSEKEEPING_TIMEOUT_S
        )
        try:
            return float(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return float("inf")  # unknown: report the transfer's own error instead

    def _disk_full_error(self) -> VerifierError:
        return VerifierError(
            f"the disk of the build host {self.target.name} is full (remote_dir "
            f"{self.build_dir!r}); free space there or set remote_dir to a drive with room"
        )

    def _compile(
        self, workspace: RemoteWorkspace, program: str, metadata: dict[str, Any]
    ) -> VerifyResult | None:
        """Upload and build `program`; the failure result, or None when it compiled."""
        uploaded = workspace.upload(SOURCE_NAME, program)
        self._check_upload(workspace.connection, uploaded, workspace.directory)
        command = self.shell.compile_command(
            workspace.directory,
            self.options.env_setup,
            self.options.compiler,
            self.options.flags,
            SOURCE_NAME,
            workspace.binary_name,
        )
        result = workspace.connection.run(command, self.options.timeout)
        output = result.stdout + result.stderr
        metadata["warnings"] = count_msvc_warnings(output)
        if result.returncode == 0:
            return None
        if result.timed_out:
            return timeout_result(self.options.timeout, output, metadata)
        self._raise_if_compiler_missing(result)
        if reports_disk_full(output):
            raise self._disk_full_error()
        failure = classify_msvc_failure(output)
        if failure.kind == "command_line":
            raise VerifierError(
                f"{self.options.compiler} rejected its command line ({failure.message}); "
                f"fix the flags option (now {self.options.flags})"
            )
        return failure_result(failure, output, result.returncode, metadata)

    def _fetch_binary(self, workspace: RemoteWorkspace, program: str) -> str:
        """Copy the built .exe to `binary_cache_dir` under a name derived from its source."""
        directory = Path(self.options.binary_cache_dir or ".")
        directory.mkdir(parents=True, exist_ok=True)
        identity = "\0".join(
            [self.options.host, self.compiler_version, *self.options.flags, program]
        )
        target = directory / f"{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:24]}.exe"
        remote = self.shell.sftp_path(self.shell.join(workspace.directory, workspace.binary_name))
        fetched = workspace.connection.transfer(
            [f"get {sftp_quote(remote)} {sftp_quote(str(target))}"], HOUSEKEEPING_TIMEOUT_S
        )
        if fetched.returncode != 0:
            raise VerifierError(
                f"cannot fetch {remote} from {self.target.name}: {fetched.stderr.strip()}; "
                "check that binary_cache_dir is writable"
            )
        return str(target)

    def cleanup(self) -> None:
        """Close the SSH connections."""
        self._pool.close()
