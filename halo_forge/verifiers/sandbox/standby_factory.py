"""Build the run servers' standby factory (`standby_factory.c`) once per machine.

The factory is a small C program that forks the children a run server keeps waiting
(`standby`); the server cannot fork them as cheaply itself (see the C file). It is compiled
with the machine's C compiler (the compile verifiers, the only users of run servers, need one
anyway) into `<cache dir>/standby-factory/<key>/`, where `key` covers the source and the
compiler, and reused by every later run. Compiling is trusted work on the project's own
source, so it runs here, outside any sandbox; the servers get the binary read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from halo_forge.errors import VerifierError
from halo_forge.paths import cache_root

SOURCE = Path(__file__).with_name("standby_factory.c")
#: C compilers tried in turn, by name on PATH.
COMPILERS = ("cc", "gcc", "clang")
_BUILD_TIMEOUT_S = 120


def build_standby_factory() -> Path:
    """The factory's binary, compiled now unless an earlier run already did; `VerifierError`
    if no C compiler is on PATH or the build fails."""
    compiler = next((found for name in COMPILERS if (found := shutil.which(name))), None)
    if compiler is None:
        raise VerifierError(
            f"no C compiler ({', '.join(COMPILERS)}) on PATH to build the run servers' "
            "standby factory"
        )
    source = SOURCE.read_bytes()
    compiler_file = os.stat(os.path.realpath(compiler))
    key = hashlib.sha256(
        source
        + f"\0{os.path.realpath(compiler)}\0{compiler_file.st_size}".encode()
        + f"\0{compiler_file.st_mtime_ns}".encode()
    ).hexdigest()[:16]
    binary = cache_root() / "standby-factory" / key / "standby-factory"
    if binary.is_file():
        return binary
    staged = binary.with_name(f".standby-factory.{os.getpid()}.tmp")
    try:
        binary.parent.mkdir(parents=True, exist_ok=True)
        built = subprocess.run(
            [compiler, "-O2", "-o", str(staged), "-x", "c", str(SOURCE)],
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
        if built.returncode != 0:
            raise VerifierError(
                f"{compiler} could not build the standby factory ({SOURCE.name}): "
                f"{built.stderr.strip()[-2000:]}"
            )
        os.replace(staged, binary)  # atomic: a concurrent build replaces it with the same
    except (OSError, subprocess.TimeoutExpired) as error:
        raise VerifierError(f"{compiler} could not build the standby factory: {error}") from None
    finally:
        with contextlib.suppress(OSError):
            staged.unlink(missing_ok=True)
    return binary
