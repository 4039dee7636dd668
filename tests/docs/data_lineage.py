"""Where each data file of a documented pipeline comes from, to tell held-out data from training data.

A page's shell blocks are read in order as one session. `data prepare` starts a source (its
dataset; `--format both` writes two files of the same tasks, in the same order); `data split`
gives each half of its input the input's lineage plus the side it took, with the split's ratio
and seed. Two files share tasks unless their lineages part at a split with the same ratio and
seed on opposite sides (positions decide a split, so the same ratio and seed part two files of
the same tasks, in the same order, the same way). A file no command wrote is its own source.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from docs.command_lines import command_lines, parse_halo_forge

#: One `data split` step: which side a file took, and the ratio and seed that decided it.
SplitStep = tuple[str, float, int]


@dataclass(frozen=True)
class Lineage:
    """A file's source and the split sides that led from it to the file."""

    source: str
    steps: tuple[SplitStep, ...] = ()

    def shares_tasks_with(self, other: Lineage) -> bool:
        if self.source != other.source:
            return False
        for mine, theirs in zip(self.steps, other.steps, strict=False):
            if mine == theirs:
                continue
            same_split = mine[1:] == theirs[1:]
            return not same_split  # opposite sides of one split are disjoint
        return True  # one is the other, or a part of it


@dataclass(frozen=True)
class PipelineProblem:
    """A documented command that measures on training data, or compares fewer than two runs."""

    command: str
    reason: str


def _sft_path(output: str) -> str:
    return output[: -len(".jsonl")] + ".sft.jsonl" if output.endswith(".jsonl") else output


def _halo_forge_lines(script: str) -> list[list[str]]:
    """The `halo-forge` command lines of a shell script (heredocs and `python -c` bodies skipped)."""
    lines = script.replace("\\\n", " ").splitlines()
    return [
        words
        for line in lines
        if line.lstrip().startswith("halo-forge ")
        for words in command_lines(line)
        if words and words[0] == "halo-forge"
    ]


def pipeline_problems(scripts: list[str]) -> list[PipelineProblem]:
    """Every benchmark of training data, and every comparison of fewer than two results."""
    lineages: dict[str, Lineage] = {}
    trained_on: list[str] = []
    results: list[str] = []
    problems: list[PipelineProblem] = []

    def lineage(path: str) -> Lineage:
        return lineages.get(path, Lineage(source=f"file:{path}"))

    def check_held_out(command: str, prompts: str) -> None:
        for training_file in trained_on:
            if lineage(prompts).shares_tasks_with(lineage(training_file)):
                problems.append(
                    PipelineProblem(
                        command,
                        f"benchmarks {prompts}, which shares tasks with "
                        f"the training data {training_file}",
                    )
                )

    for script in scripts:
        for words in _halo_forge_lines(script):
            try:
                path, parameters = parse_halo_forge(words[1:])
            except Exception:  # the parse test reports commands that do not parse
                continue
            command = " ".join(words)
            _follow(path, parameters, command, lineages, trained_on, results, problems)
            if path == "halo-forge benchmark run" and parameters.get("prompts"):
                check_held_out(command, str(parameters["prompts"]))
            if path == "halo-forge benchmark full":
                check_held_out(
                    command, str(parameters.get("eval_prompts") or parameters.get("prompts"))
                )
    return problems


def _follow(
    path: str,
    parameters: dict[str, Any],
    command: str,
    lineages: dict[str, Lineage],
    trained_on: list[str],
    results: list[str],
    problems: list[PipelineProblem],
) -> None:
    """Record what one command writes, trains on, or compares."""
    if path == "halo-forge data prepare" and parameters.get("output"):
        output = str(parameters["output"])
        source = Lineage(source=f"dataset:{parameters.get('dataset')}:{parameters.get('seed')}")
        lineages[output] = source
        if getattr(parameters.get("output_form"), "value", None) == "both":
            lineages[_sft_path(output)] = source
    elif path == "halo-forge data split":
        source = str(parameters["input_file"])
        parent = lineages.get(source, Lineage(source=f"file:{source}"))
        ratio, seed = float(parameters["ratio"]), int(parameters["seed"])
        for side in ("train", "test"):
            lineages[str(parameters[f"{side}_file"])] = Lineage(
                parent.source, (*parent.steps, (side, ratio, seed))
            )
    elif path == "halo-forge sft train" and parameters.get("data"):
        trained_on.append(str(parameters["data"]))
    elif path in ("halo-forge raft train", "halo-forge benchmark full") and parameters.get(
        "prompts"
    ):
        trained_on.append(str(parameters["prompts"]))
    elif path in ("halo-forge benchmark run", "halo-forge benchmark eval") and parameters.get(
        "output"
    ):
        results.append(str(parameters["output"]))
    elif path == "halo-forge benchmark compare":
        named = [str(result) for result in parameters["results"]]
        compared = {
            result
            for pattern in named
            for result in ([*fnmatch.filter(results, pattern)] if "*" in pattern else [pattern])
        }
        if len(compared) < 2:
            problems.append(PipelineProblem(command, "compares fewer than two benchmark results"))
