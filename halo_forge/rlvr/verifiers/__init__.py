"""Verifiers under their original import path; the code lives in `halo_forge.verifiers`.

Every public name of `halo_forge.verifiers` is available here, imported on first use like
there, so `from halo_forge.rlvr.verifiers import GCCVerifier` loads only the compile verifiers.
"""

from __future__ import annotations

from typing import Any

import halo_forge.verifiers as _verifiers

__all__ = list(_verifiers.__all__)


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(_verifiers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
