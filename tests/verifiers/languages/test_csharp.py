"""C# verifier: the real Mono mcs and mono through the sandbox; how dotnet would be chosen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.languages.csharp import (
    CSHARP_DIAGNOSTICS,
    CSharpVerifier,
    console_project,
    dotnet_build_command,
    select_toolchain,
)
from halo_forge.verifiers.registry import build_verifier

MAIN = "using System;\n\nclass Program {\n    static void Main() {\n"
ADD_ONE = MAIN + "        int n = int.Parse(Console.ReadLine());\n"
ADD_ONE += "        Console.WriteLine(n + 1);\n    }\n}\n"


def body(statements: str) -> str:
    return f"{MAIN}        {statements}\n    }}\n}}\n"


#: One program per classifier row, with the mcs error code that decides it.
BY_TIER = {
    "CS1002": (body("Console.WriteLine(1)"), RewardLevel.SYNTAX_ERROR),
    "CS1525": (body("int x = ;"), RewardLevel.SYNTAX_ERROR),
    # mcs reports a missing closing brace as CS1525 at end of file (Roslyn: CS1513)
    "CS1525 end-of-file": (
        MAIN + "        Console.WriteLine(1);\n    }\n",
        RewardLevel.SYNTAX_ERROR,
    ),
    "CS0103": (body("Console.WriteLine(y);"), RewardLevel.MISSING_DECLARATION),
    "CS0246": (body("Widget w = null;"), RewardLevel.MISSING_DECLARATION),
    "CS0234": (
        "using System.Widgets;\nclass Program { static void Main() { } }\n",
        RewardLevel.MISSING_DECLARATION,
    ),
    "CS0029": (body('int x = "a"; Console.WriteLine(x);'), RewardLevel.SEMANTIC_ERROR),
    "CS1502": (body('Console.WriteLine(Math.Abs("a"));'), RewardLevel.SEMANTIC_ERROR),
}


def fenced(code: str, tag: str = "csharp") -> str:
    return f"```{tag}\n{code}```"


@pytest.fixture(scope="module")
def mono() -> CSharpVerifier:
    return CSharpVerifier(use_cache=False, toolchain="mono")


def test_build_failures_are_classified_by_error_code(mono: CSharpVerifier) -> None:
    codes = sorted(BY_TIER)
    results = mono.verify_batch([fenced(BY_TIER[code][0]) for code in codes])
    for code, result in zip(codes, results, strict=True):
        assert result.reward == BY_TIER[code][1], (code, result)
        deciding_code = code.split()[0]
        assert result.details.split(": ")[1] == deciding_code, result.details
        assert result.metadata["language"] == "csharp"


@pytest.mark.parametrize("tag", ["cs", "c#"])
def test_warnings_score_030_and_clean_code_050(mono: CSharpVerifier, tag: str) -> None:
    unused, assigned, clean = mono.verify_batch(
        [
            fenced(body("int x; Console.WriteLine(1);"), tag),  # CS0168
            fenced(body("int x = 1; Console.WriteLine(1);"), tag),  # CS0219
            fenced(body("Console.WriteLine(1);"), tag),
        ]
    )
    assert (unused.reward, unused.metadata["warnings"]) == (0.3, 1)
    assert (assigned.reward, assigned.metadata["warnings"]) == (0.3, 1)
    assert (clean.success, clean.reward, clean.metadata["warnings"]) == (True, 0.5, 0)


def test_table_reads_mcs_and_dotnet_lines() -> None:
    mcs = "p.cs(1,64): error CS0103: The name `y' does not exist in the current context\n"
    dotnet = "/w/Program.cs(9,2): error CS1513: } expected [/w/prog.csproj]\n"
    assert CSHARP_DIAGNOSTICS.classify(mcs).reward == RewardLevel.MISSING_DECLARATION
    assert CSHARP_DIAGNOSTICS.classify(dotnet).message == "CS1513: } expected"
    assert CSHARP_DIAGNOSTICS.classify(dotnet).reward == RewardLevel.SYNTAX_ERROR
    assert CSHARP_DIAGNOSTICS.count_warnings("p.cs(5,13): warning CS0168: unused\n") == 1


def test_mono_runs_score_each_sample_against_its_own_cases() -> None:
    runner = CSharpVerifier(use_cache=False, run_after_compile=True, run_timeout=3.0)
    crashes = body("int[] a = new int[1]; Console.WriteLine(a[3]);")
    results = runner.verify_batch(
        [fenced(ADD_ONE), fenced(ADD_ONE), fenced(ADD_ONE), fenced(crashes)],
        contexts=[
            {"test_cases": [{"stdin": "1\n", "expected_output": "2\n"}]},
            {
                "test_cases": [
                    {"stdin": "1\n", "expected_output": "2\n"},
                    {"stdin": "5\n", "expected_output": "0\n"},
                ]
            },
            {"stdin": "1\n", "expected_output": "9\n"},
            {"expected_output": "0\n"},
        ],
    )
    assert [result.reward for result in results] == [1.0, 0.8, 0.7, 0.6]


def test_extra_source_files_are_compiled_with_the_program() -> None:
    runner = CSharpVerifier(use_cache=False, run_after_compile=True, expected_output="7\n")
    helper = "static class Helper { public static int Seven() { return 7; } }\n"
    result = runner.verify(
        fenced(body("Console.WriteLine(Helper.Seven());")), files={"Helper.cs": helper}
    )
    assert (result.success, result.reward) == (True, 1.0), result


def _fake_dotnet(directory: Path) -> Path:
    """An executable named dotnet that answers --version, as the SDK does."""
    dotnet = directory / "dotnet"
    dotnet.write_text("#!/bin/sh\necho 8.0.100\n")
    dotnet.chmod(0o755)
    return dotnet


def test_auto_chooses_dotnet_when_it_is_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shutil.which("dotnet") is None  # this machine has Mono only
    assert select_toolchain("auto") == "mono"
    dotnet = _fake_dotnet(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert select_toolchain("auto") == "dotnet"
    assert select_toolchain("mono") == "mono"
    verifier = CSharpVerifier(use_cache=False)
    assert (verifier.selected_toolchain, verifier.tools) == ("dotnet", {"dotnet": str(dotnet)})
    assert verifier.tool_versions == {"dotnet": "8.0.100"}
    assert CSharpVerifier(toolchain="mono").tools.keys() == {"mcs", "mono"}


def test_dotnet_build_command_and_project() -> None:
    assert dotnet_build_command("/usr/bin/dotnet", "prog.csproj") == [
        "/usr/bin/dotnet",
        "build",
        "prog.csproj",
        "--nologo",
        "--verbosity",
        "quiet",
        "--output",
        "out",
        "-consoleLoggerParameters:NoSummary",
        "-property:UseAppHost=false",
    ]
    project = console_project("net8.0")
    assert "<TargetFramework>net8.0</TargetFramework>" in project
    assert "<OutputType>Exe</OutputType>" in project
    assert "PackageReference" not in project  # restore needs no network


def test_missing_toolchains_name_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(VerifierError, match=r"apt-get install mono-mcs.*dotnet-sdk"):
        CSharpVerifier(toolchain="mono", compiler="no-such-mcs")
    with pytest.raises(VerifierError, match=r"dotnet-sdk-8.0"):
        CSharpVerifier(toolchain="dotnet")


def test_registered_as_csharp_and_cached_by_toolchain_version() -> None:
    verifier = build_verifier("csharp", toolchain="mono")
    fingerprint = verifier.cache_fingerprint()
    assert fingerprint is not None
    assert fingerprint["versions"]["mcs"].startswith("Mono C# compiler version")
    with pytest.raises(VerifierError, match="toolchain"):
        build_verifier("csharp", toolchain="csc")
