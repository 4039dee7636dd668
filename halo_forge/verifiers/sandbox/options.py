"""The sandbox's options that every local verifier takes: what runs may read, how much they
may write.

Shared by the build verifiers (`build/options.py`) and the Python test verifiers
(`python/base.py`), so a config says `expose_paths` and `disk_limit_mb` the same way for every
language.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SandboxOptions(BaseModel):
    """What sandboxed programs and compilers may read besides the system, and write."""

    model_config = ConfigDict(extra="forbid")

    expose_paths: list[Path] = Field(
        default_factory=list,
        description="Absolute paths of files or directories that programs and compilers may "
        "also read (read-only). Under bubblewrap they see only the system, the toolchain and "
        "their own directory: nothing of the home, the project or the working directory.",
    )
    disk_limit_mb: int = Field(
        256,
        ge=1,
        description="Size of each scratch a run may write (a tmpfs: /tmp, /dev/shm, and the "
        "directory of a program's runs), in MiB; a run that fills one is a runtime failure.",
    )

    @field_validator("expose_paths")
    @classmethod
    def _exposable(cls, paths: list[Path]) -> list[Path]:
        for path in paths:
            if not path.is_absolute():
                raise ValueError(f"{path} is not absolute; give the full path, e.g. /opt/data")
            if not path.exists():
                raise ValueError(f"{path} does not exist; create it or remove it from the list")
            if path.resolve() == Path("/"):
                raise ValueError("/ would expose every file; name the directories runs need")
        return paths
