"""Compile verifiers: GCC and Clang (compile, then run), MinGW (Windows PE, compile only).

The reward follows `RewardLevel`: a failed compile is classified from the compiler's own
diagnostics (0.0 syntax, 0.1 missing declaration, 0.2 semantic or link error); a program that
compiles scores 0.3 with warnings and 0.5 clean; a program that runs is scored by its runs
(0.6 crash or timeout, 0.7 wrong output, 0.8 some test cases pass, 1.0 correct).

The defaults follow each sample, so a wrong program never counts as a pass:

- it runs whenever it has something to be checked against (`test_cases`, `expected_output`,
  `stdin`, test code in `tests`, or the verifier's `expected_output`/`stdin_input`), unless
  `run_after_compile` is false; then the result says `metadata["compile_only"]`. With nothing
  to check, it is compiled only (0.3/0.5), as `run_after_compile=True` would only ask that a
  run completes. MinGW builds cannot run here: its results are always compile-only.
- it compiles as the language it is written in: the `language` option when set, else the
  sample's `language` (c, cpp, c++, cc, cxx), else the tag of its first C/C++ code block
  (```c is C), else C++. Compiler, flags, source suffix and PCHs (C++ only) follow that
  language; each language's compiler is looked up when its first sample comes, so only the
  toolchains that occur are needed. `metadata["language"]` says which one was used.

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

Both go through the sandbox (the compiler's input is untrusted too). C++ programs that start
with the same system includes share a precompiled header (`pch.py`), which cuts the cost of
`<bits/stdc++.h>` from about a second to a fifth of that. Which PCHs a batch needs depends on
each sample's language and on whether it runs (runs build at `optimization`, link checks at
`-O0` first), so a batch's PCHs are planned when the first sample that needs them compiles
(`toolsets.py`). Warnings are on by default (`-Wall`), so the 0.3 tier is reachable.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.build.diagnostics import (
    classify_failure,
    count_warnings,
    only_entry_point_undefined,
)
from halo_forge.verifiers.build.results import (
    compiled_result,
    failure_result,
    no_code_result,
    timeout_result,
)
from halo_forge.verifiers.build.testcases import (
    ProgramRunner,
    carries_run_checks,
    plan_run,
    verify_sample_runs,
    with_test_code,
)
from halo_forge.verifiers.build.toolchain import COMPILER_ENVIRONMENT, Toolchain
from halo_forge.verifiers.cpp.options import CompileOptions, MinGWOptions
from halo_forge.verifiers.cpp.server_build import BuildPlace, ServerBuild
from halo_forge.verifiers.cpp.toolsets import (
    C_FAMILY_LANGUAGES,
    C_FAMILY_SPELLINGS,
    CLANG,
    COMPILE_CHECK_KEYS,
    DEFAULT_LANGUAGE,
    GCC,
    MINGW,
    SOURCE_SUFFIX,
    LanguageToolset,
    Toolsets,
)
from halo_forge.verifiers.extract import fenced_blocks
from halo_forge.verifiers.registry import register_verifier, validate_options
from halo_forge.verifiers.sandbox import SandboxLimits, SandboxResult, Workspace
from halo_forge.verifiers.sandbox.run_pool import RunServerPool, RunSession
from halo_forge.verifiers.sandbox.view import in_the_system


class CompileVerifier(Verifier):
    """Compile (and, where the sample can be checked, run) C or C++ programs with one toolchain."""

    toolchain: ClassVar[Toolchain]
    options_model: ClassVar[type[CompileOptions]]
    #: Whether the toolchain's binaries run on this machine (MinGW's Windows binaries do not).
    can_run_programs: ClassVar[bool] = True
    languages = C_FAMILY_LANGUAGES
    context_keys = ("expected_output", "stdin", "test_cases", "tests", "language")

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(self.options_model, options, owner=type(self).__name__)
        super().__init__(max_workers=self.options.max_workers, use_cache=self.options.use_cache)
        self.toolsets = Toolsets(self.toolchain, self.options, self.max_workers)
        # Programs run on warm run servers (one per worker), in a sandbox of their own that
        # cannot reach the PCH directories, each run in an empty capped scratch of its own.
        # Where the compiler is the system's, a sample that runs is compiled there too (one
        # sandbox start less), reading the PCHs but never writing them.
        self._runs = RunServerPool(
            self.max_workers,
            SandboxLimits(
                wall_timeout_s=self.options.run_timeout,
                memory_limit_mb=self.options.memory_limit_mb,
                disk_limit_mb=self.options.disk_limit_mb,
            ),
            readable_paths=(*self.options.expose_paths, *self.toolsets.header_directories()),
            build_limits=self.toolsets.build_limits(),
        )
        if self.options.language is not None or self.options.compiler is not None:
            # Every sample needs this compiler: a missing one fails now, before any is scored.
            self.toolsets.get(self.options.language or DEFAULT_LANGUAGE)

    def cleanup(self) -> None:
        """Stop the run servers (the next sample starts new ones)."""
        self._runs.close()

    def language_of(self, text: str, context: Mapping[str, Any]) -> str:
        """The language a sample compiles as ("c" or "c++"): the `language` option, else the
        context's `language`, else the tag of the answer's first C/C++ code block, else C++."""
        if self.options.language is not None:
            return self.options.language
        declared = context.get("language")
        if isinstance(declared, str) and declared.strip().lower() in C_FAMILY_SPELLINGS:
            return C_FAMILY_SPELLINGS[declared.strip().lower()]
        for block in fenced_blocks(text):
            if block.language in C_FAMILY_SPELLINGS:
                return C_FAMILY_SPELLINGS[block.language]
        return DEFAULT_LANGUAGE

    def cache_context(self, text: str, context: dict[str, Any]) -> dict[str, Any]:
        # The language can come from the answer's fence tag, which extraction strips.
        return {**super().cache_context(text, context), "language": self.language_of(text, context)}

    def cache_fingerprint(self) -> dict[str, Any] | None:
        if self.options.binary_cache_dir is not None:
            return None  # the binary itself is the product, so every check must build it
        options = self.options.model_dump(
            mode="json", exclude={"max_workers", "use_cache", "precompiled_headers"}
        )
        return {
            "verifier": self.verifier_name,
            "options": options,
            "compilers": self.toolsets.compilers(),
        }

    def prepare(self, programs: list[str]) -> None:
        # Which PCHs a sample uses depends on its language and on whether it runs, which only
        # `verify` knows: the PCHs are planned when the first sample that needs them compiles.
        self.toolsets.new_batch(programs)

    # ------------------------------------------------------------------ verification

    def verify(self, code: str, **context: Any) -> VerifyResult:
        """Compile `code` (a model answer; the program is extracted) and score it."""
        program = self.extract_code(code)
        toolset = self.toolsets.get(self.language_of(code, context))
        metadata: dict[str, Any] = {
            "language": toolset.language,
            "compiler": Path(toolset.compiler).name,
            "compiler_version": toolset.compiler_version,
        }
        has_checks = carries_run_checks(
            context, self.options.stdin_input, self.options.expected_output, COMPILE_CHECK_KEYS
        )
        run_option = self.options.run_after_compile if self.can_run_programs else False
        runs = plan_run(run_option, has_checks, metadata)
        if not program.strip():
            return no_code_result("C/C++", self.languages, metadata)
        program = with_test_code(program, context)
        if runs and self.options.binary_cache_dir is None and in_the_system(toolset.compiler):
            with self._runs.session({}) as session:
                if isinstance(session, RunSession):  # else no server runs here: below
                    build = ServerBuild(session, toolset.sandbox.limits, self._binary_name)
                    failure = self._compile(build, toolset, program, True, metadata)
                    if failure is not None:
                        return failure
                    return self._run_cases(session, Path(), context, metadata)
        builds_binary = runs or self.options.binary_cache_dir is not None
        with toolset.sandbox.workspace() as workspace:
            failure = self._compile(workspace, toolset, program, builds_binary, metadata)
            if failure is not None:
                return failure
            if self.options.binary_cache_dir is not None:
                metadata["binary_path"] = self._keep_binary(workspace, toolset, program)
            if not runs:
                return compiled_result(metadata["warnings"], metadata)
            name = self._binary_name
            with self._runs.session({name: (workspace.path / name).read_bytes()}) as runner:
                return self._run_cases(runner, workspace.path, context, metadata)

    def _compile(
        self,
        workspace: BuildPlace,
        toolset: LanguageToolset,
        program: str,
        builds_binary: bool,
        metadata: dict[str, Any],
    ) -> VerifyResult | None:
        """Compile in `workspace`; the failure result, or None when the program compiled."""
        source = workspace.write(f"prog{SOURCE_SUFFIX[toolset.language]}", program)
        syntax_only = not (builds_binary or self.options.link)
        first, *rebuilds = self.toolsets.optimization_levels(builds_binary)
        self.toolsets.plan_headers(toolset, first)
        result, include = self._build(workspace, toolset, source.name, program, first, syntax_only)
        output = result.stderr + result.stdout
        metadata["optimization"] = first
        if rebuilds and self._failed_to_link(result, output):
            rebuild = rebuilds[0]
            first_headers, rebuild_headers = (
                toolset.headers.get(first),
                toolset.headers.get(rebuild),
            )
            prefix = first_headers.prefix_for(program) if first_headers else None
            if prefix is not None and rebuild_headers is not None:
                rebuild_headers.build(prefix)  # the PCH of the level the first build used
            result, include = self._build(
                workspace, toolset, source.name, program, rebuild, syntax_only
            )
            output = result.stderr + result.stdout
            metadata["optimization"] = rebuild
        metadata["precompiled_header"] = bool(include)
        metadata["warnings"] = count_warnings(output)
        if result.ok:
            return None
        return self._compile_failure(result, output, metadata)

    def _build(
        self,
        workspace: BuildPlace,
        toolset: LanguageToolset,
        source: str,
        program: str,
        optimization: str,
        syntax_only: bool,
    ) -> tuple[SandboxResult, list[str]]:
        """One compile of `source` at `optimization`; the result and the PCH flags it used."""
        headers = toolset.headers.get(optimization)
        include = headers.include_flags(program) if headers is not None else []
        argv = self._compiler_argv(toolset, source, include, optimization, syntax_only)
        result = workspace.run(argv, env=COMPILER_ENVIRONMENT)
        pch_directory = str(headers.directory) if headers is not None else None
        if include and not result.ok and pch_directory and pch_directory in result.stderr:
            # The failure involves the PCH itself (deleted, or stale after a library upgrade,
            # which Clang rejects): the plain compile decides.
            include = []
            argv = self._compiler_argv(toolset, source, include, optimization, syntax_only)
            result = workspace.run(argv, env=COMPILER_ENVIRONMENT)
        return result, include

    @staticmethod
    def _failed_to_link(result: SandboxResult, output: str) -> bool:
        """Whether the build failed at link time in a way optimisation might change."""
        if result.ok or result.timed_out or classify_failure(output).kind != "link":
            return False
        return not only_entry_point_undefined(output)

    def _compiler_argv(
        self,
        toolset: LanguageToolset,
        source: str,
        include: list[str],
        optimization: str,
        syntax_only: bool,
    ) -> list[str]:
        # -pipe: the compiler's stages pass the assembly through a pipe, not a temporary file
        # (about 5 ms of a 50 ms build here); the program built is the same.
        argv = [toolset.compiler, optimization, "-pipe", *toolset.flags, *include, source]
        if syntax_only:
            argv.insert(2, "-fsyntax-only")
        else:
            argv += [*self.toolchain.linker_flags(), "-o", self._binary_name]
        return argv

    def _compile_failure(
        self, result: SandboxResult, output: str, metadata: dict[str, Any]
    ) -> VerifyResult:
        if result.timed_out:
            return timeout_result(self.options.timeout, output, metadata)
        return failure_result(classify_failure(output), output, result.returncode, metadata)

    def _run_cases(
        self,
        runner: ProgramRunner,
        workdir: Path,
        context: dict[str, Any],
        metadata: dict[str, Any],
    ) -> VerifyResult:
        argv = [f"./{self._binary_name}"]
        return verify_sample_runs(runner, workdir, argv, context, self.options, metadata)

    @property
    def _binary_name(self) -> str:
        return f"prog{self.toolchain.binary_suffix}"

    def _keep_binary(self, workspace: Workspace, toolset: LanguageToolset, program: str) -> str:
        """Copy the built binary to `binary_cache_dir` under a name derived from its source."""
        directory = Path(self.options.binary_cache_dir or ".")
        directory.mkdir(parents=True, exist_ok=True)
        identity = "\0".join(
            [
                toolset.language,
                toolset.compiler_version,
                self.options.optimization,
                *toolset.flags,
                program,
            ]
        )
        name = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]
        target = directory / f"{name}{self.toolchain.binary_suffix}"
        shutil.copy2(workspace.path / self._binary_name, target)
        return str(target)


@register_verifier("gcc", options=CompileOptions)
class GCCVerifier(CompileVerifier):
    """Compile C/C++ with GCC (g++/gcc); run and check the programs that can be checked."""

    toolchain = GCC


@register_verifier("clang", options=CompileOptions)
class ClangVerifier(CompileVerifier):
    """Compile C/C++ with Clang (clang++/clang); run and check the programs that can be checked."""

    toolchain = CLANG


@register_verifier("mingw", options=MinGWOptions)
class MinGWVerifier(CompileVerifier):
    """Cross-compile C/C++ to Windows PE with MinGW-w64 (compile only)."""

    toolchain = MINGW
    can_run_programs = False
