"""Options of the remote MSVC verifier (`remote.py`), validated before anything connects.

`host` is checked to be a host name, an address or an ssh_config alias, so that no option can
be read by `ssh` as one of its own flags.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_SAFE_HOST = re.compile(r"^[A-Za-z0-9_.:%\[\]-]+$")


class RemoteMSVCOptions(BaseModel):
    """Options of the remote MSVC verifier (each has a description for `--help`)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(..., description="Build host name or address (or a ~/.ssh/config alias).")
    user: str | None = Field(None, description="Account on the build host (default: ssh's).")
    ssh_key: Path | None = Field(None, description="Private key file (default: ssh's keys).")
    port: int = Field(22, ge=1, le=65535, description="SSH port of the build host.")
    strict_host_key_checking: bool = Field(
        True,
        description="Check the host key against known_hosts; false accepts any key (insecure, "
        "logged as a warning).",
    )
    known_hosts_file: Path | None = Field(
        None, description="known_hosts file to check the host key against (default: ssh's)."
    )
    connect_timeout: float = Field(10.0, gt=0, description="Seconds allowed to connect.")
    remote_dir: str = Field(
        "halo-forge-builds",
        description="Directory on the host for per-sample build directories (relative: to "
        "the account's home).",
    )
    shell: Literal["cmd", "powershell", "posix"] = Field(
        "cmd",
        description="The host's SSH login shell: cmd (Windows default), powershell, or posix.",
    )
    env_setup: str | None = Field(
        None,
        description="Command (in the shell's syntax) that loads the MSVC environment before "
        'each build, e.g. call "C:\\...\\VC\\Auxiliary\\Build\\vcvars64.bat" >nul.',
    )
    compiler: str = Field("cl", description="Compiler executable on the host.")
    flags: list[str] = Field(
        ["/nologo", "/EHsc", "/W4"],
        description="Compiler flags; keep warnings on (/W4), or the 0.3 tier never occurs.",
    )
    timeout: float = Field(60.0, gt=0, description="Seconds allowed for one build.")
    run_after_compile: bool | None = Field(
        None,
        description="Run the program on the host and check its output: true always, false "
        "never (compile only; samples whose checks are skipped get metadata['compile_only']), "
        "unset whenever the sample has something to check a run against (test_cases, "
        "expected_output, stdin or test code in `tests`, or the expected_output, stdin_input "
        "or test_cases options).",
    )
    run_timeout: float = Field(5.0, gt=0, description="Seconds allowed for one run.")
    expected_output: str | None = Field(None, description="Default expected stdout of a run.")
    stdin_input: str | None = Field(None, description="Default stdin of a run.")
    test_cases: list[dict[str, str | None]] | None = Field(
        None,
        description="Default [{stdin, expected_output}] for samples without their own test_cases.",
    )
    binary_cache_dir: Path | None = Field(
        None, description="Fetch each built .exe here (path in metadata['binary_path'])."
    )
    max_connections: int = Field(4, ge=1, description="SSH connections to the host at most.")
    max_workers: int | None = Field(
        None, ge=1, description="Parallel verifications (default: max_connections)."
    )
    use_cache: bool = Field(True, description="Reuse results from the on-disk result cache.")

    @field_validator("host")
    @classmethod
    def _is_host_name(cls, value: str) -> str:
        if not _SAFE_HOST.match(value) or value.startswith("-"):
            raise ValueError("must be a host name, an address or an ssh_config alias")
        return value
