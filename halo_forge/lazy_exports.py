"""Package attributes imported on first use, so importing a package stays cheap.

`halo_forge.verifiers` must never pull in torch and `halo_forge.benchmark` should not until a
model is sampled; each lists its public names in a table and lets this module resolve them.
A package that re-exports another's names under an older path (`halo_forge.rlvr`) resolves
them the same way, in the package they live in.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], *, under: str | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`, where `exports` maps a name to its submodule.

    Submodules are found in `under` (a package name) when given, else in `package` itself.
    """
    parent = under or package

    def __getattr__(name: str) -> Any:
        submodule = exports.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{parent}.{submodule}"), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
