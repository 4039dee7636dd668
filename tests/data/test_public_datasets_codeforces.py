"""Public CodeForces datasets: fixture rows in the hub layouts, reference solutions run on the tests.

deepmind/code_contests and open-r1/codeforces rows, and the project's flat copy, go through the
real loading and conversion; C++ solutions are compiled with g++ and run on the converted tests.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from data.dataset_files import (
    SHARED_DATA,
    code_of,
    prompts_in,
    run_python,
    sft_in,
    write_jsonl,
    write_parquet,
)

from halo_forge.data.public_datasets import prepare_dataset, sft_path_for
from halo_forge.errors import ConfigError

# ----------------------------------------------------------------------------- CodeForces


def code_contests_row(name: str, source: int, solutions: dict, **extra: object) -> dict:
    """One deepmind/code_contests row: tests and solutions are structs of parallel lists."""
    row = {
        "name": name,
        "description": "Read two integers a and b. Print a + b.",
        "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
        "private_tests": {"input": ["5 7\n", "-4 4\n"], "output": ["12\n", "0\n"]},
        "generated_tests": {"input": [], "output": []},
        "source": source,
        "difficulty": 7,
        "solutions": solutions,
        "incorrect_solutions": {"language": [], "solution": []},
        "cf_contest_id": 1,
        "cf_index": "A",
        "cf_points": 500.0,
        "cf_rating": 800,
        "cf_tags": ["math", "implementation"],
        "is_description_translated": False,
        "untranslated_description": "",
        "time_limit": {"seconds": 2, "nanos": 0},
        "memory_limit_bytes": 256000000,
        "input_file": "",
        "output_file": "",
    }
    return row | extra


CPP_SUM = "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }"
PYTHON_SUM = "a, b = map(int, input().split())\nprint(a + b)"


def test_code_contests_parquet_keeps_codeforces_problems_with_a_solution(tmp_path: Path) -> None:
    rows = [
        code_contests_row(
            "1_A. Sum", 2, {"language": [4, 2, 3], "solution": ["java", CPP_SUM, PYTHON_SUM]}
        ),
        code_contests_row("p00001 Sum", 6, {"language": [2], "solution": [CPP_SUM]}),
        code_contests_row("2_B. Java only", 2, {"language": [4], "solution": ["class A {}"]}),
    ]
    source = write_parquet(tmp_path / "train-00000-of-00039.parquet", rows)

    cpp_output = tmp_path / "cpp.jsonl"
    summary = prepare_dataset("codeforces_cpp", cpp_output, form="both", source=source)
    assert summary.skipped == {"not a CodeForces problem": 1, "no C++17 solution": 1}
    (prompt,) = prompts_in(cpp_output)
    (pair,) = sft_in(sft_path_for(cpp_output))
    assert (prompt.task_id, prompt.language, prompt.difficulty) == ("1/A", "cpp", 800)
    assert "standard input" in prompt.prompt and "C++17" in prompt.prompt
    assert [(case.stdin, case.expected_output) for case in prompt.test_cases] == [
        ("1 2\n", "3\n"),
        ("5 7\n", "12\n"),
        ("-4 4\n", "0\n"),
    ]
    assert pair.completion.startswith("```cpp\n")

    binary = tmp_path / "sum"
    program = tmp_path / "sum.cpp"
    program.write_text(code_of(pair.completion), encoding="utf-8")
    subprocess.run([shutil.which("g++") or "g++", "-O0", "-o", binary, program], check=True)
    for case in prompt.test_cases:
        run = subprocess.run([binary], input=case.stdin, capture_output=True, text=True, check=True)
        assert run.stdout == case.expected_output

    python_output = tmp_path / "python.jsonl"
    prepare_dataset("codeforces_python", python_output, form="both", source=source)
    (python_prompt,) = prompts_in(python_output)
    (python_pair,) = sft_in(sft_path_for(python_output))
    for case in python_prompt.test_cases:
        run = run_python(code_of(python_pair.completion), stdin=case.stdin)
        assert run.stdout == case.expected_output


def open_r1_row(problem_id: str, **extra: object) -> dict:
    """One open-r1/codeforces row: examples and official tests are lists of {input, output}."""
    row = {
        "id": problem_id,
        "aliases": [],
        "contest_id": problem_id.split("/")[0],
        "contest_name": "Codeforces Round 1",
        "contest_type": "CF",
        "contest_start": 1700000000,
        "contest_start_year": 2023,
        "index": problem_id.split("/")[1],
        "time_limit": 1.0,
        "memory_limit": 256.0,
        "title": "Double It",
        "description": "You are given an integer n.",
        "input_format": "One line with n.",
        "output_format": "Print 2n.",
        "interaction_format": None,
        "note": "Doubling is easy.",
        "examples": [{"input": "2\n", "output": "4\n"}],
        "editorial": None,
        "rating": 800,
        "tags": ["math"],
        "testset_size": 2,
        "official_tests": [{"input": "2\n", "output": "4\n"}, {"input": "5\n", "output": "10\n"}],
        "official_tests_complete": True,
        "input_mode": "stdio",
        "generated_checker": None,
        "executable": True,
        "generated_tests": 0,
    }
    return row | extra


def test_open_r1_codeforces_keeps_only_problems_judged_by_exact_output(tmp_path: Path) -> None:
    rows = [
        open_r1_row("1/A"),
        open_r1_row("1/B", interaction_format="Ask queries with '?'."),
        open_r1_row("1/C", generated_checker="def check(...): ..."),
        open_r1_row("1/D", input_mode="file"),
    ]
    source = write_jsonl(tmp_path / "codeforces.jsonl", rows)
    output = tmp_path / "rust.jsonl"
    summary = prepare_dataset("codeforces_rust", output, source=source)

    (prompt,) = prompts_in(output)
    assert summary.skipped == {
        "interactive problem": 1,
        "several outputs are accepted (needs a checker)": 1,
        "reads files instead of stdin": 1,
    }
    assert (prompt.task_id, prompt.language, prompt.difficulty) == ("1/A", "rust", 800)
    assert [(case.stdin, case.expected_output) for case in prompt.test_cases] == [
        ("2\n", "4\n"),
        ("5\n", "10\n"),
    ]
    for section in ("Double It", "Input Format:\nOne line with n.", "Example 1 input:", "Rust"):
        assert section in prompt.prompt
    with pytest.raises(ConfigError, match="no solutions"):
        prepare_dataset("codeforces_rust", output, form="sft", source=source)


def test_flat_codeforces_copy_of_the_project_gives_sft_pairs(tmp_path: Path) -> None:
    output = tmp_path / "cf.jsonl"
    summary = prepare_dataset(
        "codeforces_cpp",
        output,
        form="sft",
        limit=3,
        source=SHARED_DATA / "codeforces_cpp" / "solutions.jsonl",
    )
    pairs = sft_in(output)
    assert summary.sft_count == len(pairs) == 3
    assert all(pair.completion.startswith("```cpp\n#include") for pair in pairs)
    assert [pair.metadata["task_id"] for pair in pairs] == [0, 1, 2]
