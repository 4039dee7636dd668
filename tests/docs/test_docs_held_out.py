"""No documented pipeline measures a model on the tasks it trained on, or compares one run alone."""

from __future__ import annotations

import pytest
from docs.data_lineage import pipeline_problems
from docs.markdown_blocks import guide_pages, page_blocks


def _shell_scripts(page: str) -> list[str]:
    return [block.text for block in page_blocks(page) if block.language == "bash"]


@pytest.mark.parametrize("page", guide_pages())
def test_documented_pipelines_benchmark_held_out_prompts(page: str) -> None:
    problems = pipeline_problems(_shell_scripts(page))

    assert not problems, "\n".join(f"{page}: {p.command}\n  -> {p.reason}" for p in problems)


def test_sft_on_every_task_then_benchmarking_a_split_of_them_is_caught() -> None:
    script = (
        "halo-forge data prepare --dataset builtin_c --format both --output data/tasks.jsonl\n"
        "halo-forge data split --input data/tasks.jsonl --train data/prompts.jsonl "
        "--test data/test.jsonl\n"
        "halo-forge sft train --model builtin:tiny-coder --data data/tasks.sft.jsonl\n"
        "halo-forge benchmark run --model m --prompts data/test.jsonl --output results/a.json\n"
    )

    (problem,) = pipeline_problems([script])

    assert "data/test.jsonl" in problem.reason and "data/tasks.sft.jsonl" in problem.reason


def test_the_same_split_of_both_formats_keeps_the_test_half_held_out() -> None:
    script = (
        "halo-forge data prepare --dataset builtin_c --format both --output data/tasks.jsonl\n"
        "halo-forge data split --input data/tasks.jsonl --train data/prompts.jsonl "
        "--test data/test.jsonl --seed 3\n"
        "halo-forge data split --input data/tasks.sft.jsonl --train data/train.sft.jsonl "
        "--test data/test.sft.jsonl --seed 3\n"
        "halo-forge sft train --model builtin:tiny-coder --data data/train.sft.jsonl\n"
        "halo-forge raft train --checkpoint c --prompts data/prompts.jsonl\n"
        "halo-forge benchmark run --model m --prompts data/test.jsonl --output results/sft.json\n"
        "halo-forge benchmark run --model n --prompts data/test.jsonl --output results/raft.json\n"
        "halo-forge benchmark compare results/*.json\n"
    )

    assert pipeline_problems([script]) == []


def test_a_split_with_another_seed_does_not_hold_out_the_first_splits_tasks() -> None:
    script = (
        "halo-forge data split --input all.jsonl --train a.jsonl --test b.jsonl --seed 1\n"
        "halo-forge data split --input all.jsonl --train c.jsonl --test d.jsonl --seed 2\n"
        "halo-forge sft train --data a.jsonl\n"
        "halo-forge benchmark run --model m --prompts d.jsonl --output r.json\n"
    )

    assert len(pipeline_problems([script])) == 1


def test_comparing_a_single_result_is_caught() -> None:
    script = (
        "halo-forge benchmark run --model m --prompts held.jsonl --output results/raft.json\n"
        "halo-forge benchmark compare results/*.json\n"
    )

    (problem,) = pipeline_problems([script])

    assert "fewer than two" in problem.reason
