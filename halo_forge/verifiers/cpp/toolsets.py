"""How C and C++ programs compile: the toolchains, and one toolset per language and verifier.

A toolset is a compiler, its version, the flags, the precompiled headers (`pch.py`) of each
optimisation level a check may build at, and the sandbox compiles run in (which may write the
PCH directories). `Toolsets` sets one up when the first sample of its language comes, so only
the toolchains that occur are needed, and plans each batch's PCHs when the first sample that
needs them compiles: which PCHs a sample uses depends on its language and on whether it runs
(runs build at `optimization`, link checks at -O0 first; see `compile.py`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from halo_forge.errors import VerifierError
from halo_forge.verifiers.build.testcases import RUN_CHECK_KEYS
from halo_forge.verifiers.build.toolchain import Toolchain, compiler_version, resolve_compiler
from halo_forge.verifiers.cache import default_cache_dir
from halo_forge.verifiers.cpp.options import CompileOptions
from halo_forge.verifiers.cpp.pch import PrecompiledHeaders
from halo_forge.verifiers.sandbox import Sandbox, SandboxLimits

#: Spellings of C and C++ (fence tags and record `language` values) -> the language compiled.
C_FAMILY_SPELLINGS = {
    "c": "c",
    "cpp": "c++",
    "c++": "c++",
    "cc": "c++",
    "cxx": "c++",
    "h": "c",
    "hpp": "c++",
}
#: Fence tags of C and C++ code in model output.
C_FAMILY_LANGUAGES = tuple(C_FAMILY_SPELLINGS)
#: Language of a sample that names none.
DEFAULT_LANGUAGE = "c++"
#: What a compile verifier's runs can check: the test cases, and test code compiled in.
COMPILE_CHECK_KEYS = (*RUN_CHECK_KEYS, "tests")
#: Address-space limit of a compiler run: cc1plus maps a 100 MB PCH and grows with templates.
COMPILER_MEMORY_LIMIT_MB = 2048
DEFAULT_FLAGS = {"c++": ["-std=c++17", "-Wall"], "c": ["-std=gnu17", "-Wall"]}
SOURCE_SUFFIX = {"c++": ".cpp", "c": ".c"}
HEADER_LANGUAGE = {"c++": "c++-header", "c": "c-header"}
#: Optimisation level of the first build of a link check (see the module docstring).
FAST_LINK_CHECK_OPTIMIZATION = "-O0"

GCC = Toolchain(name="gcc", executables={"c++": "g++", "c": "gcc"}, package="g++", elf_target=True)
CLANG = Toolchain(
    name="clang", executables={"c++": "clang++", "c": "clang"}, package="clang", elf_target=True
)
MINGW = Toolchain(
    name="mingw",
    executables={"c++": "x86_64-w64-mingw32-g++", "c": "x86_64-w64-mingw32-gcc"},
    package="mingw-w64",
    binary_suffix=".exe",
)


@dataclass
class LanguageToolset:
    """How programs of one language compile: compiler, flags, PCHs and their compile sandbox."""

    language: str
    compiler: str
    compiler_version: str
    flags: list[str]
    headers: dict[str, PrecompiledHeaders]  # optimisation level -> PCHs (C++ only)
    sandbox: Sandbox  # may write the PCH directories of `headers`
    planned: set[str] = field(default_factory=set)  # levels whose PCHs this batch planned
    plan_lock: threading.Lock = field(default_factory=threading.Lock)


class Toolsets:
    """The toolsets of one verifier, one per language, and the PCH plan of the current batch.

    Thread-safe: the verifier's worker threads share it.
    """

    def __init__(self, toolchain: Toolchain, options: CompileOptions, max_workers: int) -> None:
        self.toolchain = toolchain
        self.options = options
        self.max_workers = max_workers
        self._toolsets: dict[str, LanguageToolset] = {}
        self._lock = threading.Lock()
        self._batch_programs: list[str] = []

    def get(self, language: str) -> LanguageToolset:
        """How `language` compiles, set up on first use (VerifierError if its compiler is missing)."""
        with self._lock:
            if language not in self._toolsets:
                self._toolsets[language] = self._new_toolset(language)
            return self._toolsets[language]

    def _new_toolset(self, language: str) -> LanguageToolset:
        compiler = resolve_compiler(self.toolchain, language, self.options.compiler)
        version = compiler_version(compiler)
        flags = list(
            self.options.flags if self.options.flags is not None else DEFAULT_FLAGS[language]
        )
        if self.options.warn_as_error:
            flags.append("-Werror")
        headers = {
            level: self._precompiled_headers(language, compiler, version, flags, level)
            for level in self._header_levels(language)
        }
        # Compiles may read the PCH directories (bound into their sandbox, which has a private
        # /tmp); the programs they build run in a sandbox of their own, which cannot reach them.
        sandbox = Sandbox(
            self.build_limits(),
            writable_paths=tuple(pch.directory for pch in headers.values()),
            readable_paths=self.options.expose_paths,
        )
        return LanguageToolset(language, compiler, version, flags, headers, sandbox)

    def build_limits(self) -> SandboxLimits:
        """The limits of every compile."""
        return SandboxLimits(
            wall_timeout_s=self.options.timeout,
            memory_limit_mb=COMPILER_MEMORY_LIMIT_MB,
            max_file_size_mb=512,
            disk_limit_mb=self.options.disk_limit_mb,
        )

    def header_directories(self) -> list[Path]:
        """Where this verifier's PCHs live (made now if missing): compiles read them."""
        if not self.options.precompiled_headers:
            return []
        directory = pch_directory()
        directory.mkdir(parents=True, exist_ok=True)
        return [directory]

    def _header_levels(self, language: str) -> list[str]:
        """Optimisation levels a check of `language` may build at with a PCH (none for C)."""
        if not self.options.precompiled_headers or language != "c++":
            return []  # C headers are small: a PCH would cost more than it saves
        reference = self.options.optimization
        if not self.options.fast_link_check:
            return [reference]
        return list(dict.fromkeys([FAST_LINK_CHECK_OPTIMIZATION, reference]))

    def _precompiled_headers(
        self, language: str, compiler: str, version: str, flags: list[str], optimization: str
    ) -> PrecompiledHeaders:
        # A PCH fits only the optimisation level it was built at (`__OPTIMIZE__` differs).
        pch_flags = [optimization, *flags]
        return PrecompiledHeaders(
            compiler=compiler,
            flags=pch_flags,
            identity=[compiler, version, *pch_flags],
            header_language=HEADER_LANGUAGE[language],
            pch_suffix=".pch" if self.toolchain.name == "clang" else ".gch",
            directory=pch_directory(),
            build_timeout_s=max(self.options.timeout, 120.0),
        )

    def optimization_levels(self, builds_binary: bool) -> list[str]:
        """Levels a check builds at, in order; a later one runs only after a failed link."""
        reference = self.options.optimization
        fast = FAST_LINK_CHECK_OPTIMIZATION
        if builds_binary or not self.options.link or not self.options.fast_link_check:
            return [reference]
        return [fast] if reference == fast else [fast, reference]

    def compilers(self) -> dict[str, list[str] | None]:
        """Path and version of each language's compiler (None where it is missing): a result
        is keyed by the compiler that made it, without requiring a toolchain no sample uses."""
        languages = [self.options.language] if self.options.language else list(DEFAULT_FLAGS)
        compilers: dict[str, list[str] | None] = {}
        for language in languages:
            try:
                path = resolve_compiler(self.toolchain, language, self.options.compiler)
            except VerifierError:
                compilers[language] = None
                continue
            compilers[language] = [path, compiler_version(path)]
        return compilers

    def new_batch(self, programs: list[str]) -> None:
        """Keep a batch's programs; the PCHs of a language and level are planned over them when
        the first sample that needs them compiles (`plan_headers`)."""
        with self._lock:
            self._batch_programs = list(programs)
            toolsets = list(self._toolsets.values())
        for toolset in toolsets:
            with toolset.plan_lock:
                toolset.planned.clear()

    def plan_headers(self, toolset: LanguageToolset, level: str) -> None:
        """Build the PCHs the batch's programs share at `level`, once per batch."""
        headers = toolset.headers.get(level)
        if headers is None:
            return
        with toolset.plan_lock:  # the batch's other samples wait for the PCHs they share
            if level not in toolset.planned:
                toolset.planned.add(level)
                headers.plan(self._batch_programs, self.max_workers)


def pch_directory() -> Path:
    """The directory of every verifier's precompiled headers, under the cache directory."""
    return default_cache_dir() / "pch"
