"""Rust verifier: `rustc` for a single file, `cargo` for projects and inline `#[test]`s.

- A sample without extra files and without `#[test]` is one file, built by `rustc` (with
  `--emit=metadata` when nothing runs: type and borrow checking without code generation).
- A sample with `#[test]`s, or with extra files (context `files`, e.g. its own `Cargo.toml` or
  `tests/*.rs`), is a Cargo package: the program is `src/main.rs` when it defines `fn main`,
  else `src/lib.rs`, and a `Cargo.toml` without dependencies is written when the sample has
  none. Cargo runs offline (`--offline`, `CARGO_NET_OFFLINE=true`): a package that needs a
  crate from a registry fails to build. Tests are built with `cargo test --no-run` and the
  test binaries run in the run sandbox (`--test-threads=1`, so a test that hangs costs only
  the tests after it).

Failures are classified from rustc's error codes (short message format, one line each):
unresolved names and imports 0.1, parse errors 0.0, everything else (E0308 mismatched types,
borrow errors, ...) 0.2. `rustc` on PATH may be a rustup proxy, which needs the caller's
home; the verifier asks it for its sysroot and runs the real compiler from there.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Literal

from pydantic import Field

from halo_forge.errors import VerifierError
from halo_forge.verifiers.build.toolchain import Toolchain, compiler_version, resolve_compiler
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

RUSTC = Toolchain(name="rustc", executables={"rust": "rustc"}, package="rustc")
CARGO = Toolchain(name="cargo", executables={"rust": "cargo"}, package="cargo")
PACKAGE_NAME = "prog"

RUST_DIAGNOSTICS = DiagnosticTable(
    error_line=re.compile(
        r"^(?:[^\s:][^:\n]*:\d+:\d+: )?error(?:\[(?P<code>E\d{4})\])?: (?P<message>.*)$",
        re.MULTILINE,
    ),
    warning_line=re.compile(r"^[^\s:][^:\n]*:\d+:\d+: warning", re.MULTILINE),
    rules=(
        DiagnosticRule(
            RewardLevel.MISSING_DECLARATION,
            "missing_declaration",
            # unresolved value, type, import, path, struct, trait, tuple struct, crate
            codes=frozenset(
                {"E0425", "E0412", "E0432", "E0433", "E0422", "E0405", "E0531", "E0463"}
            ),
            # cargo: a dependency that is not available offline (the missing include of Rust)
            pattern=re.compile(r"^no matching package named|^failed to select a version"),
        ),
        DiagnosticRule(
            RewardLevel.SYNTAX_ERROR,
            "syntax",
            # unterminated string, block comment, character and byte literals
            codes=frozenset({"E0765", "E0758", "E0762", "E0763"}),
            pattern=re.compile(
                r"^(?:expected |unexpected |unknown start of token|unterminated |"
                r"this file contains an unclosed delimiter|mismatched closing delimiter|"
                r"unclosed delimiter|missing (?:type|fn|`)|incorrect close delimiter)"
            ),
        ),
    ),
    ignored=re.compile(r"^(?:aborting due to|could not compile)"),
)


class RustOptions(LanguageOptions):
    """Rust options: the edition, and the cargo executable for projects."""

    edition: Literal["2015", "2018", "2021"] = Field("2021", description="Rust edition.")
    cargo: str | None = Field(None, description="Cargo executable to use instead.")


def real_toolchain_binary(proxy: str, name: str) -> str:
    """The compiler behind `proxy` (a rustup proxy or the compiler itself): sysroot/bin/name.

    Trusted input (the caller's own toolchain), so it runs without the sandbox.
    """
    try:
        completed = subprocess.run(
            [proxy, "--print", "sysroot"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise VerifierError(f"cannot run {proxy} ({error}); reinstall rustc") from None
    candidate = Path(completed.stdout.strip()) / "bin" / name
    if completed.returncode != 0 or not candidate.is_file():
        raise VerifierError(
            f"{proxy} --print sysroot failed ({completed.stderr.strip()[:200]}); with rustup, "
            "run `rustup default stable`, or install rustc (`apt-get install rustc`)"
        )
    return str(candidate)


@register_verifier("rust", options=RustOptions)
class RustVerifier(ToolchainVerifier):
    """Rust: rustc for one file, cargo for projects and #[test]s; runs programs with tests."""

    language = "rust"
    languages = ("rust", "rs")
    diagnostics = RUST_DIAGNOSTICS
    test_report = re.compile(r"^test (?P<name>\S+) \.\.\. (?P<outcome>ok|FAILED)$", re.MULTILINE)
    passing_outcome = "ok"
    test_list_arguments = ("--list",)
    test_list_entry = re.compile(r"^(?P<name>\S+): test$", re.MULTILINE)
    options: RustOptions

    def find_tools(self) -> tuple[dict[str, str], dict[str, str]]:
        options = self.options
        rustc = real_toolchain_binary(resolve_compiler(RUSTC, "rust", options.compiler), "rustc")
        beside_rustc = Path(rustc).with_name("cargo")
        if options.cargo is None and beside_rustc.is_file():
            cargo = str(beside_rustc)
        else:
            cargo = resolve_compiler(CARGO, "rust", options.cargo)
        tools = {"rustc": rustc, "cargo": cargo}
        return tools, {role: compiler_version(path) for role, path in tools.items()}

    def build(
        self, workspace: Workspace, program: str, files: dict[str, str], *, runs: bool
    ) -> BuiltProgram:
        if files or "#[test]" in program:
            return self._build_package(workspace, program, files, runs)
        workspace.write("prog.rs", program)
        argv = [self.tools["rustc"], *self._rustc_flags(), "prog.rs"]
        if runs:
            argv += ["-o", PACKAGE_NAME]
        else:
            argv.append("--emit=metadata")
        output = self.build_step(workspace, argv)
        return BuiltProgram([f"./{PACKAGE_NAME}"], warnings=RUST_DIAGNOSTICS.count_warnings(output))

    def _rustc_flags(self) -> list[str]:
        edition = self.options.edition
        return ["--edition", edition, "--error-format=short", "--crate-name", PACKAGE_NAME]

    def _build_package(
        self, workspace: Workspace, program: str, files: dict[str, str], runs: bool
    ) -> BuiltProgram:
        for path, text in files.items():
            workspace.write(path, text)
        has_main = re.search(r"\bfn\s+main\s*\(", program) is not None
        workspace.write("src/main.rs" if has_main else "src/lib.rs", program)
        manifest = files.get("Cargo.toml")
        if manifest is None:
            edition = self.options.edition
            manifest = (
                f'[package]\nname = "{PACKAGE_NAME}"\nversion = "0.1.0"\nedition = "{edition}"\n'
            )
            workspace.write("Cargo.toml", manifest)
        env = {
            "CARGO_NET_OFFLINE": "true",
            "CARGO_HOME": str(workspace.path / ".cargo"),
            "CARGO_TERM_COLOR": "never",
            "RUSTC": self.tools["rustc"],
        }
        cargo = [self.tools["cargo"]]
        flags = ["--offline", "--message-format", "short"]
        has_tests = "#[test]" in program or any("#[test]" in text for text in files.values())
        if has_tests:
            output = self.build_step(workspace, [*cargo, "test", "--no-run", *flags], env=env)
            binaries = re.findall(r"^\s*Executable .*?\((target/[^)]+)\)$", output, re.MULTILINE)
            test_argvs = [[f"./{binary}", "--test-threads=1"] for binary in binaries]
            return BuiltProgram([], test_argvs, RUST_DIAGNOSTICS.count_warnings(output))
        # `cargo check` type-checks without code generation when nothing runs.
        command = "build" if runs else "check"
        output = self.build_step(workspace, [*cargo, command, *flags], env=env)
        # From the manifest as written, never re-read: a build script may have replaced the
        # file (with a link to a file of the host, say) by now.
        name = _package_name(manifest)
        return BuiltProgram(
            [f"./target/debug/{name}"], warnings=RUST_DIAGNOSTICS.count_warnings(output)
        )


_PACKAGE_NAME_LINE = re.compile(r'^\[package\][^\[]*?^\s*name\s*=\s*"([^"]+)"', re.M | re.S)


def _package_name(manifest: str) -> str:
    """The `[package]` name of a Cargo.toml's text (the name of its binary), `prog` if it has
    none.

    Read with a pattern, not a TOML parser: tomllib is Python 3.11+, and `name = "..."` in
    `[package]` is the only key needed."""
    match = _PACKAGE_NAME_LINE.search(manifest)
    return match[1] if match else PACKAGE_NAME
