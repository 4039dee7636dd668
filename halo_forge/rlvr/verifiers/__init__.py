"""Verifiers under their original import path; the code lives in `halo_forge.verifiers`.

Every public name of `halo_forge.verifiers` is available here, imported on first use like
there, so `from halo_forge.rlvr.verifiers import GCCVerifier` loads only the compile verifiers.
"""

from __future__ import annotations

import halo_forge.verifiers as _verifiers
from halo_forge.lazy_exports import lazy_exports

__all__ = list(_verifiers.__all__)

__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(__all__, "verifiers"), under="halo_forge"
)
