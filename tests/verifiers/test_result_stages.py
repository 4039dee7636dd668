"""Every built-in verifier says in typed fields how far a sample got (`stage`) and whether its
program compiled (`compiled`; for Python: parsed), on a passing, a compile-failing and a
run-failing sample, with real toolchains. A verifier that cannot say leaves `compiled` None."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from verifiers.cpp_programs import ECHO_SUM
from verifiers.ssh_server import BuildHost

from halo_forge.verifiers.base import Verifier, VerifyResult, compiled_of
from halo_forge.verifiers.registry import build_verifier, build_verifier_from_config
from halo_forge.verifiers.remote.msvc import RemoteMSVCVerifier

SUM_CASES = {"test_cases": [{"stdin": "20 22\n", "expected_output": "42\n"}]}
CPP_SYNTAX_ERROR = "int main() { int x = 1 return x; }\n"

RUST_SUM = (
    "use std::io::Read;\nfn main() {\n    let mut input = String::new();\n"
    "    std::io::stdin().read_to_string(&mut input).unwrap();\n"
    "    let sum: i64 = input.split_whitespace().map(|x| x.parse::<i64>().unwrap()).sum();\n"
    '    println!("{}", sum);\n}\n'
)
GO_SUM = (
    'package main\n\nimport "fmt"\n\nfunc main() {\n    var a, b int\n'
    "    fmt.Scan(&a, &b)\n    fmt.Println(a + b)\n}\n"
)
CSHARP_SUM = (
    "using System;\nusing System.Linq;\n\nclass Program {\n    static void Main() {\n"
    '        var n = Console.In.ReadToEnd().Split().Where(s => s != "").Select(long.Parse);\n'
    "        Console.WriteLine(n.Sum());\n    }\n}\n"
)
PYTHON_SUM = "a, b = map(int, input().split())\nprint(a + b)\n"

#: name -> (options, passing, compile-failing, run-failing program; the context of each).
COMPILED_LANGUAGES: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "gcc": ({}, ECHO_SUM, CPP_SYNTAX_ERROR, ECHO_SUM.replace("a + b", "a - b")),
    "clang": ({}, ECHO_SUM, CPP_SYNTAX_ERROR, ECHO_SUM.replace("a + b", "a - b")),
    "rust": ({}, RUST_SUM, "fn main() { let x = 1 }\n", RUST_SUM.replace("sum);", "sum + 1);")),
    "go": ({}, GO_SUM, "package main\nfunc main() { x := }\n", GO_SUM.replace("a + b", "a - b")),
    "csharp": (
        {},
        CSHARP_SUM,
        CSHARP_SUM.replace(";", "", 1),
        CSHARP_SUM.replace("Sum()", "Max()"),
    ),
    "python": ({}, PYTHON_SUM, "print(1 +\n", PYTHON_SUM.replace("a + b", "a - b")),
}
TOOLS = {"gcc": "g++", "clang": "clang++", "rust": "rustc", "go": "go", "csharp": "mcs"}


def outcome(result: VerifyResult) -> tuple[bool, str | None, bool | None]:
    return result.success, result.stage, result.compiled


@pytest.fixture(params=sorted(COMPILED_LANGUAGES))
def language(request: pytest.FixtureRequest) -> str:
    tool = TOOLS.get(request.param)
    if tool is not None and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    return request.param


@pytest.fixture
def checked(language: str) -> Iterator[Verifier]:
    options = COMPILED_LANGUAGES[language][0]
    with build_verifier(language, use_cache=False, **options) as verifier:
        yield verifier


def test_each_verifier_records_how_far_a_run_checked_sample_got(
    language: str, checked: Verifier
) -> None:
    _, passing, broken, wrong = COMPILED_LANGUAGES[language]
    results = checked.verify_batch([passing, broken, wrong], contexts=[SUM_CASES] * 3)
    compile_stage = "parse" if language == "python" else "compile"
    assert [outcome(result) for result in results] == [
        (True, "run", True),
        (False, compile_stage, False),
        (False, "run", True),
    ]


def test_a_compile_only_check_stops_at_the_compile_stage() -> None:
    with build_verifier("mingw", use_cache=False) as mingw:
        passing, broken = mingw.verify_batch([ECHO_SUM, CPP_SYNTAX_ERROR])
    assert outcome(passing) == (True, "compile", True)
    assert outcome(broken) == (False, "compile", False)


def test_a_program_that_does_not_link_stops_at_the_link_stage() -> None:
    with build_verifier("gcc", use_cache=False) as gcc:
        result = gcc.verify("int helper();\nint main() { return helper(); }\n")
    assert outcome(result) == (False, "link", False)


def test_an_answer_without_code_stops_at_extraction() -> None:
    with build_verifier("gcc", use_cache=False) as gcc:
        assert outcome(gcc.verify("")) == (False, "extract", False)
    with build_verifier("python", use_cache=False) as python:
        assert outcome(python.verify("")) == (False, "extract", False)


MBPP_TESTS = {"tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}
HUMANEVAL_TASK = {
    "prompt": 'def add(a, b):\n    """Sum of a and b."""\n',
    "tests": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    "entry_point": "add",
}
UNITTEST = (
    "import unittest\n\ndef add(a, b):\n    return a + b\n\n"
    "class T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n"
)
PYTEST = "def add(a, b):\n    return a + b\n\ndef test_add():\n    assert add(1, 2) == 3\n"

#: name -> (context, passing, not parsing, failing its tests).
PYTHON_TEST_VERIFIERS: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "mbpp": (
        MBPP_TESTS,
        "def add(a, b):\n    return a + b\n",
        "def add(a, b) return a + b\n",
        "def add(a, b):\n    return a - b\n",
    ),
    "humaneval": (HUMANEVAL_TASK, "    return a + b\n", "    return a +\n", "    return a - b\n"),
    "unittest": (UNITTEST, UNITTEST, UNITTEST.replace("):", ")", 1), UNITTEST.replace("+", "-")),
    "pytest": (PYTEST, PYTEST, PYTEST.replace("):", ")", 1), PYTEST.replace("+", "-")),
}


@pytest.mark.parametrize("name", sorted(PYTHON_TEST_VERIFIERS))
def test_python_test_verifiers_record_parse_and_test_stages(name: str) -> None:
    context, passing, broken, failing = PYTHON_TEST_VERIFIERS[name]
    context = context if name in ("mbpp", "humaneval") else {}
    with build_verifier(name, use_cache=False) as verifier:
        results = verifier.verify_batch([passing, broken, failing], contexts=[context] * 3)
    assert [outcome(result) for result in results] == [
        (True, "tests", True),
        (False, "parse", False),
        (False, "tests", True),
    ]


def test_a_subprocess_verifier_ran_its_command_but_cannot_say_what_compiled() -> None:
    options = {
        "command": [sys.executable, "-c", "import sys; sys.exit('x' in open(sys.argv[1]).read())"]
    }
    with build_verifier("subprocess", **options) as verifier:
        passing, failing = verifier.verify("print(1)"), verifier.verify("x")
    assert outcome(passing) == (True, "run", None)
    assert outcome(failing) == (False, "run", None)


def test_a_chain_reports_its_last_stage_and_whether_any_stage_saw_the_program_compile() -> None:
    failing_command = {"type": "subprocess", "command": ["false"]}
    chain = {"type": "chain", "stages": [{"type": "gcc", "use_cache": False}, failing_command]}
    with build_verifier_from_config(chain) as verifier:
        compiled_then_refused = verifier.verify(ECHO_SUM, **SUM_CASES)
        never_compiled = verifier.verify(CPP_SYNTAX_ERROR)
    assert outcome(compiled_then_refused) == (False, "run", True)
    assert outcome(never_compiled) == (False, "compile", False)


def test_auto_passes_the_language_verifiers_fields_on_and_marks_unknown_languages() -> None:
    with build_verifier("auto") as verifier:
        python, unknown = verifier.verify_batch(
            ["```python\nprint(42)\n```", "```cobol\nDISPLAY 42.\n```"],
            contexts=[{"expected_output": "42\n"}, {}],
        )
    assert outcome(python) == (True, "run", True)
    assert outcome(unknown) == (False, "dispatch", None)


def test_the_remote_msvc_verifier_records_compile_and_run_stages(
    build_host: BuildHost, tmp_path: Path
) -> None:
    options = build_host.options(tmp_path, use_cache=False)
    with RemoteMSVCVerifier(**options) as verifier:
        results = verifier.verify_batch(
            [ECHO_SUM, CPP_SYNTAX_ERROR, ECHO_SUM.replace("a + b", "a - b")],
            contexts=[SUM_CASES] * 3,
        )
    assert [outcome(result) for result in results] == [
        (True, "run", True),
        (False, "compile", False),
        (False, "run", True),
    ]
    assert [compiled_of(result) for result in results] == [True, False, True]
