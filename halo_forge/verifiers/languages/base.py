"""What the Rust, Go and C# verifiers share: build a project in the sandbox, then run tiers.

Each of them writes the sample into a throwaway project directory, runs its toolchain there
through the sandbox (the compiler's input is untrusted too), and scores the outcome on the
graduated `RewardLevel` scale:

- a failed build is classified by a `DiagnosticTable`, a table of the toolchain's own error
  codes and messages; the FIRST error decides, as in `build/diagnostics.py` (later errors are mostly
  knock-on effects);
- a build that succeeds scores 0.3 with warnings (Go: `go vet` findings) and 0.5 clean;
- the built program runs against the sample's test cases (`build/testcases.py`: 0.6 crash or
  timeout, 0.7 wrong output, 0.8 some cases pass, 1.0 correct) whenever the sample has
  something to check a run against (`test_cases`, `expected_output`, `stdin`, or the
  verifier's `expected_output`/`stdin_input`) and `run_after_compile` is not false, or always
  with `run_after_compile=True`; checks that are not run leave `metadata["compile_only"]`;
- a sample with its own unit tests (Rust `#[test]`, Go `_test.go`) is scored by them: the test
  binary is built in the build sandbox and run in the run sandbox, and the fraction of tests
  that pass, on the Python test verifiers' steps (`reward_from_pass_fraction`), lifts the
  reward from the compile tier 0.5 to 1.0 (0.5 none, 0.625 some, 0.75 half, 0.875 three
  quarters, 1.0 all). Tests are counted from the binary's own list of them, so a test that
  hangs, or that a crash keeps from running, counts as failed.

A sample may carry several files: the context key `files` maps relative paths to contents
(e.g. `{"Cargo.toml": ..., "tests/it.rs": ...}` or `{"add_test.go": ...}`). They are written
into the project next to the model's program, which is always the extracted code of the answer
(its file, `src/main.rs` or `src/lib.rs`, `main.go`, `Program.cs`, is never taken from `files`).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import (
    ERROR_EXCERPT_CHARS,
    RewardLevel,
    Verifier,
    VerifyResult,
    reward_from_pass_fraction,
)
from halo_forge.verifiers.build.diagnostics import CompileFailure
from halo_forge.verifiers.build.options import BuildOptions
from halo_forge.verifiers.build.results import (
    compiled_result,
    failure_result,
    no_code_result,
    timeout_result,
)
from halo_forge.verifiers.build.testcases import (
    carries_run_checks,
    describe_failure,
    plan_run,
    verify_sample_runs,
)
from halo_forge.verifiers.build.toolchain import COMPILER_ENVIRONMENT
from halo_forge.verifiers.registry import validate_options
from halo_forge.verifiers.sandbox import Sandbox, SandboxLimits, SandboxResult, Workspace

#: Address space of one build process: rustc (LLVM) and the Go runtime reserve a lot of it.
BUILD_MEMORY_LIMIT_MB = 4096
#: Processes and threads of a build: cargo, rustc and `go build` each start several threads.
BUILD_MAX_PROCESSES = 256


class LanguageOptions(BuildOptions):
    """Options shared by the Rust, Go and C# verifiers (each has a description for `--help`)."""

    timeout: float = Field(60.0, gt=0, description="Seconds allowed for one build step.")


@dataclass(frozen=True)
class DiagnosticRule:
    """One row of a classifier table: errors with one of `codes`, or matching `pattern`."""

    reward: RewardLevel
    kind: str  # "syntax", "missing_declaration", "semantic"
    codes: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None

    def matches(self, code: str | None, message: str) -> bool:
        if code is not None and code in self.codes:
            return True
        return self.pattern is not None and self.pattern.search(message) is not None


@dataclass(frozen=True)
class DiagnosticTable:
    """How to read one toolchain's output: its error and warning lines, and the reward rows.

    `error_line` has the groups `message` and, optionally, `code` (E0308, CS0103). Errors
    that match no row are semantic (0.2); `ignored` drops summary lines ("aborting due to").
    """

    error_line: re.Pattern[str]
    warning_line: re.Pattern[str]
    rules: tuple[DiagnosticRule, ...]
    ignored: re.Pattern[str] | None = None

    def classify(self, output: str) -> CompileFailure:
        """Reward tier of a failed build, from the first error of its output."""
        for match in self.error_line.finditer(output):
            message = match["message"].strip()
            if self.ignored is not None and self.ignored.search(message):
                continue
            code = match.groupdict().get("code")
            described = f"{code}: {message}" if code else message
            for rule in self.rules:
                if rule.matches(code, message):
                    return CompileFailure(rule.reward, rule.kind, described)
            return CompileFailure(RewardLevel.SEMANTIC_ERROR, "semantic", described)
        first_line = next((line.strip() for line in output.splitlines() if line.strip()), "")
        return CompileFailure(RewardLevel.SYNTAX_ERROR, "unknown", first_line or "build failed")

    def count_warnings(self, output: str) -> int:
        return len(self.warning_line.findall(output))


@dataclass
class BuiltProgram:
    """A sample that built: how to run it (in the workspace) and the test binaries it has."""

    run_argv: list[str]
    test_argvs: list[list[str]] = field(default_factory=list)
    warnings: int = 0


class BuildFailed(Exception):
    """A build step failed; carries the scored result (raised by `ToolchainVerifier.build_step`)."""

    def __init__(self, result: VerifyResult) -> None:
        super().__init__(result.details)
        self.result = result


def project_files(context: Mapping[str, Any]) -> dict[str, str]:
    """The sample's extra files (context key `files`: relative path -> text), checked."""
    files = context.get("files") or {}
    if not isinstance(files, Mapping) or not all(
        isinstance(path, str) and isinstance(text, str) for path, text in files.items()
    ):
        raise VerifierError("context 'files' must map relative file paths to file contents")
    for path in files:
        if Path(path).is_absolute() or ".." in Path(path).parts:
            raise VerifierError(f"context 'files' path {path!r} must be relative, without '..'")
    return dict(files)


class ToolchainVerifier(Verifier):
    """Build a sample with one toolchain in the sandbox, then score it (module docstring).

    A subclass finds its tools (`find_tools`) and builds a workspace (`build`), running each
    step through `build_step`; it names its diagnostics table and, if it has unit tests, the
    pattern of one test's outcome in the test binary's output.
    """

    options_model: ClassVar[type[LanguageOptions]]
    language: ClassVar[str]  # canonical language name, recorded in metadata["language"]
    diagnostics: ClassVar[DiagnosticTable]
    #: One test's outcome in a test binary's output (groups `name`, `outcome`), if any.
    test_report: ClassVar[re.Pattern[str] | None] = None
    passing_outcome: ClassVar[str] = ""
    #: Arguments that make a test binary list its tests, and one listed test (group `name`):
    #: a test that never reports (it hangs, or the binary crashes first) still counts.
    test_list_arguments: ClassVar[tuple[str, ...]] = ()
    test_list_entry: ClassVar[re.Pattern[str] | None] = None
    context_keys = ("expected_output", "stdin", "test_cases", "files")

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(self.options_model, options, owner=type(self).__name__)
        super().__init__(max_workers=self.options.max_workers, use_cache=self.options.use_cache)
        self.tools, self.tool_versions = self.find_tools()
        self._build_sandbox = Sandbox(
            SandboxLimits(
                wall_timeout_s=self.options.timeout,
                memory_limit_mb=BUILD_MEMORY_LIMIT_MB,
                max_processes=BUILD_MAX_PROCESSES,
                max_file_size_mb=512,
                disk_limit_mb=self.options.disk_limit_mb,
            ),
            writable_paths=self.writable_paths(),
            readable_paths=self.options.expose_paths,
        )
        # Built programs and test binaries write only a capped scratch that ends with each run.
        self._run_sandbox = Sandbox(
            SandboxLimits(
                wall_timeout_s=self.options.run_timeout,
                memory_limit_mb=self.options.memory_limit_mb,
                disk_limit_mb=self.options.disk_limit_mb,
            ),
            readable_paths=self.options.expose_paths,
            keep_writes=False,
        )

    @abstractmethod
    def find_tools(self) -> tuple[dict[str, str], dict[str, str]]:
        """(tool role -> absolute path, tool role -> version); VerifierError naming the package."""

    @abstractmethod
    def build(
        self, workspace: Workspace, program: str, files: dict[str, str], *, runs: bool
    ) -> BuiltProgram:
        """Write and build the sample in `workspace`; BuildFailed (via `build_step`) if it fails.

        `runs` says whether the program will run: a build may skip code generation when not.
        """

    def writable_paths(self) -> tuple[Path, ...]:
        """Directories builds may write besides their workspace (a shared build cache)."""
        return ()

    def cache_fingerprint(self) -> dict[str, Any] | None:
        options = self.options.model_dump(mode="json", exclude={"max_workers", "use_cache"})
        return {
            "verifier": self.verifier_name,
            "options": options,
            "tools": self.tools,
            "versions": self.tool_versions,
        }

    @property
    def _metadata(self) -> dict[str, Any]:
        main_tool = next(iter(self.tools))
        return {
            "language": self.language,
            "compiler": Path(self.tools[main_tool]).name,
            "compiler_version": self.tool_versions[main_tool],
        }

    # ------------------------------------------------------------------ verification

    def verify(self, code: str, **context: Any) -> VerifyResult:
        """Build `code` (a model answer; the program is extracted) and score it."""
        program = self.extract_code(code)
        metadata = self._metadata
        has_checks = carries_run_checks(
            context, self.options.stdin_input, self.options.expected_output
        )
        runs = plan_run(self.options.run_after_compile, has_checks, metadata)
        if not program.strip():
            return no_code_result(self.language, self.languages, metadata)
        files = project_files(context)
        with self._build_sandbox.workspace() as workspace:
            try:
                built = self.build(workspace, program, files, runs=runs)
            except BuildFailed as failed:
                failed.result.metadata = {**metadata, **failed.result.metadata}
                return failed.result
            metadata["warnings"] = built.warnings
            if built.test_argvs:
                # The sample's own unit tests always decide its score: nothing was skipped.
                metadata.pop("compile_only", None)
                return self._run_unit_tests(workspace, built, metadata)
            if not runs:
                return compiled_result(built.warnings, metadata)
            return self._run(workspace, built, context, metadata)

    def build_step(
        self,
        workspace: Workspace,
        argv: list[str],
        *,
        env: Mapping[str, str] | None = None,
        counts_warnings: bool = True,
    ) -> str:
        """Run one build command in the build sandbox; its output, or BuildFailed scored."""
        result = workspace.run(argv, env={**COMPILER_ENVIRONMENT, **(env or {})})
        output = result.stderr + result.stdout
        if result.ok:
            return output
        raise BuildFailed(self._build_failure(result, output, counts_warnings))

    def _build_failure(
        self, result: SandboxResult, output: str, counts_warnings: bool
    ) -> VerifyResult:
        metadata = {"warnings": self.diagnostics.count_warnings(output) if counts_warnings else 0}
        if result.timed_out:
            return timeout_result(self.options.timeout, output, metadata)
        failure = self.diagnostics.classify(output)
        return failure_result(failure, output, result.returncode, metadata)

    def _run(
        self,
        workspace: Workspace,
        built: BuiltProgram,
        context: dict[str, Any],
        metadata: dict[str, Any],
    ) -> VerifyResult:
        return verify_sample_runs(
            self._run_sandbox, workspace.path, built.run_argv, context, self.options, metadata
        )

    def _run_unit_tests(
        self, workspace: Workspace, built: BuiltProgram, metadata: dict[str, Any]
    ) -> VerifyResult:
        """Run the test binaries in the run sandbox and score the fraction of passing tests."""
        assert self.test_report is not None, "a verifier that builds test binaries reads them"
        passed = total = 0
        problems: list[str] = []
        for argv in built.test_argvs:
            listed = self._listed_tests(workspace, argv)
            result = self._run_sandbox.run(argv, workdir=workspace.path)
            reported = {
                match["name"]: match["outcome"] == self.passing_outcome
                for match in self.test_report.finditer(result.stdout)
            }
            names = listed or list(reported)
            total += len(names)
            passed += sum(reported.get(name, False) for name in names)
            problems += [
                f"test {name} {'failed' if name in reported else 'did not report'}"
                for name in names
                if not reported.get(name, False)
            ]
            if result.timed_out or result.signal is not None or result.output_truncated:
                problems.append(f"{argv[0]}: {describe_failure(result)}")
        fraction_reward = reward_from_pass_fraction(passed, total)
        clean = float(RewardLevel.COMPILE_CLEAN)
        success = total > 0 and passed == total and not problems
        return VerifyResult(
            success=success,
            reward=1.0 if success else clean + (1.0 - clean) * min(fraction_reward, 0.75),
            details=f"{passed}/{total} test(s) passed",
            error="; ".join(problems)[:ERROR_EXCERPT_CHARS] or None,
            metadata={**metadata, "stage": "run", "tests_passed": passed, "tests_total": total},
            stage="run",
            compiled=True,
        )

    def _listed_tests(self, workspace: Workspace, argv: list[str]) -> list[str]:
        """The tests a test binary says it has (empty if it cannot list them)."""
        if self.test_list_entry is None:
            return []
        listing = [*argv, *self.test_list_arguments]
        result = self._run_sandbox.run(listing, workdir=workspace.path)
        return [match["name"] for match in self.test_list_entry.finditer(result.stdout)]
