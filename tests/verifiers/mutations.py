"""Broken variants of working C/C++ programs: negative samples for checking a verifier.

A verifier that says "compiles" to everything is useless, and one that only ever sees correct
programs cannot be told apart from it. These edits turn a working program into the kinds of
mistakes models make (a lost semicolon, a misspelt name, no `main`, ...), so the verdict tests
and the throughput benchmark see both verdicts, and so can a check of a custom verifier.
Each edit is deterministic; a variant that happens to still compile is fine, since verdicts
are compared with the real compiler's, never assumed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SEMICOLON = re.compile(r";")
_MAIN = re.compile(r"\bint\s+main\s*\(")
_INCLUDE_LINE = re.compile(r"^[ \t]*#[ \t]*include[^\n]*\n", re.MULTILINE)
_DECLARED_INT = re.compile(
    r"\b(?:int|long long|long|double|string|char|bool)\s+([a-z_]\w*)\s*[;=,)]"
)
_MAIN_BODY = re.compile(r"\bint\s+main\s*\([^)]*\)\s*\{")


def delete_semicolon(code: str) -> str:
    """Remove the semicolon in the middle of the program (a syntax error)."""
    positions = [match.start() for match in _SEMICOLON.finditer(code)]
    if not positions:
        return code
    cut = positions[len(positions) // 2]
    return code[:cut] + code[cut + 1 :]


def rename_variable(code: str) -> str:
    """Misspell the last use of the first declared variable (an undeclared name)."""
    declared = _DECLARED_INT.search(code)
    if declared is None:
        return code
    name = declared.group(1)
    uses = [
        m.start()
        for m in re.finditer(rf"\b{re.escape(name)}\b", code)
        if m.start() > declared.end()
    ]
    if not uses:
        return code
    position = uses[-1]
    return code[:position] + name + "_misspelt" + code[position + len(name) :]


def drop_main(code: str) -> str:
    """Rename `main` so the program no longer links (a translation unit without `main`)."""
    return _MAIN.sub("int solve_main(", code, count=1)


def drop_first_include(code: str) -> str:
    """Delete the first `#include` line (missing declarations)."""
    return _INCLUDE_LINE.sub("", code, count=1)


def add_type_error(code: str) -> str:
    """Assign a string literal to an `int` at the start of `main` (a type error)."""
    return _MAIN_BODY.sub(lambda m: m.group(0) + ' int type_error = "text";', code, count=1)


def add_undefined_call(code: str) -> str:
    """Call a function that is declared but never defined (an undefined reference at link)."""
    body = _MAIN_BODY.search(code)
    if body is None:
        return code
    declaration = "int never_defined_helper(int);\n"
    call = " never_defined_helper(0);"
    return (
        code[: body.start()]
        + declaration
        + code[body.start() : body.end()]
        + call
        + code[body.end() :]
    )


def delete_last_brace(code: str) -> str:
    """Delete the program's last closing brace (unbalanced braces)."""
    position = code.rfind("}")
    return code if position == -1 else code[:position] + code[position + 1 :]


MUTATIONS: dict[str, Callable[[str], str]] = {
    "delete_semicolon": delete_semicolon,
    "rename_variable": rename_variable,
    "drop_main": drop_main,
    "drop_first_include": drop_first_include,
    "add_type_error": add_type_error,
    "add_undefined_call": add_undefined_call,
    "delete_last_brace": delete_last_brace,
}


def broken_variant(code: str, index: int) -> tuple[str, str]:
    """The `index`-th kind of edit (cycling through `MUTATIONS`) applied to `code`: (name, code)."""
    name = list(MUTATIONS)[index % len(MUTATIONS)]
    return name, MUTATIONS[name](code)
