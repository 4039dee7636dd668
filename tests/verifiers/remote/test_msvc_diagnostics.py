"""MSVC diagnostics: real `cl`/`link` message texts land on the reward tier their code documents."""

from __future__ import annotations

import pytest

from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.remote.msvc_diagnostics import (
    classify_msvc_failure,
    count_msvc_warnings,
    parse_msvc_diagnostics,
    reports_disk_full,
)

SYNTAX, MISSING, SEMANTIC = (
    RewardLevel.SYNTAX_ERROR,
    RewardLevel.MISSING_DECLARATION,
    RewardLevel.SEMANTIC_ERROR,
)

#: (cl/link output, reward, kind): message texts as MSVC prints them.
FAILURES = [
    ("prog.cpp(3): error C2143: syntax error: missing ';' before '}'", SYNTAX, "syntax"),
    ("prog.cpp(2): error C2059: syntax error: ')'", SYNTAX, "syntax"),
    ("prog.cpp(9): fatal error C1004: unexpected end-of-file found", SYNTAX, "syntax"),
    ("prog.cpp(4): error C2001: newline in constant", SYNTAX, "syntax"),
    ("prog.cpp(1): error C2061: syntax error: identifier 'foo'", SYNTAX, "syntax"),
    ("prog.cpp(3): error C2146: syntax error: missing ';' before identifier 'y'", SYNTAX, "syntax"),
    (
        "prog.cpp(4): error C2447: '{': missing function header (old-style formal list?)",
        SYNTAX,
        "syntax",
    ),
    (
        "prog.cpp(1): fatal error C1083: Cannot open include file: 'foo.h': No such file or directory",
        MISSING,
        "missing_declaration",
    ),
    ("prog.cpp(3): error C2065: 'x': undeclared identifier", MISSING, "missing_declaration"),
    ("prog.cpp(3): error C3861: 'foo': identifier not found", MISSING, "missing_declaration"),
    (
        "prog.cpp(4): error C2039: 'vector': is not a member of 'std'",
        MISSING,
        "missing_declaration",
    ),
    (
        "prog.cpp(2): error C2653: 'Foo': is not a class or namespace name",
        MISSING,
        "missing_declaration",
    ),
    (
        "prog.cpp(3): error C2440: 'initializing': cannot convert from 'const char [2]' to 'int'",
        SEMANTIC,
        "semantic",
    ),
    (
        "prog.cpp(5): error C2664: 'void f(int *)': cannot convert argument 1 from 'int' to 'int *'",
        SEMANTIC,
        "semantic",
    ),
    ("prog.cpp(5): error C2660: 'f': function does not take 2 arguments", SEMANTIC, "semantic"),
    (
        "prog.cpp(6): error C2678: binary '==': no operator found which takes a left-hand operand "
        "of type 'const S' (or there is no acceptable conversion)",
        SEMANTIC,
        "semantic",
    ),
    (
        "prog.cpp(6): error C2679: binary '<<': no operator found which takes a right-hand operand "
        "of type 'S' (or there is no acceptable conversion)",
        SEMANTIC,
        "semantic",
    ),
    (
        "prog.cpp(4): error C2064: term does not evaluate to a function taking 0 arguments",
        SEMANTIC,
        "semantic",
    ),
    (
        'prog.obj : error LNK2019: unresolved external symbol "int __cdecl f(void)" (?f@@YAHXZ) '
        "referenced in function main\nprog.exe : fatal error LNK1120: 1 unresolved externals",
        SEMANTIC,
        "link",
    ),
    ("prog.exe : fatal error LNK1120: 1 unresolved externals", SEMANTIC, "link"),
    ("LINK : fatal error LNK1561: entry point must be defined", SEMANTIC, "link"),
    (
        "prog.cpp(3): error C2220: the following warning is treated as an error\n"
        "prog.cpp(3): warning C4189: 'x': local variable is initialized but not referenced",
        RewardLevel.COMPILE_WARNINGS,
        "warning_as_error",
    ),
    (
        "cl : Command line error D8021 : invalid numeric argument '/Wfoo'",
        SYNTAX,
        "command_line",
    ),
    # Absolute Windows paths hold a drive colon before the location.
    (
        "C:\\Users\\build\\halo-forge-builds\\sample-1\\prog.cpp(3): error C2143: syntax error: "
        "missing ';' before 'return'",
        SYNTAX,
        "syntax",
    ),
    # clang-cl: MSVC locations, no codes: the GCC/Clang message rules decide.
    ("prog.cpp(3,10): error: expected ';' after expression", SYNTAX, "syntax"),
    (
        "prog.cpp(2,5): error: use of undeclared identifier 'x'",
        MISSING,
        "missing_declaration",
    ),
    (
        "prog.cpp(1,34): error: no viable conversion from 'std::string' to 'int'",
        SEMANTIC,
        "semantic",
    ),
    # No MSVC-style line at all: the whole output goes to the GCC/Clang classifier.
    (
        "/usr/bin/ld: /tmp/prog-1.obj: in function `main':\n"
        "prog.cpp:(.text+0x10): undefined reference to `f()'\n"
        "clang: error: linker command failed with exit code 1 (use -v to see invocation)",
        SEMANTIC,
        "link",
    ),
]


@pytest.mark.parametrize(("output", "reward", "kind"), FAILURES)
def test_failure_is_classified_by_its_msvc_code(output: str, reward: float, kind: str) -> None:
    failure = classify_msvc_failure(output)
    assert (failure.reward, failure.kind) == (reward, kind), failure


def test_first_error_decides_over_knock_on_errors() -> None:
    output = (
        "prog.cpp\n"
        "prog.cpp(2): error C2039: 'vector': is not a member of 'std'\n"
        "prog.cpp(2): error C2065: 'vector': undeclared identifier\n"
        "prog.cpp(2): error C2062: type 'int' unexpected\n"
    )
    failure = classify_msvc_failure(output)
    assert failure.reward == MISSING
    assert failure.message == "prog.cpp(2): error C2039: 'vector': is not a member of 'std'"


def test_program_warnings_are_counted_but_not_setup_warnings() -> None:
    output = (
        "prog.cpp\n"
        "prog.cpp(3): warning C4189: 'x': local variable is initialized but not referenced\n"
        "prog.cpp(1): warning C4100: 'argc': unreferenced formal parameter\n"
        "cl : Command line warning D9002 : ignoring unknown option '/foo'\n"
        "LINK : warning LNK4098: defaultlib 'LIBCMT' conflicts with use of other libs\n"
        "prog.cpp(2,18): warning: unused variable 'unused' [-Wunused-variable]\n"
        "prog.cpp(3): note: see declaration of 'x'\n"
    )
    assert count_msvc_warnings(output) == 3


def test_parse_reads_location_code_and_message() -> None:
    [diagnostic] = parse_msvc_diagnostics("prog.cpp(12,7): error C2065: 'y': undeclared identifier")
    assert (diagnostic.file, diagnostic.line, diagnostic.severity) == ("prog.cpp", 12, "error")
    assert (diagnostic.code, diagnostic.message) == ("C2065", "'y': undeclared identifier")


def test_driver_summary_lines_without_location_are_not_diagnostics() -> None:
    assert parse_msvc_diagnostics("clang: error: linker command failed with exit code 1") == []


@pytest.mark.parametrize(
    "output",
    [
        "prog.cpp(1): fatal error C1088: Cannot flush compiler intermediate file: 'x': No space left on device",
        "LINK : fatal error LNK1180: insufficient disk space to complete link",
        "error: unable to open output file 'prog.obj': 'No space left on device'",
    ],
)
def test_disk_full_is_recognised(output: str) -> None:
    assert reports_disk_full(output)


def test_ordinary_errors_are_not_disk_full() -> None:
    assert not reports_disk_full("prog.cpp(3): error C2143: syntax error: missing ';' before '}'")
