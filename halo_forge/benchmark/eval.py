"""`benchmark eval`: the real HumanEval or MBPP, with its own prompts, tests and verifier.

The tasks come from the data registry (`prepare_dataset`: the hub, or a local copy with
`source`), so the prompts and tests are the published ones, and each benchmark fixes the
prompt layout its published numbers use:

- HumanEval (Chen et al., 2021; openai/openai_humaneval, 164 tasks): the raw prompt (signature
  and docstring, no chat template), which the model continues; generation stops at the next
  top-level statement (`\\nclass`, `\\ndef`, `\\n#`, `\\nif`, `\\nprint`), as in the paper.
  The `humaneval` verifier completes the prompt with the answer and runs the task's `check`.
- MBPP (Austin et al., 2021; google-research-datasets/mbpp, `full`, the 500-task `test`
  split): zero-shot, the task text followed by "Your code should pass these tests:" and its
  three asserts, in the model's chat template. The paper prompts base models 3-shot; compare
  with zero-shot numbers. The `mbpp` verifier runs each assert against the program.

"Passed" is all of a task's tests passing; pass@k is the unbiased estimate (`pass_at_k`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from halo_forge.benchmark.results import BenchmarkResult
from halo_forge.benchmark.run import PromptLayout, load_prompts, run_benchmark
from halo_forge.config.generation import BackendChoice
from halo_forge.config.models import BenchmarkConfig, VerifierConfig
from halo_forge.data.jsonl import PathLike
from halo_forge.data.public_datasets import prepare_dataset
from halo_forge.data.records import PromptRecord
from halo_forge.errors import ConfigError
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.python.benchmark_tasks import TaskSet, task_from_record
from halo_forge.verifiers.python.verifiers import HumanEvalVerifier, MBPPVerifier

#: Where HumanEval completions end (Chen et al., 2021): the function body is over.
HUMANEVAL_STOP = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")

#: pass@k values reported, as in the papers; only those with k <= samples per prompt.
EVAL_K_VALUES = (1, 10, 100)


@dataclass(frozen=True)
class EvalBenchmark:
    """A published benchmark: where its tasks are and how its numbers were measured."""

    name: str
    dataset: str  # name in the data registry
    split: str
    layout: PromptLayout


BENCHMARKS: dict[str, EvalBenchmark] = {
    "humaneval": EvalBenchmark(
        name="humaneval",
        dataset="humaneval",
        split="test",
        layout=PromptLayout(
            chat_template=False,
            stop=HUMANEVAL_STOP,
            description=(
                "HumanEval (Chen et al. 2021): raw prompt continued, no chat template; "
                "stop at " + ", ".join(repr(marker) for marker in HUMANEVAL_STOP)
            ),
        ),
    ),
    "mbpp": EvalBenchmark(
        name="mbpp",
        dataset="mbpp",
        split="test",
        layout=PromptLayout(
            chat_template=True,
            description=(
                "MBPP (Austin et al. 2021), zero-shot: task text + 'Your code should pass these "
                "tests:' + its asserts, in the model's chat template"
            ),
        ),
    ),
}


def get_benchmark(name: str) -> EvalBenchmark:
    """The benchmark called `name`; an unknown name lists the known ones."""
    if name not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {name!r}; available: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def humaneval_task_set(records: list[PromptRecord]) -> TaskSet:
    """The HumanEval tasks of prepared records (the verifier looks tasks up by `task_id`)."""
    return TaskSet(
        [
            task_from_record(
                {
                    "task_id": record.task_id,
                    "prompt": record.prompt,
                    "test": record.tests,
                    "entry_point": record.entry_point,
                    "canonical_solution": "",
                }
            )
            for record in records
        ]
    )


def benchmark_verifier(benchmark: EvalBenchmark, records: list[PromptRecord]) -> Verifier:
    """The benchmark's own verifier: HumanEval's `check` by task id, MBPP's asserts per sample."""
    if benchmark.name == "humaneval":
        return HumanEvalVerifier(humaneval_task_set(records))
    return MBPPVerifier()


def prompts_path_for(output: PathLike) -> Path:
    """Where the benchmark's prepared prompts are kept: `x.json` -> `x.prompts.jsonl`."""
    path = Path(output)
    return path.with_name(f"{path.name.removesuffix('.json')}.prompts.jsonl")


def run_eval(
    model: str,
    benchmark: str,
    *,
    output: PathLike,
    limit: int | None = None,
    samples_per_prompt: int = 10,
    source: PathLike | None = None,
    temperature: float = 0.2,
    max_new_tokens: int = 512,
    sampling: BackendChoice | None = None,
    hardware: bool = False,
    force: bool = False,
) -> BenchmarkResult:
    """Evaluate `model` on the published `benchmark` ("humaneval" or "mbpp").

    The tasks are prepared next to `output` (`x.prompts.jsonl`), so the prompts and tests
    that produced a number stay with it; `source` is a local copy in the hub's columns. Like
    `run_benchmark`, a stopped evaluation resumes, and `force` starts over when the files beside
    `output` hold one with other settings. `sampling` is the sampler backend and its engine
    settings (default: transformers).
    """
    chosen = get_benchmark(benchmark)
    prompts_path = prompts_path_for(output)
    prepare_dataset(
        chosen.dataset, prompts_path, form="rlvr", limit=limit, source=source, split=chosen.split
    )
    records = load_prompts(str(prompts_path))
    k_values = [k for k in EVAL_K_VALUES if k <= samples_per_prompt]
    config = BenchmarkConfig(
        model=model,
        prompts=str(prompts_path),
        verifier=VerifierConfig(type=chosen.name),
        samples=samples_per_prompt,
        k=k_values,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        output=str(output),
        **(sampling or BackendChoice()).model_dump(),
    )
    with benchmark_verifier(chosen, records) as verifier:
        return run_benchmark(
            config,
            hardware=hardware,
            verifier=verifier,
            layout=chosen.layout,
            force=force,
        )
