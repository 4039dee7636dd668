"""Options of the C and C++ compile verifiers, each with a description for `--help`.

A config `verifier: {type: gcc, ...}` and the CLI's `--set KEY=VALUE` are checked against these
models, so a mistyped key or a bad value fails with the key and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from halo_forge.verifiers.build.options import BuildOptions


class CompileOptions(BuildOptions):
    """Options shared by the compile verifiers (each has a description for `--help`)."""

    language: Literal["c++", "c"] | None = Field(
        None,
        description="Source language of every program; unset: each sample's own, from its "
        "`language` (c, cpp, c++, cc, cxx), else the tag of its first C/C++ code block, else C++.",
    )
    flags: list[str] | None = Field(
        None,
        description="Compiler flags of every language; default -std=c++17 -Wall (C: -std=gnu17 "
        "-Wall). Keep warnings on: without them the 0.3 'compiles with warnings' tier never "
        "occurs. Flags that fit one language only need `language` set too.",
    )
    link: bool = Field(
        True,
        description="Check that the program links (needs main, no undefined references). "
        "False checks a translation unit alone: for prompts that ask for a function.",
    )
    timeout: float = Field(30.0, gt=0, description="Seconds allowed for one compile.")
    warn_as_error: bool = Field(False, description="Fail compiles that warn (-Werror).")
    binary_cache_dir: Path | None = Field(
        None, description="Keep each built binary here (path in metadata['binary_path'])."
    )
    optimization: str = Field(
        "-O2", description="Optimisation flag of every build (it can decide whether code links)."
    )
    fast_link_check: bool = Field(
        True,
        description="Check linking at -O0 first and rebuild at `optimization` only when that "
        "link fails (same verdicts, about half the cost; warnings come from the -O0 build).",
    )
    precompiled_headers: bool = Field(
        True, description="Share precompiled headers between programs with the same includes."
    )

    @field_validator("optimization")
    @classmethod
    def _is_optimisation_flag(cls, value: str) -> str:
        if value not in ("-O0", "-O1", "-O2", "-O3", "-Os", "-Og", "-Ofast", "-Oz"):
            raise ValueError("must be one of -O0, -O1, -O2, -O3, -Os, -Og, -Ofast, -Oz")
        return value


class MinGWOptions(CompileOptions):
    """MinGW options: as for GCC, but its Windows binaries cannot run here, so an unset
    `run_after_compile` means compile only."""

    @field_validator("run_after_compile")
    @classmethod
    def _cannot_run(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError(
                "MinGW builds Windows PE binaries, which do not run on this system; "
                "use run_after_compile=false (or the gcc verifier to run programs)"
            )
        return value
