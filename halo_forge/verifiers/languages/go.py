"""Go verifier: `go build`, `go vet` as the warning tier, `go test` for `_test.go` tests.

The program is `main.go` of a module `prog` (a `go.mod` is written unless the sample's
context `files` carry one); files such as `main_test.go` go beside it. Steps, each in the
build sandbox:

1. `go build -o prog .`: a failure is classified from the compiler's messages (syntax errors
   0.0; undefined names and packages that cannot be imported 0.1; type errors, unused
   variables or imports and everything else 0.2);
2. `go vet .` (option `vet`): Go has no compiler warnings, so vet findings are the 0.3 tier;
3. with `_test.go` files, `go test -c` builds the test binary, which runs in the run sandbox
   (`-test.v`); the fraction of top-level tests that pass is the reward (see `base.py`).

Builds are offline (GOPROXY=off, GOFLAGS=-mod=mod): a module outside the standard library
does not build. The build cache (GOCACHE) and module cache (GOMODCACHE) live in one directory
that the verifier owns, bound writable into every build sandbox and shared by all samples, so
a repeat build reuses the compiled standard library; Go locks its cache, so concurrent builds
may share it.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field

from halo_forge.verifiers.build.toolchain import Toolchain, compiler_version, resolve_compiler
from halo_forge.verifiers.cache import default_cache_dir
from halo_forge.verifiers.languages.base import (
    BuiltProgram,
    DiagnosticRule,
    DiagnosticTable,
    LanguageOptions,
    ToolchainVerifier,
)
from halo_forge.verifiers.registry import register_verifier
from halo_forge.verifiers.result import RewardLevel
from halo_forge.verifiers.sandbox import Workspace

GO = Toolchain(name="go", executables={"go": "go"}, package="golang-go")
MODULE_NAME = "prog"
#: `go.mod` language version when the toolchain's cannot be read (1.18 brought generics).
FALLBACK_GO_VERSION = "1.18"

_LOCATED = r"^(?:\./)?[^\s:]+\.go:\d+(?::\d+)?: "
GO_DIAGNOSTICS = DiagnosticTable(
    error_line=re.compile(rf"(?:{_LOCATED}|^go: )(?P<message>.*)$", re.MULTILINE),
    warning_line=re.compile(_LOCATED, re.MULTILINE),  # `go vet` findings
    rules=(
        DiagnosticRule(
            RewardLevel.SYNTAX_ERROR,
            "syntax",
            pattern=re.compile(
                r"^(?:syntax error|invalid character|newline in string|"
                r"(?:string|rune|raw string) literal not terminated|illegal |expected |"
                r"non-declaration statement outside function body|comment not terminated)"
            ),
        ),
        DiagnosticRule(
            RewardLevel.MISSING_DECLARATION,
            "missing_declaration",
            pattern=re.compile(
                r"^undefined: |could not import|is not in (?:GOROOT|std)|"
                r"cannot find (?:module providing )?package|no required module provides package"
            ),
        ),
    ),
    ignored=re.compile(r"^finding module for package|^warning:"),
)


class GoOptions(LanguageOptions):
    """Go options: vet as the warning tier, and where the shared build cache lives."""

    vet: bool = Field(True, description="Run `go vet`; its findings score 0.3 (warnings).")
    memory_limit_mb: int = Field(
        1024, ge=16, description="Memory limit of a run, in MiB (the Go runtime needs ~700)."
    )
    cache_dir: Path | None = Field(
        None, description="Go build and module cache (default: the verifier cache dir /go)."
    )


@register_verifier("go", options=GoOptions)
class GoVerifier(ToolchainVerifier):
    """Go: go build, go vet as the warning tier, go test for _test.go; runs programs with tests."""

    language = "go"
    languages = ("go", "golang")
    diagnostics = GO_DIAGNOSTICS
    test_report = re.compile(r"^--- (?P<outcome>PASS|FAIL): (?P<name>\S+) ", re.MULTILINE)
    passing_outcome = "PASS"
    test_list_arguments = ("-test.list", "^Test")
    test_list_entry = re.compile(r"^(?P<name>Test\w*)$", re.MULTILINE)
    options: GoOptions

    def find_tools(self) -> tuple[dict[str, str], dict[str, str]]:
        go = resolve_compiler(GO, "go", self.options.compiler)
        return {"go": go}, {"go": compiler_version(go, "version")}

    @property
    def cache_directory(self) -> Path:
        return (self.options.cache_dir or default_cache_dir() / "go").resolve()

    def writable_paths(self) -> tuple[Path, ...]:
        self.cache_directory.mkdir(parents=True, exist_ok=True)
        return (self.cache_directory,)

    def cache_fingerprint(self) -> dict[str, object] | None:
        fingerprint = super().cache_fingerprint()
        assert fingerprint is not None
        fingerprint["options"].pop("cache_dir", None)  # where the cache is never decides a result
        return fingerprint

    def build(
        self, workspace: Workspace, program: str, files: dict[str, str], *, runs: bool
    ) -> BuiltProgram:
        for path, text in files.items():
            workspace.write(path, text)
        workspace.write("main.go", program)
        if "go.mod" not in files:
            workspace.write("go.mod", f"module {MODULE_NAME}\n\ngo {self._language_version()}\n")
        # Go ignores a go.mod in the temporary directory itself, which the sandbox makes the
        # workspace: temporary files go one level down.
        temporary = workspace.write(".tmp/.keep", "").parent
        env = self._environment(temporary)
        go = self.tools["go"]
        # Every located line of a failed build is an error (Go has no compiler warnings).
        build = [go, "build", "-o", MODULE_NAME, "."]
        self.build_step(workspace, build, env=env, counts_warnings=False)
        warnings = 0
        if self.options.vet:
            result = workspace.run([go, "vet", "."], env=env)
            warnings = GO_DIAGNOSTICS.count_warnings(result.stderr + result.stdout)
        test_argvs = []
        if any(path.endswith("_test.go") for path in files):
            command = [go, "test", "-c", "-vet=off", "-o", f"{MODULE_NAME}.test", "."]
            self.build_step(workspace, command, env=env, counts_warnings=False)
            test_argvs.append([f"./{MODULE_NAME}.test", "-test.v"])
        return BuiltProgram([f"./{MODULE_NAME}"], test_argvs, warnings)

    def _environment(self, temporary: Path) -> dict[str, str]:
        cache = self.cache_directory
        return {
            "GOCACHE": str(cache / "build"),
            "GOMODCACHE": str(cache / "mod"),
            "GOPATH": str(cache / "path"),
            "GOPROXY": "off",
            "GOFLAGS": "-mod=mod",
            "GOTOOLCHAIN": "local",  # never download another toolchain (Go 1.21+)
            "GOTELEMETRY": "off",
            "CGO_ENABLED": "0",  # pure Go: no C compiler in the build
            "TMPDIR": str(temporary),
        }

    def _language_version(self) -> str:
        match = re.search(r"go(\d+\.\d+)", self.tool_versions["go"])
        return match[1] if match else FALLBACK_GO_VERSION
