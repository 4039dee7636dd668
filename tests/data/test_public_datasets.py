"""Public datasets: fixture files in each hub layout run through the real loading and conversion.

Every fixture uses the real column names of its hub dataset and is read through
`datasets.load_dataset` exactly as `--from` does. Where a dataset has tests, the reference
solution is run against the converted tests (Python in a subprocess, C++ compiled with g++),
so a conversion that drops or garbles the tests fails here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from halo_forge.data.public_datasets import (
    BUILTIN_HUB_ID,
    DATASETS,
    get_dataset,
    prepare_dataset,
    sft_path_for,
)
from halo_forge.data.records import PromptCompletionRecord, PromptRecord, read_records
from halo_forge.errors import ConfigError, DataError

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def code_of(completion: str) -> str:
    """The program inside a fenced SFT completion (end markers after the fence ignored)."""
    match = re.search(r"```\w*\n(.*?)\n```", completion, flags=re.DOTALL)
    assert match, completion
    return match.group(1)


def run_python(program: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", program],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def prompts_in(path: Path) -> list[PromptRecord]:
    return list(read_records(path, "rlvr"))


def sft_in(path: Path) -> list[PromptCompletionRecord]:
    return list(read_records(path, "sft"))


# ----------------------------------------------------------------------------- MBPP

MBPP_FULL_ROWS = [
    {
        "task_id": 11,
        "text": "Write a python function to double every number of a list.",
        "code": "def double_all(items):\r\n    return [2 * item for item in items]",
        "test_list": [
            "assert double_all([1, 2]) == [2, 4]",
            "assert double_all([]) == []",
            "assert double_all([-3]) == [-6]",
        ],
        "test_setup_code": "",
        "challenge_test_list": [],
    },
    {
        "task_id": 12,
        "text": "Write a function to find the largest gap between sorted numbers.",
        "code": "def helper(xs):\n    return sorted(xs)\n\ndef largest_gap(xs):\n"
        "    ys = helper(xs)\n    return max(b - a for a, b in zip(ys, ys[1:]))",
        "test_list": ["assert largest_gap([1, 10, 4]) == 6", "assert largest_gap([5, 6]) == 1"],
        "test_setup_code": "import math",
        "challenge_test_list": [],
    },
]


def test_mbpp_hub_rows_keep_tests_that_the_reference_solution_passes(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "mbpp_full.jsonl", MBPP_FULL_ROWS)
    output = tmp_path / "mbpp.jsonl"
    summary = prepare_dataset("mbpp", output, form="both", source=source)

    prompts, pairs = prompts_in(output), sft_in(sft_path_for(output))
    assert (summary.rlvr_count, summary.sft_count) == (2, 2)
    first, second = prompts
    assert first.test_list == MBPP_FULL_ROWS[0]["test_list"]
    assert first.tests == "\n".join(MBPP_FULL_ROWS[0]["test_list"])
    assert (first.entry_point, second.entry_point) == ("double_all", "largest_gap")
    assert second.tests.startswith("import math\n")
    assert first.metadata == {"dataset": "mbpp"}
    assert "assert double_all([1, 2]) == [2, 4]" in first.prompt
    for prompt, pair in zip(prompts, pairs, strict=True):
        solution = code_of(pair.completion)
        assert "\r" not in solution
        assert run_python(f"{solution}\n\n{prompt.tests}\n").returncode == 0
        wrong = run_python(f"def {prompt.entry_point}(*args):\n    return None\n\n{prompt.tests}")
        assert "AssertionError" in wrong.stderr


def test_mbpp_sanitized_parquet_puts_test_imports_before_the_asserts(tmp_path: Path) -> None:
    row = {
        "source_file": "Benchmark Questions Verification V2.ipynb",
        "task_id": 21,
        "prompt": "Write a function to find the area of a circle of radius r.",
        "code": "import math\ndef circle_area(r):\n    return math.pi * r * r",
        "test_imports": ["import math"],
        "test_list": ["assert math.isclose(circle_area(1), 3.14159, rel_tol=0.001)"],
    }
    write_parquet(tmp_path / "sanitized" / "train-00000-of-00001.parquet", [row])
    output = tmp_path / "sanitized.jsonl"
    prepare_dataset("mbpp_sanitized", output, source=tmp_path)

    (prompt,) = prompts_in(output)
    assert (
        prompt.tests == "import math\n\nassert math.isclose(circle_area(1), 3.14159, rel_tol=0.001)"
    )
    assert prompt.metadata["test_setup_code"] == "import math"
    assert (
        run_python(f"def circle_area(r):\n    return 3.14159 * r * r\n{prompt.tests}").returncode
        == 0
    )


def test_mbpp_flat_copy_of_the_project_is_accepted(tmp_path: Path) -> None:
    output = tmp_path / "mbpp.jsonl"
    summary = prepare_dataset(
        "mbpp", output, form="both", source=SHARED_DATA / "mbpp" / "train.jsonl"
    )

    prompts, pairs = prompts_in(output), sft_in(sft_path_for(output))
    assert summary.rlvr_count == summary.sft_count == 374
    assert all(prompt.test_list and prompt.entry_point for prompt in prompts)
    assert all(
        not test.startswith(("def ", " ")) for prompt in prompts for test in prompt.test_list
    )
    for prompt, pair in list(zip(prompts, pairs, strict=True))[:5]:
        program = f"{code_of(pair.completion)}\n\n{prompt.tests}\n"
        assert run_python(program).returncode == 0, prompt.task_id


def test_mbpp_flat_rows_without_solutions_give_prompts_only(tmp_path: Path) -> None:
    output = tmp_path / "validation.jsonl"
    summary = prepare_dataset(
        "mbpp", output, form="both", source=SHARED_DATA / "mbpp" / "validation.jsonl"
    )
    assert summary.rlvr_count == 20
    assert summary.sft_path is None and not sft_path_for(output).exists()
    assert summary.skipped == {"no reference solution (RLVR prompt only)": 20}
    with pytest.raises(DataError, match="no usable rows"):
        prepare_dataset(
            "mbpp",
            tmp_path / "x.jsonl",
            form="sft",
            source=SHARED_DATA / "mbpp" / "validation.jsonl",
        )


# ----------------------------------------------------------------------------- HumanEval


def test_humaneval_json_keeps_prompt_test_and_entry_point(tmp_path: Path) -> None:
    rows = [
        {
            "task_id": "HumanEval/0",
            "prompt": 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n',
            "canonical_solution": "    return a + b\n",
            "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n"
            "    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n",
            "entry_point": "add",
        }
    ]
    source = tmp_path / "humaneval.json"
    source.write_text(json.dumps(rows), encoding="utf-8")
    output = tmp_path / "humaneval.jsonl"
    prepare_dataset("humaneval", output, form="both", source=source, template="raw")

    (prompt,) = prompts_in(output)
    (pair,) = sft_in(sft_path_for(output))
    assert prompt.prompt == rows[0]["prompt"]
    assert (prompt.task_id, prompt.entry_point, prompt.tests) == (
        "HumanEval/0",
        "add",
        rows[0]["test"],
    )
    program = f"{code_of(pair.completion)}\n{prompt.tests}\ncheck({prompt.entry_point})\n"
    assert run_python(program).returncode == 0


# ----------------------------------------------------------------------------- CodeAlpaca


def test_codealpaca_gives_sft_pairs_in_the_chosen_template(tmp_path: Path) -> None:
    rows = [
        {"instruction": "Reverse a string in Python.", "input": "", "output": "s[::-1]"},
        {"instruction": "Sum the list.", "input": "[1, 2, 3]", "output": "sum([1, 2, 3])"},
    ]
    source = write_jsonl(tmp_path / "code_alpaca_20k.jsonl", rows)
    output = tmp_path / "alpaca.jsonl"
    prepare_dataset(
        "codealpaca", output, source=source, template="llama3", system_prompt="Be brief."
    )

    first, second = sft_in(output)
    assert first.prompt.startswith("<|begin_of_text|><|start_header_id|>system")
    assert "Be brief." in first.prompt
    assert first.prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert first.completion == "s[::-1]<|eot_id|>"
    assert "Sum the list.\n\n[1, 2, 3]" in second.prompt
    assert first.metadata == {"dataset": "codealpaca", "template": "llama3"}
    with pytest.raises(ConfigError, match=r"no tests to verify with.*--format sft"):
        prepare_dataset("codealpaca", output, form="rlvr", source=source)


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


# ----------------------------------------------------------------------------- loading


def test_split_option_picks_another_split_of_a_local_copy(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "copy" / "train.jsonl", MBPP_FULL_ROWS)
    write_jsonl(tmp_path / "copy" / "test.jsonl", MBPP_FULL_ROWS[:1])
    assert prepare_dataset("mbpp", tmp_path / "a.jsonl", source=tmp_path / "copy").rlvr_count == 2
    summary = prepare_dataset("mbpp", tmp_path / "b.jsonl", source=tmp_path / "copy", split="test")
    assert summary.rlvr_count == 1


def test_limit_stops_after_that_many_tasks(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "mbpp.jsonl", MBPP_FULL_ROWS)
    summary = prepare_dataset("mbpp", tmp_path / "one.jsonl", limit=1, source=source)
    assert summary.rlvr_count == 1
    assert [prompt.task_id for prompt in prompts_in(tmp_path / "one.jsonl")] == [11]


def test_a_file_in_the_wrong_layout_names_the_expected_columns(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "odd.jsonl", [{"task_id": 1, "question": "?"}])
    with pytest.raises(DataError) as caught:
        prepare_dataset("mbpp", tmp_path / "out.jsonl", source=source)
    message = str(caught.value)
    assert "odd.jsonl: row 1 has no column" in message
    assert "columns: task_id, text, code, test_list, test_setup_code" in message
    assert "flat layout: task_id, prompt, entry_point, tests" in message


def test_unknown_dataset_lists_the_registry() -> None:
    with pytest.raises(ConfigError, match="available: " + ", ".join(DATASETS)):
        get_dataset("mbpp_plus")


def test_every_entry_names_its_hub_source_and_a_verifier_when_it_has_tests() -> None:
    for entry in DATASETS.values():
        assert entry.hub_id.count("/") == 1 or entry.hub_id == BUILTIN_HUB_ID
        assert entry.split
        assert (entry.verifier is None) == (entry.name == "codealpaca")
