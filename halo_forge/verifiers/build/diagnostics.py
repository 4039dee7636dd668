"""Read GCC, Clang and linker diagnostics: count warnings, classify why a compile failed.

The graduated reward separates "garbage" from "almost compiles", and the compiler already
says which one it saw. The FIRST error decides, because later errors are usually knock-on
effects of it: a missing `#include <vector>` first reports "'vector' is not a member of
'std'" and then "expected primary-expression", which must not turn a missing include into a
syntax error. The tiers:

- syntax (0.0): the parser gave up: "expected ...", stray characters, unterminated literals
  or comments, unbalanced braces;
- missing declaration (0.1): an undeclared name, a name missing from `std`, a type that was
  never declared, a header that does not exist;
- semantic (0.2): every other compiler error (types, overloads, const-correctness, ...) and
  link errors (no `main`, undefined references, multiple definitions);
- warning promoted to an error by `-Werror` (0.3, the "compiles with warnings" tier).

Messages are matched in the C locale (the sandbox runs compilers with `LC_ALL=C`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from halo_forge.verifiers.result import RewardLevel

_DIAGNOSTIC_LINE = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<column>\d+):)?\s*"
    r"(?P<severity>fatal error|error|warning|note):\s*(?P<message>.*)$",
    re.MULTILINE,
)
_LINK_ERROR = re.compile(
    r"undefined reference to|multiple definition of|relocation truncated|"
    r"cannot find -l|ld returned \d+ exit status|linker command failed",
)
_UNDEFINED_REFERENCE = re.compile(r"undefined (?:reference to [`']|symbol: )(?P<symbol>[^'`\s]+)")
_OTHER_LINK_ERROR = re.compile(r"multiple definition of|relocation truncated|cannot find -l")
#: Symbols that the C runtime's startup code references, whatever the program's optimisation.
ENTRY_POINTS = frozenset({"main", "wmain", "WinMain", "wWinMain"})
_WARNING_AS_ERROR = re.compile(r"\[-Werror(?:=|,)")
_MISSING_DECLARATION = re.compile(
    r"was not declared in this scope|has not been declared|is not a member of|"
    r"does not name a (?:type|template type)|undeclared|unknown type name|"
    r"no (?:member|type|template) named .* in namespace|No such file or directory|"
    r"file not found|implicit declaration of function|is not a namespace-name|"
    r"a declaration of .* must be available"
)
_SYNTAX = re.compile(
    r"^expected |stray .* in program|missing terminating|unterminated|at end of input|"
    r"extraneous closing brace|expected (?:unqualified-id|expression|identifier)|"
    r"invalid preprocessing directive|#(?:else|elif|endif) without #if|unbalanced|"
    r"parse error|expected '[^']*' before"
)


@dataclass(frozen=True)
class Diagnostic:
    """One `file:line:column: severity: message` line of compiler output."""

    file: str
    line: int
    column: int | None
    severity: str  # "error", "fatal error", "warning" or "note"
    message: str


@dataclass(frozen=True)
class CompileFailure:
    """Why a compile failed: its reward tier, a short kind and the deciding message."""

    reward: RewardLevel
    kind: str  # "syntax", "missing_declaration", "semantic", "link", "warning_as_error"
    message: str


def parse_diagnostics(output: str) -> list[Diagnostic]:
    """Every located diagnostic in a compiler's output, in order (source excerpts skipped)."""
    return [
        Diagnostic(
            file=match["file"],
            line=int(match["line"]),
            column=int(match["column"]) if match["column"] else None,
            severity=match["severity"],
            message=match["message"].strip(),
        )
        for match in _DIAGNOSTIC_LINE.finditer(output)
    ]


def count_warnings(output: str) -> int:
    """Warnings the compiler reported (notes, which explain a warning, are not counted)."""
    return sum(1 for diagnostic in parse_diagnostics(output) if diagnostic.severity == "warning")


def classify_message(message: str) -> tuple[RewardLevel, str]:
    """Reward tier and kind of one error message."""
    if _WARNING_AS_ERROR.search(message):
        return RewardLevel.COMPILE_WARNINGS, "warning_as_error"
    if _MISSING_DECLARATION.search(message):
        return RewardLevel.MISSING_DECLARATION, "missing_declaration"
    if _SYNTAX.search(message):
        return RewardLevel.SYNTAX_ERROR, "syntax"
    return RewardLevel.SEMANTIC_ERROR, "semantic"


def only_entry_point_undefined(output: str) -> bool:
    """Whether a failed link reports nothing but a missing entry point (no `main`).

    No optimisation level can make such a program link (the startup code references `main`),
    so a link check need not rebuild it at the reference level to be sure.
    """
    symbols = {match["symbol"] for match in _UNDEFINED_REFERENCE.finditer(output)}
    return bool(symbols) and symbols <= ENTRY_POINTS and not _OTHER_LINK_ERROR.search(output)


def classify_failure(output: str) -> CompileFailure:
    """Classify a failed compile (or link) from its output by the first error reported."""
    for diagnostic in parse_diagnostics(output):
        if diagnostic.severity in ("error", "fatal error"):
            reward, kind = classify_message(diagnostic.message)
            location = f"{diagnostic.file}:{diagnostic.line}"
            return CompileFailure(reward, kind, f"{location}: {diagnostic.message}")
    for line in output.splitlines():
        if _LINK_ERROR.search(line):
            return CompileFailure(RewardLevel.SEMANTIC_ERROR, "link", line.strip())
    first_line = next((line.strip() for line in output.splitlines() if line.strip()), "")
    return CompileFailure(RewardLevel.SYNTAX_ERROR, "unknown", first_line or "compiler failed")
