"""`benchmark eval` on HumanEval and MBPP files in the published formats, written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halo_forge.benchmark.eval import (
    BENCHMARKS,
    HUMANEVAL_STOP,
    benchmark_verifier,
    get_benchmark,
    prompts_path_for,
    run_eval,
)
from halo_forge.benchmark.results import aggregate, load_result, load_samples
from halo_forge.benchmark.run import load_prompts, verify_samples
from halo_forge.config.generation import BackendChoice
from halo_forge.data.public_datasets import prepare_dataset
from halo_forge.errors import ConfigError

HUMANEVAL_TASKS = [
    {
        "task_id": "HumanEval/0",
        "prompt": 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"
        "    assert candidate(0, 0) == 0\n",
        "entry_point": "add",
    },
    {
        "task_id": "HumanEval/1",
        "prompt": 'def double(x: int) -> int:\n    """Return 2 * x."""\n',
        "canonical_solution": "    return 2 * x\n",
        "test": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(5) == 10\n",
        "entry_point": "double",
    },
    {
        "task_id": "HumanEval/2",
        "prompt": 'def negate(x: int) -> int:\n    """Return -x."""\n',
        "canonical_solution": "    return -x\n",
        "test": "def check(candidate):\n    assert candidate(3) == -3\n",
        "entry_point": "negate",
    },
]

MBPP_TASKS = [
    {
        "task_id": 11,
        "text": "Write a function to add two numbers.",
        "code": "def add(a, b):\n    return a + b",
        "test_list": ["assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(0, 0) == 0"],
        "test_setup_code": "",
    },
    {
        "task_id": 12,
        "text": "Write a function that returns the larger of two numbers.",
        "code": "def larger(a, b):\n    return max(a, b)",
        "test_list": ["assert larger(1, 2) == 2", "assert larger(5, 3) == 5"],
        "test_setup_code": "import math",
    },
]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def humaneval_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "HumanEval.jsonl", HUMANEVAL_TASKS)


@pytest.fixture
def mbpp_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "mbpp_test.jsonl", MBPP_TASKS)


def test_humaneval_eval_uses_the_raw_prompts_and_the_humaneval_verifier(
    humaneval_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "results" / "humaneval.json"

    run_eval(
        "builtin:tiny-coder",
        "humaneval",
        output=output,
        limit=2,
        samples_per_prompt=2,
        source=humaneval_file,
        max_new_tokens=12,
    )

    result = load_result(output)
    samples = load_samples(output, result)
    assert (result.verifier, result.prompts, result.total) == ("humaneval", 2, 4)
    assert [sample.prompt_id for sample in samples] == ["HumanEval/0"] * 2 + ["HumanEval/1"] * 2
    assert set(result.pass_at_k) == {"pass@1"}  # 10 and 100 need more samples than 2
    assert "raw prompt" in result.prompt_format and "\\nclass" in result.prompt_format
    assert result.passed == aggregate(samples, [1]).passed
    prompts = load_prompts(str(prompts_path_for(output)))
    assert [record.prompt for record in prompts] == [task["prompt"] for task in HUMANEVAL_TASKS[:2]]


def test_rerun_with_other_settings_is_refused_and_force_starts_over(
    mbpp_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "mbpp.json"
    common = {"output": output, "samples_per_prompt": 1, "source": mbpp_file}
    run_eval("builtin:tiny-coder", "mbpp", max_new_tokens=8, **common)

    with pytest.raises(ConfigError, match="max_new_tokens"):
        run_eval("builtin:tiny-coder", "mbpp", max_new_tokens=12, **common)
    run_eval("builtin:tiny-coder", "mbpp", max_new_tokens=12, force=True, **common)

    assert load_result(output).config["max_new_tokens"] == 12


def test_mbpp_eval_shows_the_task_text_with_its_asserts(mbpp_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "mbpp.json"

    run_eval(
        "builtin:tiny-coder",
        "mbpp",
        output=output,
        samples_per_prompt=1,
        source=mbpp_file,
        max_new_tokens=12,
    )

    result = load_result(output)
    assert (result.verifier, result.prompts, result.total) == ("mbpp", 2, 2)
    assert "zero-shot" in result.prompt_format and "chat template" in result.prompt_format
    prompts = load_prompts(str(prompts_path_for(output)))
    assert prompts[0].prompt.startswith("Write a function to add two numbers.")
    assert "assert add(2, 2) == 4" in prompts[0].prompt


def test_humaneval_reference_solutions_pass_and_broken_ones_fail_exactly(
    humaneval_file: Path, tmp_path: Path
) -> None:
    prompts_path = tmp_path / "humaneval.prompts.jsonl"
    prepare_dataset("humaneval", prompts_path, form="rlvr", source=humaneval_file)
    records = load_prompts(str(prompts_path))
    completions = [
        [task["canonical_solution"], "    return a - b\n", "    return (\n"]
        for task in HUMANEVAL_TASKS[:1]
    ] + [
        [HUMANEVAL_TASKS[1]["canonical_solution"], "def double(x):\n    return x * 2\n"],
        ["    return x\n", "    return x\n"],
    ]

    with benchmark_verifier(get_benchmark("humaneval"), records) as verifier:
        samples = verify_samples(verifier, records, completions, tmp_path / "x.samples.jsonl")
    summary = aggregate(samples, [1, 2])

    assert [sample.success for sample in samples] == [True, False, False, True, True, False, False]
    assert [sample.compiled for sample in samples] == [True, True, False, True, True, True, True]
    assert summary.pass_rate == pytest.approx(3 / 7)
    assert summary.pass_at_k["pass@1"] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert summary.pass_at_k["pass@2"] == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_mbpp_reference_solutions_pass_with_their_setup_code(
    mbpp_file: Path, tmp_path: Path
) -> None:
    prompts_path = tmp_path / "mbpp.prompts.jsonl"
    prepare_dataset("mbpp", prompts_path, form="rlvr", source=mbpp_file, split="test")
    records = load_prompts(str(prompts_path))
    completions = [
        [f"```python\n{task['code']}\n```", "def add(a, b):\n    return a * b\n"]
        for task in MBPP_TASKS[:1]
    ] + [[f"```python\n{MBPP_TASKS[1]['code']}\n```", "def larger(a, b):\n    return min(a, b)\n"]]

    with benchmark_verifier(get_benchmark("mbpp"), records) as verifier:
        samples = verify_samples(verifier, records, completions, tmp_path / "x.samples.jsonl")

    assert [sample.success for sample in samples] == [True, False, True, False]
    assert aggregate(samples, [1, 2]).pass_at_k == {"pass@1": 0.5, "pass@2": 1.0}


def test_each_benchmark_states_its_prompt_format() -> None:
    assert set(BENCHMARKS) == {"humaneval", "mbpp"}
    humaneval = get_benchmark("humaneval").layout
    assert not humaneval.chat_template and humaneval.stop == HUMANEVAL_STOP
    assert get_benchmark("mbpp").layout.chat_template
    assert get_benchmark("mbpp").split == "test"


def test_unknown_benchmark_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="humaneval, mbpp"):
        run_eval("builtin:tiny-coder", "apps", output=tmp_path / "x.json")


def test_the_chosen_backend_samples_the_evaluation(mbpp_file: Path, tmp_path: Path) -> None:
    served = BackendChoice.model_validate(
        {"backend": "openai", "openai": {"base_url": "http://127.0.0.1:9/v1"}}  # nobody listens
    )
    with pytest.raises(ConfigError, match="cannot reach the OpenAI-compatible server"):
        run_eval(
            "builtin:tiny-coder",
            "mbpp",
            output=tmp_path / "mbpp.json",
            samples_per_prompt=1,
            source=mbpp_file,
            sampling=served,
        )
