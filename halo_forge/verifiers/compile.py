"""Compile verifiers: GCC and Clang (compile, optionally run), MinGW (Windows PE, compile only).

The reward follows `RewardLevel`: a failed compile is classified from the compiler's own
diagnostics (0.0 syntax, 0.1 missing declaration, 0.2 semantic or link error); a program that
compiles scores 0.3 with warnings and 0.5 clean; with `run_after_compile` its runs decide
(0.6 crash or timeout, 0.7 wrong output, 0.8 some test cases pass, 1.0 correct).

What "compiles" means, and how it is checked fast:

- `link=True` (default) asks what `g++ -std=c++17 -O2 prog.cpp -o prog` answers: the program
  compiles AND links, so one without `main` or with an undefined reference does not count.
  Use it for whole programs. Optimisation can decide whether a program links: at `-O0` a call
  in dead code, or a `static const` member passed by reference to `std::max`, leaves an
  undefined reference that `-O2` optimises away. Optimisation removes references rather than
  adding ones the libraries lack, so the check builds at `-O0` first (about half the cost of an
  `-O2` build) and rebuilds at `optimization` (default `-O2`) only when that link fails: the
  verdict is the `-O2` one, and only programs with link errors pay for two builds (not those
  without `main`: the startup code references it at every level). Warnings then come from
  the `-O0` build, which lacks the few that need the optimiser's analysis
  (`-Wmaybe-uninitialized`); `fast_link_check=False` builds every check at `optimization`.
- `link=False` checks the translation unit alone with `-fsyntax-only` (no code generation,
  no linking): use it for prompts that ask for a function or a class, not a program.
- A program that runs (or whose binary is kept) is built at `optimization`, always.
- A sample's `tests` context is test code compiled after the program (HumanEval-X style),
  such as a `main` that reads a test input, calls the function the prompt asked for and
  prints the result: a prompt can ask for a function while its runs still check a program.

Both go through the sandbox (the compiler's input is untrusted too). Programs that start with
the same system includes share a precompiled header (`pch.py`), which cuts the cost of
`<bits/stdc++.h>` from about a second to a fifth of that. Warnings are on by default
(`-Wall`), so the 0.3 tier is reachable.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.cache import default_cache_dir
from halo_forge.verifiers.compile_options import CompileOptions, MinGWOptions
from halo_forge.verifiers.compile_results import (
    compiled_result,
    failure_result,
    no_code_result,
    timeout_result,
)
from halo_forge.verifiers.diagnostics import (
    classify_failure,
    count_warnings,
    only_entry_point_undefined,
)
from halo_forge.verifiers.pch import PrecompiledHeaders
from halo_forge.verifiers.registry import register_verifier, validate_options
from halo_forge.verifiers.sandbox import Sandbox, SandboxLimits, SandboxResult, Workspace
from halo_forge.verifiers.testcases import (
    cases_from_context,
    verify_runs,
)
from halo_forge.verifiers.toolchain import (
    COMPILER_ENVIRONMENT,
    Toolchain,
    compiler_version,
    resolve_compiler,
)

#: Fence tags of C and C++ code in model output.
C_FAMILY_LANGUAGES = ("c", "cpp", "c++", "cc", "cxx", "h", "hpp")
#: Address-space limit of a compiler run: cc1plus maps a 100 MB PCH and grows with templates.
COMPILER_MEMORY_LIMIT_MB = 2048
DEFAULT_FLAGS = {"c++": ["-std=c++17", "-Wall"], "c": ["-std=gnu17", "-Wall"]}
SOURCE_SUFFIX = {"c++": ".cpp", "c": ".c"}
HEADER_LANGUAGE = {"c++": "c++-header", "c": "c-header"}
#: Optimisation level of the first build of a link check (see the module docstring).
FAST_LINK_CHECK_OPTIMIZATION = "-O0"


@dataclass(frozen=True)
class _Build:
    """One way a check compiles: an optimisation level and the PCHs built at that level."""

    optimization: str
    headers: PrecompiledHeaders | None


class CompileVerifier(Verifier):
    """Compile (and optionally run) C or C++ programs with one toolchain."""

    toolchain: ClassVar[Toolchain]
    options_model: ClassVar[type[CompileOptions]] = CompileOptions
    verifier_name: ClassVar[str]
    languages = C_FAMILY_LANGUAGES
    context_keys = ("expected_output", "stdin", "test_cases", "tests")

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(self.options_model, options, owner=type(self).__name__)
        super().__init__(max_workers=self.options.max_workers, use_cache=self.options.use_cache)
        language = self.options.language
        self.compiler = resolve_compiler(self.toolchain, language, self.options.compiler)
        self.compiler_version = compiler_version(self.compiler)
        self.flags = list(
            self.options.flags if self.options.flags is not None else DEFAULT_FLAGS[language]
        )
        if self.options.warn_as_error:
            self.flags.append("-Werror")
        self._builds = [
            _Build(level, self._precompiled_headers(level)) for level in self._optimization_levels()
        ]
        pch_directories = tuple(
            build.headers.directory for build in self._builds if build.headers is not None
        )
        # Compiles may read the PCH directories (bound into their sandbox, which has a private
        # /tmp); the programs they build run in a second sandbox that cannot reach them.
        self._compile_sandbox = Sandbox(
            SandboxLimits(
                wall_timeout_s=self.options.timeout,
                memory_limit_mb=COMPILER_MEMORY_LIMIT_MB,
                max_file_size_mb=512,
            ),
            writable_paths=pch_directories,
        )
        self._run_sandbox = Sandbox(
            SandboxLimits(
                wall_timeout_s=self.options.run_timeout,
                memory_limit_mb=self.options.memory_limit_mb,
            )
        )

    # ------------------------------------------------------------------ what a check compiles

    @property
    def builds_binary(self) -> bool:
        """Whether a check produces a binary (to run or keep) rather than only a verdict."""
        return self.options.run_after_compile or self.options.binary_cache_dir is not None

    @property
    def _syntax_only(self) -> bool:
        return not (self.builds_binary or self.options.link)

    def _optimization_levels(self) -> list[str]:
        """Levels a check builds at, in order; a later one runs only after a failed link."""
        reference = self.options.optimization
        fast = FAST_LINK_CHECK_OPTIMIZATION
        if self.builds_binary or self._syntax_only or not self.options.fast_link_check:
            return [reference]
        return [fast] if reference == fast else [fast, reference]

    def _precompiled_headers(self, optimization: str) -> PrecompiledHeaders | None:
        if not self.options.precompiled_headers or self.options.language != "c++":
            return None  # C headers are small: a PCH would cost more than it saves
        # A PCH fits only the optimisation level it was built at (`__OPTIMIZE__` differs).
        flags = [optimization, *self.flags]
        return PrecompiledHeaders(
            compiler=self.compiler,
            flags=flags,
            identity=[self.compiler, self.compiler_version, *flags],
            header_language=HEADER_LANGUAGE[self.options.language],
            pch_suffix=".pch" if self.toolchain.name == "clang" else ".gch",
            directory=default_cache_dir() / "pch",
            build_timeout_s=max(self.options.timeout, 120.0),
        )

    def cache_fingerprint(self) -> dict[str, Any] | None:
        if self.options.binary_cache_dir is not None:
            return None  # the binary itself is the product, so every check must build it
        options = self.options.model_dump(
            mode="json", exclude={"max_workers", "use_cache", "precompiled_headers"}
        )
        return {
            "verifier": self.verifier_name,
            "options": options,
            "compiler": self.compiler,
            "compiler_version": self.compiler_version,
        }

    def prepare(self, programs: list[str]) -> None:
        # Only the first build's PCHs are planned; a rebuild after a failed link builds the
        # PCH of its level lazily, for the prefixes the first build used.
        headers = self._builds[0].headers
        if headers is not None:
            headers.plan(programs, self.max_workers)

    # ------------------------------------------------------------------ verification

    def verify(self, code: str, **context: Any) -> VerifyResult:
        """Compile `code` (a model answer; the program is extracted) and score it."""
        program = self.extract_code(code)
        metadata: dict[str, Any] = {
            "compiler": Path(self.compiler).name,
            "compiler_version": self.compiler_version,
        }
        if not program.strip():
            return no_code_result("C/C++", self.languages, metadata)
        with self._compile_sandbox.workspace() as workspace:
            if context.get("tests"):
                program = f"{program.rstrip()}\n\n{context['tests'].strip()}\n"
            compiled = self._compile(workspace, program, metadata)
            if compiled is not None:
                return compiled
            if self.options.binary_cache_dir is not None:
                metadata["binary_path"] = self._keep_binary(workspace, program)
            if not self.options.run_after_compile:
                return compiled_result(metadata["warnings"], metadata)
            return self._run(workspace, context, metadata)

    def _compile(
        self, workspace: Workspace, program: str, metadata: dict[str, Any]
    ) -> VerifyResult | None:
        """Compile in `workspace`; the failure result, or None when the program compiled."""
        source = workspace.write(f"prog{SOURCE_SUFFIX[self.options.language]}", program)
        first, *rebuilds = self._builds
        result, include = self._build(workspace, source.name, program, first)
        output = result.stderr + result.stdout
        metadata["optimization"] = first.optimization
        if rebuilds and self._failed_to_link(result, output):
            rebuild = rebuilds[0]
            prefix = first.headers.prefix_for(program) if first.headers else None
            if prefix is not None and rebuild.headers is not None:
                rebuild.headers.build(prefix)
            result, include = self._build(workspace, source.name, program, rebuild)
            output = result.stderr + result.stdout
            metadata["optimization"] = rebuild.optimization
        metadata["precompiled_header"] = bool(include)
        metadata["warnings"] = count_warnings(output)
        if result.ok:
            return None
        return self._compile_failure(result, output, metadata)

    def _build(
        self, workspace: Workspace, source: str, program: str, build: _Build
    ) -> tuple[SandboxResult, list[str]]:
        """One compile of `source` the way `build` says; the result and the PCH flags it used."""
        include = build.headers.include_flags(program) if build.headers is not None else []
        result = self._run_compiler(workspace, source, include, build.optimization)
        pch_directory = str(build.headers.directory) if build.headers is not None else None
        if include and not result.ok and pch_directory and pch_directory in result.stderr:
            # The failure involves the PCH itself (deleted, or stale after a library upgrade,
            # which Clang rejects): the plain compile decides.
            include = []
            result = self._run_compiler(workspace, source, include, build.optimization)
        return result, include

    @staticmethod
    def _failed_to_link(result: SandboxResult, output: str) -> bool:
        """Whether the build failed at link time in a way optimisation might change."""
        if result.ok or result.timed_out or classify_failure(output).kind != "link":
            return False
        return not only_entry_point_undefined(output)

    def _run_compiler(
        self, workspace: Workspace, source: str, include: list[str], optimization: str
    ) -> SandboxResult:
        argv = [self.compiler, optimization, *self.flags, *include, source]
        if self._syntax_only:
            argv.insert(2, "-fsyntax-only")
        else:
            argv += [*self.toolchain.linker_flags(), "-o", self._binary_name]
        return workspace.run(argv, env=COMPILER_ENVIRONMENT)

    def _compile_failure(
        self, result: SandboxResult, output: str, metadata: dict[str, Any]
    ) -> VerifyResult:
        if result.timed_out:
            return timeout_result(self.options.timeout, output, metadata)
        return failure_result(classify_failure(output), output, result.returncode, metadata)

    def _run(
        self, workspace: Workspace, context: dict[str, Any], metadata: dict[str, Any]
    ) -> VerifyResult:
        cases = cases_from_context(context, self.options.stdin_input, self.options.expected_output)
        argv = [f"./{self._binary_name}"]
        return verify_runs(self._run_sandbox, workspace.path, argv, cases, metadata)

    @property
    def _binary_name(self) -> str:
        return f"prog{self.toolchain.binary_suffix}"

    def _keep_binary(self, workspace: Workspace, program: str) -> str:
        """Copy the built binary to `binary_cache_dir` under a name derived from its source."""
        directory = Path(self.options.binary_cache_dir or ".")
        directory.mkdir(parents=True, exist_ok=True)
        identity = "\0".join(
            [self.compiler_version, self.options.optimization, *self.flags, program]
        )
        name = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]
        target = directory / f"{name}{self.toolchain.binary_suffix}"
        shutil.copy2(workspace.path / self._binary_name, target)
        return str(target)


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


@register_verifier("gcc", options=CompileOptions)
class GCCVerifier(CompileVerifier):
    """Compile C/C++ with GCC (g++/gcc), optionally run and check the output."""

    toolchain = GCC
    verifier_name = "gcc"


@register_verifier("clang", options=CompileOptions)
class ClangVerifier(CompileVerifier):
    """Compile C/C++ with Clang (clang++/clang), optionally run and check the output."""

    toolchain = CLANG
    verifier_name = "clang"


@register_verifier("mingw", options=MinGWOptions)
class MinGWVerifier(CompileVerifier):
    """Cross-compile C/C++ to Windows PE with MinGW-w64 (compile only)."""

    toolchain = MINGW
    options_model = MinGWOptions
    verifier_name = "mingw"
