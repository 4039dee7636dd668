"""Read MSVC (`cl`, `link`) diagnostics: count warnings, classify why a build failed.

MSVC names every diagnostic with a code (`error C2143`, `warning C4189`, `error LNK2019`), so
the reward tier comes from Microsoft's documented codes rather than from message wording,
which changes between compiler versions and UI languages. As with GCC and Clang
(`build/diagnostics.py`), the FIRST error decides, because later ones are usually knock-on effects.
The tiers, on the shared `RewardLevel` scale:

- syntax (0.0): the parser gave up (C2143 missing token, C2059 syntax error, C1004 end of file,
  C2001 newline in constant, ...);
- missing declaration (0.1): a header that does not exist (C1083), an undeclared name (C2065,
  C3861), a name missing from a namespace or class (C2039, C2653), an undefined type;
- semantic (0.2): every other compiler error (conversions C2440/C2664, overloads, ...) and
  link errors (LNK2019 unresolved external, LNK1120, LNK1561 no entry point): a program that
  does not link does not compile, exactly as for the GCC verifier;
- warning treated as an error (C2220 under `/WX`): 0.3, the "compiles with warnings" tier.

Clang in MSVC mode (`clang-cl`) prints `prog.cpp(3,10): error: expected ';'` without codes: such
messages are classified by their text with the GCC/Clang rules, and output with no MSVC-style
diagnostic at all (a GNU linker's "undefined reference") goes to `classify_failure` whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from halo_forge.verifiers.build.diagnostics import (
    CompileFailure,
    classify_failure,
    classify_message,
)
from halo_forge.verifiers.result import RewardLevel

#: `file(line[,column]) : severity CODE: message`; the location is optional for LNK and D codes.
_MSVC_LINE = re.compile(
    r"^(?P<file>[^\n]*?)(?:\((?P<line>\d+)(?:,(?P<column>\d+))?\))?\s*:\s*"
    r"(?P<severity>fatal error|error|warning|note|command line error|command line warning)"
    r"(?:\s+(?P<code>[A-Z]{1,3}\d{4}))?\s*:\s*(?P<message>.*?)\s*$",
    re.MULTILINE | re.IGNORECASE,
)

#: The parser gave up: Microsoft's "syntax error" and unbalanced-token codes.
SYNTAX_CODES = frozenset(
    {
        "C1004",  # unexpected end-of-file found
        "C1020",  # unexpected #endif
        "C1021",  # invalid preprocessor command
        "C1070",  # mismatched #if/#endif pair
        "C1071",  # unexpected end of file found in comment
        "C1075",  # no matching token found
        "C2001",  # newline in constant
        "C2014",  # preprocessor command must start as first nonwhite space
        "C2015",  # too many characters in constant
        "C2017",  # illegal escape sequence
        "C2018",  # unknown character
        "C2059",  # syntax error: 'token'
        "C2061",  # syntax error: identifier
        "C2062",  # type unexpected
        "C2143",  # syntax error: missing 'token1' before 'token2'
        "C2144",  # syntax error: 'type' should be preceded by 'token'
        "C2146",  # syntax error: missing 'token' before identifier
        "C2238",  # unexpected token(s) preceding ';'
        "C2334",  # unexpected token(s) preceding '{'; skipping apparent function body
        "C2447",  # '{': missing function header (old-style formal list?)
        "C2449",  # found '{' at file scope (missing function header?)
    }
)

#: A name or header that is not there: the usual result of a forgotten #include or std::.
MISSING_DECLARATION_CODES = frozenset(
    {
        "C1083",  # cannot open include file
        "C2027",  # use of undefined type
        "C2039",  # 'name': is not a member of 'std'
        "C2065",  # 'name': undeclared identifier
        "C2079",  # 'name' uses undefined class
        "C2504",  # base class undefined
        "C2653",  # 'name': is not a class or namespace name
        "C2871",  # 'name': a namespace with this name does not exist
        "C3861",  # 'name': identifier not found
        "C4430",  # missing type specifier - int assumed (an unknown type name; an error in C++)
    }
)

#: Under /WX the first error is C2220 and the warnings that caused it follow.
WARNING_AS_ERROR_CODE = "C2220"
#: Free space ran out on the build host: not the program's fault.
_DISK_FULL = re.compile(
    r"No space left on device|not enough space on the disk|insufficient disk space|\bLNK1180\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MsvcDiagnostic:
    """One diagnostic line of `cl` or `link` output (code None for clang-cl's code-less lines)."""

    file: str
    line: int | None
    severity: str  # lower case: "error", "fatal error", "warning", "command line error", ...
    code: str | None
    message: str


def parse_msvc_diagnostics(output: str) -> list[MsvcDiagnostic]:
    """Diagnostics in `output`, in order: lines with an MSVC code, and located code-less lines.

    A code-less line without a `(line)` location (`clang: error: linker command failed`) is
    left out: it is a driver summary, and the lines of the tool that failed explain it better.
    """
    diagnostics = []
    for match in _MSVC_LINE.finditer(output):
        if match["code"] is None and match["line"] is None:
            continue
        diagnostics.append(
            MsvcDiagnostic(
                file=match["file"].strip(),
                line=int(match["line"]) if match["line"] else None,
                severity=match["severity"].lower(),
                code=match["code"].upper() if match["code"] else None,
                message=match["message"],
            )
        )
    return diagnostics


def count_msvc_warnings(output: str) -> int:
    """Warnings about the program: `warning C4xxx` (and clang-cl's code-less located warnings).

    Linker (LNK4xxx) and command-line (D9xxx) warnings are about the build setup, which is
    the same for every sample, so they would shift every reward alike and are not counted.
    """
    return sum(
        1
        for diagnostic in parse_msvc_diagnostics(output)
        if diagnostic.severity == "warning"
        and (diagnostic.code is None or diagnostic.code.startswith("C"))
    )


def classify_code(code: str) -> tuple[RewardLevel, str]:
    """Reward tier and kind of one MSVC error code."""
    if code == WARNING_AS_ERROR_CODE:
        return RewardLevel.COMPILE_WARNINGS, "warning_as_error"
    if code.startswith("LNK"):
        return RewardLevel.SEMANTIC_ERROR, "link"
    if code.startswith("D"):
        return RewardLevel.SYNTAX_ERROR, "command_line"
    if code in SYNTAX_CODES:
        return RewardLevel.SYNTAX_ERROR, "syntax"
    if code in MISSING_DECLARATION_CODES:
        return RewardLevel.MISSING_DECLARATION, "missing_declaration"
    return RewardLevel.SEMANTIC_ERROR, "semantic"


def classify_msvc_failure(output: str) -> CompileFailure:
    """Classify a failed `cl` build from its output by the first error reported.

    Kind "command_line" (a D8xxx error) means `cl` rejected its flags: no sample can build,
    so the verifier reports it as a setup error rather than scoring it.
    """
    for diagnostic in parse_msvc_diagnostics(output):
        if "error" not in diagnostic.severity:
            continue
        if diagnostic.code is not None:
            reward, kind = classify_code(diagnostic.code)
        else:
            reward, kind = classify_message(diagnostic.message)
        location = diagnostic.file + (f"({diagnostic.line})" if diagnostic.line else "")
        code = f" {diagnostic.code}" if diagnostic.code else ""
        return CompileFailure(
            reward, kind, f"{location}: {diagnostic.severity}{code}: {diagnostic.message}"
        )
    return classify_failure(output)


def reports_disk_full(output: str) -> bool:
    """Whether compiler or linker output says the build host ran out of disk space."""
    return bool(_DISK_FULL.search(output))
