"""Rows of public datasets, in their Hugging Face Hub columns, as halo-forge tasks.

Each converter takes one row (a dict, exactly as `datasets` yields it) and returns a
`ConvertedTask`: the RLVR `PromptRecord`, which keeps the dataset's tests in the form its
verifier reads, and the reference answer for the SFT form (a fenced code block), or `None` when
the dataset has none. A row that cannot become a verifiable task (no solution in the language,
an interactive problem) raises `UnusableRow` with the reason; the caller counts and skips it.

Besides the hub layout, `mbpp` and the CodeForces converters accept the project's flat layout
(`{task_id|id, prompt, solution, ...}`, as in `shared/data/`), recognised by its columns.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from halo_forge.data.records import IOTestCase, PromptRecord

#: Test cases kept per CodeForces problem: the public examples first, then hidden tests. More
#: cases make a stricter reward but larger records and slower verification.
MAX_TEST_CASES = 10

_LANGUAGE_NAMES = {"cpp": "C++17", "python": "Python 3", "rust": "Rust"}
_FENCE_TAGS = {"cpp": "cpp", "python": "python", "rust": "rust"}
# deepmind/code_contests class labels (the `source` and `solutions.language` columns).
_CODEFORCES_SOURCE = 2
_CODE_CONTESTS_LANGUAGES = {"cpp": 2, "python": 3}  # CPP, PYTHON3


class UnusableRow(Exception):
    """A row that cannot become a verifiable task; the message is the reason, for the summary."""


@dataclass(frozen=True)
class ConvertedTask:
    """One dataset row as a task: the RLVR record and, when known, a reference answer."""

    prompt: PromptRecord
    completion: str | None  # reference answer for SFT, None if the dataset has none


def fenced(code: str, language: str) -> str:
    """`code` in a Markdown fence tagged with `language`, the form verifiers extract from.

    Windows line endings (common in MBPP) become `\\n`, so models learn one convention.
    """
    code = code.replace("\r\n", "\n").strip()
    return f"```{_FENCE_TAGS.get(language, language)}\n{code}\n```"


def stdio_instruction(language: str) -> str:
    """The sentence that tells the model what kind of program a stdin/stdout task wants."""
    return (
        f"Write a complete {_LANGUAGE_NAMES[language]} program that reads the input from "
        "standard input and prints the answer to standard output."
    )


# ----------------------------------------------------------------------------- MBPP


def _test_statements(tests: str) -> list[str]:
    """The statements of a test script, or of its single `def test_...():` function's body."""
    try:
        body = ast.parse(tests).body
    except SyntaxError as error:
        raise UnusableRow(f"tests are not valid Python ({error.msg})") from None
    if len(body) == 1 and isinstance(body[0], ast.FunctionDef):
        body = body[0].body
    return [ast.get_source_segment(tests, statement) or "" for statement in body]


def _called_function(code: str, test_list: list[str]) -> str | None:
    """The solution's function that the tests call (MBPP's hub rows do not name it)."""
    try:
        defined = [node.name for node in ast.parse(code).body if isinstance(node, ast.FunctionDef)]
    except SyntaxError:
        defined = re.findall(r"^def\s+(\w+)\s*\(", code, flags=re.MULTILINE)
    for test in test_list:
        try:
            nodes = list(ast.walk(ast.parse(test)))
        except SyntaxError:  # the verifier will report it; the name may still come from another
            continue
        for node in nodes:
            called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if called and node.func.id in defined:
                return node.func.id
    return defined[0] if defined else None


def mbpp_task(row: Mapping[str, Any]) -> ConvertedTask:
    """MBPP, full (`text, code, test_list, test_setup_code`) or sanitized (`prompt, code,
    test_imports, test_list`) config, or the flat layout (`prompt, entry_point, tests, solution`).

    `tests` is the runnable test script (setup lines, then the asserts), `test_list` the asserts.
    The prompt shows the asserts, as in the MBPP paper, because the task text alone rarely
    says the function's name and argument order.
    """
    if "test_list" in row:
        solution = row["code"]
        test_list = list(row["test_list"])
        setup_lines = [row.get("test_setup_code") or "", *(row.get("test_imports") or [])]
        setup = "\n".join(line for line in setup_lines if line.strip())
        text = row["text"] if "text" in row else row["prompt"]
        entry_point = _called_function(solution, test_list)
    else:  # flat layout: `tests` is a pytest-style `def test_solution(): assert ...`
        solution = row.get("solution")
        test_list = _test_statements(row["tests"])
        setup = ""
        text = row["prompt"]
        entry_point = row["entry_point"]
    asserts = "\n".join(test_list)
    record = PromptRecord(
        prompt=f"{text.strip()}\n\nYour code should pass these tests:\n\n{asserts}",
        task_id=row["task_id"],
        language="python",
        tests=f"{setup}\n\n{asserts}" if setup else asserts,
        test_list=test_list,
        entry_point=entry_point,
        metadata={"test_setup_code": setup} if setup else {},
    )
    return ConvertedTask(record, fenced(solution, "python") if solution else None)


# ----------------------------------------------------------------------------- HumanEval


def humaneval_task(row: Mapping[str, Any]) -> ConvertedTask:
    """openai/openai_humaneval: `task_id, prompt, canonical_solution, test, entry_point`.

    The prompt is the function signature and docstring, as published; the verifier completes
    it with the model's answer and runs `test` (which defines `check`) on `entry_point`.
    """
    record = PromptRecord(
        prompt=row["prompt"],
        task_id=row["task_id"],
        language="python",
        tests=row["test"],
        entry_point=row["entry_point"],
    )
    return ConvertedTask(record, fenced(row["prompt"] + row["canonical_solution"], "python"))


# ----------------------------------------------------------------------------- built-in suites


def builtin_task(row: Mapping[str, Any]) -> ConvertedTask:
    """A task of `halo_forge.data.builtin_tasks`: the reference `solution` becomes the SFT answer.

    The RLVR record never carries the solution: RAFT prompts must be learnable from their tests
    alone, so a prompt file cannot leak the answer into training.
    """
    fields = {key: value for key, value in row.items() if key != "solution"}
    return ConvertedTask(PromptRecord(**fields), fenced(row["solution"], row["language"]))


# ----------------------------------------------------------------------------- CodeAlpaca


def codealpaca_task(row: Mapping[str, Any]) -> ConvertedTask:
    """sahil2801/CodeAlpaca-20k: `instruction, input, output` (no tests: SFT only)."""
    extra_input = (row.get("input") or "").strip()
    prompt = row["instruction"].strip() + (f"\n\n{extra_input}" if extra_input else "")
    return ConvertedTask(PromptRecord(prompt=prompt), row["output"])


# ----------------------------------------------------------------------------- CodeForces


def _io_pairs(tests: Any) -> list[tuple[str, str]]:
    """(input, output) pairs from a list of `{input, output}` or a `{input: [], output: []}`."""
    if not tests:
        return []
    if isinstance(tests, Mapping):
        return list(zip(tests.get("input") or [], tests.get("output") or [], strict=True))
    return [(case["input"], case["output"]) for case in tests]


def _test_cases(*groups: Any) -> list[IOTestCase]:
    pairs = [pair for group in groups for pair in _io_pairs(group)]
    return [IOTestCase(stdin=stdin, expected_output=out) for stdin, out in pairs[:MAX_TEST_CASES]]


def _flat_task(row: Mapping[str, Any], language: str) -> ConvertedTask:
    """The flat layout (`id, title, difficulty, prompt, solution`): no tests, so the verifier
    can only compile and run it; useful offline and for compile-rate work."""
    record = PromptRecord(
        prompt=f"{row['prompt'].strip()}\n\n{stdio_instruction(language)}",
        task_id=row.get("task_id", row.get("id")),
        language=language,
        difficulty=row.get("difficulty"),
        metadata={"title": row["title"]} if row.get("title") else {},
    )
    solution = row.get("solution")
    return ConvertedTask(record, fenced(solution, language) if solution else None)


def code_contests_task(row: Mapping[str, Any], language: str) -> ConvertedTask:
    """deepmind/code_contests, CodeForces problems only: `name, description, public_tests,
    private_tests, solutions {language, solution}, source, cf_contest_id, cf_index, cf_rating,
    cf_tags`. The first accepted solution in `language` is the SFT answer."""
    if "solutions" not in row:
        return _flat_task(row, language)
    if row["source"] != _CODEFORCES_SOURCE:
        raise UnusableRow("not a CodeForces problem")
    wanted = _CODE_CONTESTS_LANGUAGES[language]
    solutions = row["solutions"] or {}
    solution = next(
        (
            code
            for code_language, code in zip(
                solutions.get("language") or [], solutions.get("solution") or [], strict=True
            )
            if code_language == wanted
        ),
        None,
    )
    if solution is None:
        raise UnusableRow(f"no {_LANGUAGE_NAMES[language]} solution")
    test_cases = _test_cases(row.get("public_tests"), row.get("private_tests"))
    if not test_cases:
        raise UnusableRow("no tests")
    contest, index = row.get("cf_contest_id"), row.get("cf_index")
    record = PromptRecord(
        prompt=f"{row['description'].strip()}\n\n{stdio_instruction(language)}",
        task_id=f"{contest}/{index}" if contest else row["name"],
        language=language,
        difficulty=row.get("cf_rating") or None,
        test_cases=test_cases,
        metadata={"name": row["name"], "tags": list(row.get("cf_tags") or [])},
    )
    return ConvertedTask(record, fenced(solution, language))


def _open_r1_statement(row: Mapping[str, Any]) -> str:
    sections = [row["title"], row["description"]]
    for title, key in (("Input Format", "input_format"), ("Output Format", "output_format")):
        if row.get(key):
            sections.append(f"{title}:\n{row[key]}")
    for number, (stdin, output) in enumerate(_io_pairs(row.get("examples")), start=1):
        sections.append(
            f"Example {number} input:\n```\n{stdin.rstrip()}\n```\n"
            f"Example {number} output:\n```\n{output.rstrip()}\n```"
        )
    if row.get("note"):
        sections.append(f"Note:\n{row['note']}")
    return "\n\n".join(section.strip() for section in sections if section and section.strip())


def open_r1_codeforces_task(row: Mapping[str, Any], language: str) -> ConvertedTask:
    """open-r1/codeforces: `id, title, description, input_format, output_format, examples,
    note, rating, tags, official_tests, input_mode, interaction_format, generated_checker`.

    The dataset has no solutions (RLVR only). Problems are kept only when an exact output
    comparison can judge them: stdin/stdout, not interactive, no custom checker.
    """
    if "description" not in row:
        return _flat_task(row, language)
    if row.get("interaction_format"):
        raise UnusableRow("interactive problem")
    if row.get("input_mode", "stdio") != "stdio":
        raise UnusableRow("reads files instead of stdin")
    if row.get("generated_checker"):
        raise UnusableRow("several outputs are accepted (needs a checker)")
    test_cases = _test_cases(row.get("official_tests") or row.get("examples"))
    if not test_cases:
        raise UnusableRow("no tests")
    record = PromptRecord(
        prompt=f"{_open_r1_statement(row)}\n\n{stdio_instruction(language)}",
        task_id=row["id"],
        language=language,
        difficulty=row.get("rating") or None,
        test_cases=test_cases,
        metadata={"tags": list(row.get("tags") or [])},
    )
    return ConvertedTask(record, None)
