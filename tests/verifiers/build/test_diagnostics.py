"""Diagnostics classification on real GCC and Clang output (tiny programs built by the tests)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.build.diagnostics import (
    classify_failure,
    classify_message,
    count_warnings,
    only_entry_point_undefined,
    parse_diagnostics,
)

COMPILERS = ["g++", "clang++"]

PROGRAMS = {
    "missing_semicolon": (
        '#include <cstdio>\nint main() { int x = 1 printf("%d", x); }\n',
        RewardLevel.SYNTAX_ERROR,
    ),
    "unbalanced_brace": ("int main() { if (1) { return 0; }\n", RewardLevel.SYNTAX_ERROR),
    "missing_include": (
        "int main() { std::vector<int> v(3); return (int)v.size(); }\n",
        RewardLevel.MISSING_DECLARATION,
    ),
    "undeclared_name": ("int main() { return counter + 1; }\n", RewardLevel.MISSING_DECLARATION),
    "missing_header_file": (
        "#include <no_such_header_here.h>\nint main() {}\n",
        RewardLevel.MISSING_DECLARATION,
    ),
    "type_error": (
        '#include <string>\nint main() { int x = std::string("a"); return x; }\n',
        RewardLevel.SEMANTIC_ERROR,
    ),
    "no_main": ("int helper() { return 1; }\n", RewardLevel.SEMANTIC_ERROR),
    "undefined_reference": ("int f();\nint main() { return f(); }\n", RewardLevel.SEMANTIC_ERROR),
}


def compile_output(compiler: str, source: str, tmp_path: Path, *flags: str) -> tuple[int, str]:
    path = tmp_path / "prog.cpp"
    path.write_text(source)
    completed = subprocess.run(
        [compiler, "-std=c++17", "-Wall", *flags, str(path), "-o", str(tmp_path / "prog")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ["PATH"], "LC_ALL": "C"},
        check=False,
    )
    return completed.returncode, completed.stderr + completed.stdout


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_first_error_decides_the_tier(compiler: str, name: str, tmp_path: Path) -> None:
    source, expected = PROGRAMS[name]
    returncode, output = compile_output(compiler, source, tmp_path)
    assert returncode != 0
    assert classify_failure(output).reward == expected, output


@pytest.mark.parametrize("compiler", COMPILERS)
def test_link_errors_are_reported_as_link_kind(compiler: str, tmp_path: Path) -> None:
    _, output = compile_output(compiler, PROGRAMS["no_main"][0], tmp_path)
    failure = classify_failure(output)
    assert failure.kind == "link"
    assert "main" in failure.message


@pytest.mark.parametrize("compiler", [*COMPILERS, "x86_64-w64-mingw32-g++"])
def test_a_missing_entry_point_is_told_apart_from_other_undefined_references(
    compiler: str, tmp_path: Path
) -> None:
    _, no_main = compile_output(compiler, PROGRAMS["no_main"][0], tmp_path)
    _, undefined = compile_output(compiler, PROGRAMS["undefined_reference"][0], tmp_path)
    _, both = compile_output(compiler, "int f();\nint helper() { return f(); }\n", tmp_path)
    assert only_entry_point_undefined(no_main), no_main
    assert not only_entry_point_undefined(undefined), undefined
    assert not only_entry_point_undefined(both), both
    assert not only_entry_point_undefined("prog.cpp:1:1: error: expected ';'")


@pytest.mark.parametrize("compiler", COMPILERS)
def test_warnings_are_counted_and_notes_are_not(compiler: str, tmp_path: Path) -> None:
    source = "int main() { int unused; int also_unused; return 0; }\n"
    returncode, output = compile_output(compiler, source, tmp_path)
    assert returncode == 0
    assert count_warnings(output) == 2
    _, clean = compile_output(compiler, "int main() { return 0; }\n", tmp_path)
    assert count_warnings(clean) == 0


@pytest.mark.parametrize("compiler", COMPILERS)
def test_warning_promoted_by_werror_keeps_warning_tier(compiler: str, tmp_path: Path) -> None:
    returncode, output = compile_output(
        compiler, "int main() { int unused; return 0; }\n", tmp_path, "-Werror"
    )
    assert returncode != 0
    failure = classify_failure(output)
    assert (failure.reward, failure.kind) == (RewardLevel.COMPILE_WARNINGS, "warning_as_error")


def test_parse_diagnostics_reads_location_and_severity() -> None:
    output = (
        "prog.cpp: In function 'int main()':\n"
        "prog.cpp:3:7: error: 'x' was not declared in this scope\n"
        "    3 |   x = 1;\n"
        "prog.cpp:2:1: note: declared here\n"
        "prog.cpp:9: warning: something\n"
    )
    diagnostics = parse_diagnostics(output)
    assert [(d.line, d.column, d.severity) for d in diagnostics] == [
        (3, 7, "error"),
        (2, 1, "note"),
        (9, None, "warning"),
    ]
    assert diagnostics[0].message == "'x' was not declared in this scope"


def test_unrecognised_failure_scores_as_syntax_error() -> None:
    failure = classify_failure("cc1plus: out of memory allocating 65536 bytes\n")
    assert failure.reward == RewardLevel.SYNTAX_ERROR and failure.kind == "unknown"


def test_classify_message_examples() -> None:
    assert classify_message("expected ';' before 'return'")[1] == "syntax"
    assert classify_message("'cout' is not a member of 'std'")[1] == "missing_declaration"
    assert classify_message("use of undeclared identifier 'foo'")[1] == "missing_declaration"
    assert classify_message("no matching function for call to 'f(int)'")[1] == "semantic"
