"""Public datasets: fixture files in each hub layout run through the real loading and conversion.

Every fixture uses the real column names of its hub dataset and is read through
`datasets.load_dataset` exactly as `--from` does. Where a dataset has tests, the reference
solution is run against the converted tests (Python in a subprocess, C++ compiled with g++),
so a conversion that drops or garbles the tests fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data.dataset_files import (
    SHARED_DATA,
    code_of,
    gzip_file,
    prompts_in,
    run_python,
    sft_in,
    write_jsonl,
    write_parquet,
)

from halo_forge.data.public_datasets import (
    BUILTIN_HUB_ID,
    DATASETS,
    get_dataset,
    prepare_dataset,
    sft_path_for,
)
from halo_forge.errors import ConfigError, DataError

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


def test_the_official_humaneval_jsonl_gz_is_read_as_benchmark_eval_reads_it(
    tmp_path: Path,
) -> None:
    """The human-eval repository ships `HumanEval.jsonl.gz`; `benchmark eval --from` takes it."""
    rows = [
        {
            "task_id": f"HumanEval/{index}",
            "prompt": f'def add_{index}(a: int) -> int:\n    """Add {index} to a."""\n',
            "canonical_solution": f"    return a + {index}\n",
            "test": f"\n\ndef check(candidate):\n    assert candidate(1) == {1 + index}\n",
            "entry_point": f"add_{index}",
        }
        for index in range(3)
    ]
    source = gzip_file(write_jsonl(tmp_path / "HumanEval.jsonl", rows))
    source.with_suffix("").unlink()
    output = tmp_path / "humaneval.prompts.jsonl"

    summary = prepare_dataset("humaneval", output, form="rlvr", source=source, split="test")

    assert summary.rlvr_count == 3
    prompts = prompts_in(output)
    assert [(p.task_id, p.prompt, p.tests, p.entry_point) for p in prompts] == [
        (row["task_id"], row["prompt"], row["test"], row["entry_point"]) for row in rows
    ]
    for prompt, row in zip(prompts, rows, strict=True):
        program = f"{prompt.prompt}{row['canonical_solution']}{prompt.tests}\n"
        assert run_python(f"{program}check({prompt.entry_point})\n").returncode == 0


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
