"""C# verifier: `dotnet build` where the .NET SDK is installed, else Mono's `mcs` and `mono`.

The toolchain (option `toolchain`): `auto` picks `dotnet` when it is on PATH, else Mono;
`dotnet` or `mono` forces one. The program is `Program.cs`; `.cs` files in the context's
`files` are compiled with it (and, for dotnet, a `.csproj` there replaces the generated one).

- Mono: `mcs -out:prog.exe *.cs`, run with `mono prog.exe` (Debian packages mono-mcs and
  mono-runtime).
- dotnet: `dotnet build` of a console project (`prog.csproj`, `TargetFramework` from the
  option `target_framework`) into `out/`, run with `dotnet out/prog.dll`. The project has no
  package references, so restore needs no network (the sandbox has none).

Failures are classified by the compiler's error code, which both compilers share: syntax
errors (CS1002 `;` expected, CS1525, CS1513, ...) 0.0; undeclared names and missing usings
or assemblies (CS0103, CS0246, CS0234) 0.1; type and other errors (CS0029, CS1503, ...) 0.2.
Warnings (CS0168 unused variable, CS0219 assigned but never used, ...) score 0.3.
"""

from __future__ import annotations

import re
import shutil
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

MCS = Toolchain(name="mono", executables={"csharp": "mcs"}, package="mono-mcs")
MONO = Toolchain(name="mono", executables={"csharp": "mono"}, package="mono-runtime")
DOTNET = Toolchain(name="dotnet", executables={"csharp": "dotnet"}, package="dotnet-sdk-8.0")
ASSEMBLY_NAME = "prog"
#: Environment of dotnet builds: no telemetry or first-run work, NuGet files in the workspace.
DOTNET_ENVIRONMENT = {
    "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
    "DOTNET_NOLOGO": "1",
    "DOTNET_SKIP_FIRST_TIME_EXPERIENCE": "1",
    "DOTNET_GENERATE_ASPNET_CERTIFICATE": "false",
}

CSHARP_DIAGNOSTICS = DiagnosticTable(
    error_line=re.compile(
        r"^(?:[^\s(][^(\n]*\(\d+,\d+\): )?error (?P<code>CS\d{4}): (?P<message>.*?)"
        r"(?: \[[^\]\n]*\])?$",
        re.MULTILINE,
    ),
    warning_line=re.compile(r"^[^\s(][^(\n]*\(\d+,\d+\): warning CS\d{4}:", re.MULTILINE),
    rules=(
        DiagnosticRule(
            RewardLevel.SYNTAX_ERROR,
            "syntax",
            codes=frozenset(
                {
                    "CS1001",  # identifier expected
                    "CS1002",  # ; expected
                    "CS1003",  # syntax error, 'x' expected
                    "CS1010",  # newline in constant
                    "CS1026",  # ) expected
                    "CS1031",  # type expected
                    "CS1035",  # end of file found, '*/' expected
                    "CS1039",  # unterminated string literal
                    "CS1056",  # unexpected character
                    "CS1513",  # } expected
                    "CS1514",  # { expected
                    "CS1519",  # unexpected symbol in class, struct or interface member
                    "CS1022",  # type or namespace definition, or end-of-file expected
                    "CS1525",  # unexpected symbol / invalid expression term
                    "CS1733",  # expression expected
                    "CS8025",  # mcs: parsing error
                }
            ),
        ),
        DiagnosticRule(
            RewardLevel.MISSING_DECLARATION,
            "missing_declaration",
            # undeclared name; type or namespace not found; missing from a namespace
            codes=frozenset({"CS0103", "CS0246", "CS0234"}),
        ),
    ),
)


class CSharpOptions(LanguageOptions):
    """C# options: which toolchain, and the target framework of dotnet builds."""

    toolchain: Literal["auto", "dotnet", "mono"] = Field(
        "auto", description="auto: dotnet if on PATH, else Mono (mcs + mono)."
    )
    target_framework: str = Field("net8.0", description="TargetFramework of dotnet builds.")


def select_toolchain(choice: str) -> str:
    """`dotnet` or `mono` for the option `toolchain` (auto: dotnet when it is on PATH)."""
    if choice != "auto":
        return choice
    return "dotnet" if shutil.which("dotnet") is not None else "mono"


def dotnet_build_command(dotnet: str, project: str) -> list[str]:
    """The `dotnet build` of `project` into `out/`: quiet, errors once, no native launcher."""
    return [
        dotnet,
        "build",
        project,
        "--nologo",
        "--verbosity",
        "quiet",
        "--output",
        "out",
        "-consoleLoggerParameters:NoSummary",
        "-property:UseAppHost=false",
    ]


def console_project(target_framework: str) -> str:
    """A console project without package references (restore needs no network)."""
    return (
        '<Project Sdk="Microsoft.NET.Sdk">\n  <PropertyGroup>\n'
        "    <OutputType>Exe</OutputType>\n"
        f"    <TargetFramework>{target_framework}</TargetFramework>\n"
        f"    <AssemblyName>{ASSEMBLY_NAME}</AssemblyName>\n"
        "    <ImplicitUsings>disable</ImplicitUsings>\n"
        "  </PropertyGroup>\n</Project>\n"
    )


@register_verifier("csharp", options=CSharpOptions)
class CSharpVerifier(ToolchainVerifier):
    """C#: dotnet build where the .NET SDK is installed, else mcs; runs programs with tests."""

    language = "csharp"
    languages = ("csharp", "cs", "c#")
    diagnostics = CSHARP_DIAGNOSTICS
    options: CSharpOptions
    selected_toolchain: str  # "dotnet" or "mono", chosen by `find_tools`

    def find_tools(self) -> tuple[dict[str, str], dict[str, str]]:
        self.selected_toolchain = select_toolchain(self.options.toolchain)
        if self.selected_toolchain == "dotnet":
            tools = {"dotnet": resolve_compiler(DOTNET, "csharp", self.options.compiler)}
        else:
            try:
                tools = {
                    "mcs": resolve_compiler(MCS, "csharp", self.options.compiler),
                    "mono": resolve_compiler(MONO, "csharp"),
                }
            except VerifierError as error:
                raise VerifierError(
                    f"{error}; or install the .NET SDK ({DOTNET.package}) to build with dotnet"
                ) from None
        return tools, {role: compiler_version(path) for role, path in tools.items()}

    def build(
        self, workspace: Workspace, program: str, files: dict[str, str], *, runs: bool
    ) -> BuiltProgram:
        for path, text in files.items():
            workspace.write(path, text)
        workspace.write("Program.cs", program)
        if self.selected_toolchain == "dotnet":
            return self._build_dotnet(workspace, files)
        sources = sorted({"Program.cs", *(path for path in files if path.endswith(".cs"))})
        command = [self.tools["mcs"], f"-out:{ASSEMBLY_NAME}.exe", *sources]
        output = self.build_step(workspace, command)
        warnings = CSHARP_DIAGNOSTICS.count_warnings(output)
        return BuiltProgram([self.tools["mono"], f"{ASSEMBLY_NAME}.exe"], warnings=warnings)

    def _build_dotnet(self, workspace: Workspace, files: dict[str, str]) -> BuiltProgram:
        projects = [path for path in files if path.endswith(".csproj")]
        if projects:
            project, assembly = projects[0], Path(projects[0]).stem
        else:
            project, assembly = f"{ASSEMBLY_NAME}.csproj", ASSEMBLY_NAME
            workspace.write(project, console_project(self.options.target_framework))
        env = {
            **DOTNET_ENVIRONMENT,
            "DOTNET_CLI_HOME": str(workspace.path),
            "NUGET_PACKAGES": str(workspace.path / ".nuget"),
        }
        dotnet = self.tools["dotnet"]
        output = self.build_step(workspace, dotnet_build_command(dotnet, project), env=env)
        warnings = CSHARP_DIAGNOSTICS.count_warnings(output)
        return BuiltProgram([dotnet, f"out/{assembly}.dll"], warnings=warnings)
