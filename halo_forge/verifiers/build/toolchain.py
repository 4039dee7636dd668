"""Find a compiler, its version and the environment it runs in.

A missing compiler is a setup problem, not a bad sample: it raises `VerifierError` naming the
package to install when the verifier is built, before any sample is scored. The version string
is part of every cache key, so upgrading the compiler never serves results of the old one.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

from halo_forge.errors import VerifierError


@dataclass(frozen=True)
class Toolchain:
    """A compiler family: executables per source language and the package that provides them."""

    name: str  # "gcc", "clang", "mingw"
    executables: dict[str, str]  # language ("c", "c++") -> executable name
    package: str  # what to install, e.g. "g++" or "mingw-w64"
    binary_suffix: str = ""  # ".exe" for Windows targets
    elf_target: bool = False  # builds Linux (ELF) binaries, which the gold linker can link

    def executable(self, language: str) -> str:
        if language not in self.executables:
            raise VerifierError(
                f"{self.name} verifier has no {language!r} compiler; "
                f"choose language from: {', '.join(self.executables)}"
            )
        return self.executables[language]

    def linker_flags(self) -> list[str]:
        """`-fuse-ld=gold` where it applies: gold links a program against libstdc++ in about
        a third of the time of the default BFD linker and rejects the same undefined references
        and missing `main`, so the verdict is the same for less time."""
        return ["-fuse-ld=gold"] if self.elf_target and _has_gold() else []


@functools.cache
def _has_gold() -> bool:
    return shutil.which("ld.gold") is not None


def resolve_compiler(toolchain: Toolchain, language: str, override: str | None = None) -> str:
    """Absolute path of the compiler to use; raises VerifierError naming the package if absent."""
    name = override or toolchain.executable(language)
    path = shutil.which(name)
    if path is None:
        raise VerifierError(
            f"compiler {name!r} not found on PATH; install it with "
            f"`apt-get install {toolchain.package}` (Debian/Ubuntu) or your system's "
            f"{toolchain.package} package"
        )
    return path


@functools.cache
def compiler_version(path: str, argument: str = "--version") -> str:
    """First line of `<compiler> --version` (trusted input, so no sandbox is needed).

    `argument` is the tool's version command where it differs (`go version`)."""
    try:
        completed = subprocess.run(
            [path, argument], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise VerifierError(
            f"cannot run {path} {argument} ({error}); reinstall the compiler"
        ) from None
    lines = completed.stdout.strip().splitlines()
    return lines[0] if lines else f"{path} (unknown version)"


#: Added to the sandbox's clean environment for compiler runs: the C locale gives diagnostics
#: in English with plain quotes, which is what `diagnostics.py` reads.
COMPILER_ENVIRONMENT = {"LC_ALL": "C"}
