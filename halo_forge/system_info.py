"""What this machine offers halo-forge: versions, accelerator, toolchains, sandbox, extras.

Behind `halo-forge info`; also useful in bug reports. Every probe is cheap and never fails:
a missing tool is reported as missing, not raised.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field

#: Toolchains the verifiers can use: (label, executables to look for, version flag).
TOOLCHAINS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("gcc", ("gcc",), "--version"),
    ("g++", ("g++",), "--version"),
    ("clang", ("clang",), "--version"),
    ("mingw (x86_64-w64-mingw32-g++)", ("x86_64-w64-mingw32-g++",), "--version"),
    ("rustc", ("rustc",), "--version"),
    ("cargo", ("cargo",), "--version"),
    ("go", ("go",), "version"),
    ("dotnet", ("dotnet",), "--version"),
    ("mono (mcs)", ("mcs",), "--version"),
    ("pwsh", ("pwsh",), "--version"),
    ("python", ("python3", "python"), "--version"),
)

#: Optional extras and the module that proves each is installed.
EXTRAS: dict[str, str] = {"llm": "openai", "vllm": "vllm", "wandb": "wandb"}


@dataclass
class Accelerator:
    kind: str  # "CUDA", "ROCm", "MPS" or "CPU"
    name: str
    memory_gb: float | None


@dataclass
class SystemInfo:
    python: str
    platform: str
    packages: dict[str, str | None]
    accelerator: Accelerator
    cpu_cores: int
    ram_gb: float | None
    toolchains: dict[str, str | None]  # label -> first line of --version, or None when missing
    extras: dict[str, bool]
    sandbox: list[tuple[str, str, bool]] = field(default_factory=list)
    sandbox_warnings: list[str] = field(default_factory=list)


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def detect_accelerator() -> Accelerator:
    """CUDA, ROCm (HIP builds of torch report through the CUDA API), Apple MPS, else CPU."""
    try:
        import torch
    except ImportError:
        return Accelerator("CPU", platform.processor() or platform.machine(), None)
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        kind = "ROCm" if getattr(torch.version, "hip", None) else "CUDA"
        count = torch.cuda.device_count()
        name = properties.name + (f" (x{count})" if count > 1 else "")
        return Accelerator(kind, name, round(properties.total_memory / 2**30, 1))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return Accelerator("MPS", "Apple GPU (unified memory)", None)
    return Accelerator("CPU", platform.processor() or platform.machine(), None)


def total_ram_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def toolchain_version(executables: tuple[str, ...], version_flag: str) -> str | None:
    """First line of `<tool> <flag>` for the first executable found on PATH, else None."""
    for executable in executables:
        path = shutil.which(executable)
        if path is None:
            continue
        try:
            completed = subprocess.run(
                [path, version_flag], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return f"{path} (version unknown)"
        output = (completed.stdout or completed.stderr).strip().splitlines()
        return output[0] if output else path
    return None


def collect_system_info() -> SystemInfo:
    """Probe everything `halo-forge info` shows."""
    from halo_forge.verifiers.sandbox import isolation_report

    isolation = isolation_report()
    return SystemInfo(
        python=platform.python_version(),
        platform=platform.platform(),
        packages={
            name: package_version(name)
            for name in ("halo-forge", "torch", "transformers", "peft", "trl")
        },
        accelerator=detect_accelerator(),
        cpu_cores=os.cpu_count() or 1,
        ram_gb=total_ram_gb(),
        toolchains={label: toolchain_version(exes, flag) for label, exes, flag in TOOLCHAINS},
        extras={
            extra: importlib.util.find_spec(module) is not None for extra, module in EXTRAS.items()
        },
        sandbox=isolation.as_rows(),
        sandbox_warnings=list(isolation.warnings),
    )
