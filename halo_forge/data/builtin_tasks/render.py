"""A family instance as a task record: prompt, reference solution and tests, per language.

Every task asks for one function whose exact signature the prompt states; the answer is that
function (with the includes or imports it uses), as it would be for any code model. C and C++
tasks are checked as programs: the record's `tests` is a `main` that the compile verifier
appends to the answer (HumanEval-X style); it reads the function's arguments from stdin in
order (an array as its length n, then its elements; a string as one word), calls the function
and prints the result (a predicate as 1 or 0, an array as its elements separated by spaces),
and `test_cases` give the stdin and expected stdout of each run. Python tasks are checked by
asserts. Every family renders through the same code here, so all tasks of a language share one
layout that a small model can pick up.
"""

from __future__ import annotations

import re
from string import Template
from typing import Any

from halo_forge.data.builtin_tasks.families import Family, Instance, Value

LANGUAGE_NAMES = {"c": "C", "cpp": "C++", "python": "Python"}

_CPP_PARAMS = {
    "int": "int {}",
    "string": "const std::string& {}",
    "array": "const std::vector<int>& {}",
}
_CPP_RETURNS = {"int": "int", "bool": "bool", "string": "std::string", "array": "std::vector<int>"}
_PYTHON_TYPES = {"int": "int", "bool": "bool", "string": "str", "array": "list[int]"}

# Includes are chosen by what the program uses, so bodies never list them.
_C_HEADERS = {
    "ctype.h": r"\b(?:isalpha|isdigit|islower|isupper|tolower|toupper)\(",
    "stdbool.h": r"\bbool\b",
    "stdio.h": r"\b(?:printf|scanf|sprintf)\(",
    "stdlib.h": r"\babs\(",
    "string.h": r"\b(?:memset|strchr|strcmp|strcpy|strlen)\(",
}
_CPP_HEADERS = {
    "algorithm": r"std::(?:count|max|max_element|min|min_element|reverse|sort)\b",
    "cctype": r"std::(?:isalpha|isdigit|islower|isupper|tolower|toupper)\b",
    "cstddef": r"\bsize_t\b",
    "cstdlib": r"std::abs\b",
    "iostream": r"std::(?:cin|cout)\b",
    "map": r"std::map\b",
    "queue": r"std::queue\b",
    "set": r"std::set\b",
    "stack": r"std::stack\b",
    "string": r"std::string\b",
    "vector": r"std::vector\b",
}
_PYTHON_IMPORTS = {"collections": ("Counter", "deque")}


def signature(family: Family, language: str) -> str:
    """The function's declaration as the prompt states it and the solution defines it."""
    if language == "python":
        params = ", ".join(f"{name}: {_PYTHON_TYPES[kind]}" for name, kind in family.params)
        return f"def {family.name}({params}) -> {_PYTHON_TYPES[family.returns]}"
    if language == "cpp":
        params = ", ".join(_CPP_PARAMS[kind].format(name) for name, kind in family.params)
        return f"{_CPP_RETURNS[family.returns]} {family.name}({params})"
    c_params = []
    for name, kind in family.params:
        if kind == "array":
            c_params += [f"const int *{name}", "int n"]
        else:
            c_params.append(f"const char *{name}" if kind == "string" else f"int {name}")
    returns = family.returns
    if returns in ("string", "array"):
        c_params.append("char *out" if returns == "string" else "int *out")
        returns = "void"
    return f"{returns} {family.name}({', '.join(c_params)})"


def prompt(instance: Instance, language: str) -> str:
    """One to three sentences: the signature, what it computes and, for C/C++, that the tests
    bring their own main (so the answer must not define one)."""
    family = instance.family
    summary = Template(family.summary).substitute(instance.constants)
    writes_into_out = language == "c" and family.returns in ("string", "array")
    action = f"computes {summary}" if writes_into_out else f"returns {summary}"
    sentences = [
        f"Write a {LANGUAGE_NAMES[language]} function `{signature(family, language)}` "
        f"that {action}."
    ]
    if writes_into_out:
        sentences.append("The function writes its result into out.")
    if family.category == "recursion":
        sentences.append("Use recursion.")
    if language != "python":
        sentences.append("The tests supply main.")
    return " ".join(sentences)


def solution(instance: Instance, language: str) -> str:
    """The reference solution: the function, after the includes or imports it uses."""
    family = instance.family
    body = {"c": family.c, "cpp": family.cpp or family.c, "python": family.python}[language]
    body = Template(body.strip("\n")).substitute(instance.constants)
    if language == "python":
        imports = [
            f"from {module} import {', '.join(used)}\n\n\n"
            for module, names in _PYTHON_IMPORTS.items()
            if (used := [name for name in names if re.search(rf"\b{name}\(", body)])
        ]
        return "".join(imports) + f"{signature(family, language)}:\n{body}\n"
    return _with_includes(f"{signature(family, language)} {{\n{body}\n}}\n", language)


def harness_main(family: Family, language: str) -> str:
    """The C/C++ `main` (after its own includes) that the verifier appends to an answer."""
    main = _c_main(family) if language == "c" else _cpp_main(family)
    return _with_includes(f"{main}\n", language)


def _with_includes(code: str, language: str) -> str:
    """`code` after the `#include` lines of the headers it uses (none: `code` alone)."""
    headers = _C_HEADERS if language == "c" else _CPP_HEADERS
    includes = [f"#include <{header}>" for header, used in headers.items() if re.search(used, code)]
    return "\n".join(includes) + "\n\n" + code if includes else code


def _scalar_groups(family: Family) -> list[list[tuple[str, str]]]:
    """Parameters in order, consecutive non-array ones grouped so that one read takes them."""
    groups: list[list[tuple[str, str]]] = []
    for name, kind in family.params:
        if kind == "array" or not groups or groups[-1][0][1] == "array":
            groups.append([(name, kind)])
        else:
            groups[-1].append((name, kind))
    return groups


def _c_main(family: Family) -> str:
    lines = ["int main(void) {"]
    arguments = []
    for group in _scalar_groups(family):
        name, kind = group[0]
        if kind == "array":
            lines += [
                f"    int n, {name}[100];",
                '    if (scanf("%d", &n) != 1) return 1;',
                "    for (int i = 0; i < n; i++)",
                f'        if (scanf("%d", &{name}[i]) != 1) return 1;',
            ]
            arguments += [name, "n"]
            continue
        integers = [name for name, kind in group if kind == "int"]
        strings = [name for name, kind in group if kind == "string"]
        if integers:
            lines.append(f"    int {', '.join(integers)};")
        if strings:
            lines.append(f"    char {', '.join(f'{name}[101]' for name in strings)};")
        formats = " ".join("%d" if kind == "int" else "%100s" for _, kind in group)
        targets = ", ".join(f"&{name}" if kind == "int" else name for name, kind in group)
        lines.append(f'    if (scanf("{formats}", {targets}) != {len(group)}) return 1;')
        arguments += [name for name, _ in group]
    call = f"{family.name}({', '.join(arguments)}"
    if family.returns == "string":
        lines += ["    char out[201];", f"    {call}, out);", '    printf("%s\\n", out);']
    elif family.returns == "array":
        lines += [
            "    int out[100];",
            f"    {call}, out);",
            "    for (int i = 0; i < n; i++)",
            "        printf(\"%d%c\", out[i], i + 1 < n ? ' ' : '\\n');",
        ]
    else:
        lines.append(f'    printf("%d\\n", {call}));')
    return "\n".join([*lines, "    return 0;", "}"])


def _cpp_main(family: Family) -> str:
    lines = ["int main() {"]
    for group in _scalar_groups(family):
        name, kind = group[0]
        if kind == "array":
            lines += [
                "    int n;",
                "    std::cin >> n;",
                f"    std::vector<int> {name}(n);",
                f"    for (int& value : {name}) std::cin >> value;",
            ]
            continue
        integers = [name for name, kind in group if kind == "int"]
        strings = [name for name, kind in group if kind == "string"]
        if integers:
            lines.append(f"    int {', '.join(integers)};")
        if strings:
            lines.append(f"    std::string {', '.join(strings)};")
        lines.append(f"    std::cin >> {' >> '.join(name for name, _ in group)};")
    call = f"{family.name}({', '.join(name for name, _ in family.params)})"
    if family.returns == "array":
        lines += [
            f"    std::vector<int> out = {call};",
            "    for (size_t i = 0; i < out.size(); i++)",
            "        std::cout << out[i] << (i + 1 < out.size() ? ' ' : '\\n');",
        ]
    else:
        lines.append(f'    std::cout << {call} << "\\n";')
    return "\n".join([*lines, "    return 0;", "}"])


def stdin_text(family: Family, args: tuple[Value, ...]) -> str:
    """What a C/C++ program reads: one line per argument, an array as its length line first."""
    lines = []
    for (_, kind), value in zip(family.params, args, strict=True):
        if kind == "array":
            lines += [str(len(value)), " ".join(map(str, value))]
        else:
            lines.append(str(value))
    return "\n".join(lines) + "\n"


def output_text(family: Family, value: Value) -> str:
    """What a C/C++ program prints for a function result `value`."""
    if family.returns == "array":
        return " ".join(map(str, value)) + "\n"
    if family.returns == "bool":
        return f"{int(value)}\n"
    return f"{value}\n"


def python_assert(family: Family, args: tuple[Value, ...], value: Value) -> str:
    """`assert name(args) == expected`, the form MBPP-style test lists use."""
    return f"assert {family.name}({', '.join(map(repr, args))}) == {value!r}"


def task_record(instance: Instance, suite: str, language: str) -> dict[str, Any]:
    """The RLVR prompt record of one instance (see `halo_forge.data.records.PromptRecord`)."""
    family = instance.family
    record: dict[str, Any] = {
        "task_id": f"{suite}/{family.name}/{instance.index:03d}",
        "prompt": prompt(instance, language),
        "language": language,
        "category": family.category,
        "difficulty": family.difficulty,
        "entry_point": family.name,
        "solution": solution(instance, language),
    }
    if language == "python":
        asserts = [
            python_assert(family, args, instance.expected(args)) for args in instance.test_inputs
        ]
        record["tests"] = "\n".join(asserts)
        record["test_list"] = asserts
    else:
        record["tests"] = harness_main(family, language)
        record["test_cases"] = [
            {
                "stdin": stdin_text(family, args),
                "expected_output": output_text(family, instance.expected(args)),
            }
            for args in instance.test_inputs
        ]
    return record
