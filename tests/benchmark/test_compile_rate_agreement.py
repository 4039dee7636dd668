"""One meaning of "compile rate": RAFT stats, `benchmark run` and `halo-forge verify` agree.

The same prompts and completions go through each command's own verification path (RAFT's
cycle files, the benchmark's per-sample outcomes, `verify`'s scored records), with a compiled
language and with Python, whose "compiled" means "parsed" (not "passed").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.benchmark.results import aggregate
from halo_forge.benchmark.run import verify_samples as benchmark_verify
from halo_forge.data.jsonl import write_jsonl
from halo_forge.data.records import PromptRecord
from halo_forge.raft.cycle import CyclePrompt
from halo_forge.raft.cycle import verify_samples as raft_verify
from halo_forge.raft.stats import SampleRates
from halo_forge.verifiers.records import summarise_records, verify_records
from halo_forge.verifiers.registry import build_verifier

C_PROMPT = PromptRecord(
    prompt="Print the sum of two integers read from stdin.",
    task_id="sum",
    language="c",
    test_cases=[{"stdin": "2 3\n", "expected_output": "5\n"}],
)
C_COMPLETIONS = [
    '```c\n#include <stdio.h>\nint main(void){int a,b;scanf("%d %d",&a,&b);'
    'printf("%d\\n",a+b);}\n```',  # passes
    '```c\n#include <stdio.h>\nint main(void){int a,b;scanf("%d %d",&a,&b);'
    'printf("%d\\n",a-b);}\n```',  # compiles, wrong output
    "```c\nint main(void) { return 0 }\n```",  # syntax error
]
PYTHON_PROMPT = PromptRecord(
    prompt="Write add(a, b).", task_id="add", tests="assert add(1, 2) == 3\nassert add(2, 2) == 4"
)
PYTHON_COMPLETIONS = [
    "```python\ndef add(a, b):\n    return a + b\n```",  # passes
    "```python\ndef add(a, b):\n    return a - b\n```",  # parses, fails its tests
    "```python\ndef add(a, b)\n    return a + b\n```",  # does not parse
]


@pytest.mark.parametrize(
    ("verifier_name", "prompt", "completions", "expected_rate"),
    [
        ("gcc", C_PROMPT, C_COMPLETIONS, 2 / 3),
        ("mbpp", PYTHON_PROMPT, PYTHON_COMPLETIONS, 2 / 3),
    ],
)
def test_raft_benchmark_and_verify_report_the_same_compile_rate(
    tmp_path: Path,
    verifier_name: str,
    prompt: PromptRecord,
    completions: list[str],
    expected_rate: float,
) -> None:
    with build_verifier(verifier_name, use_cache=False) as verifier:
        samples = tmp_path / "samples.jsonl"
        write_jsonl(
            samples,
            [
                {"sample_id": f"p#{n}", "prompt_key": "p", "prompt": prompt.prompt, "completion": c}
                for n, c in enumerate(completions)
            ],
        )
        cycle_prompt = CyclePrompt(key="p", text=prompt.prompt, record=prompt)
        raft = raft_verify(samples, tmp_path / "verified.jsonl", [cycle_prompt], verifier)
        benchmark = benchmark_verify(
            verifier, [prompt], [completions], tmp_path / "benchmark.samples.jsonl"
        )
        scored = verify_records(
            verifier,
            [{"completion": c, **prompt.verification_context()} for c in completions],
            tmp_path / "scored.jsonl",
            fingerprint=None,
        )

    rates = {
        "raft": SampleRates.of(raft.records).compile_rate,
        "benchmark": aggregate(benchmark, [1]).compile_rate,
        "verify": summarise_records(scored.records).compile_rate,
    }
    assert rates == pytest.approx(dict.fromkeys(rates, expected_rate))
    passed = sum(bool(record["success"]) for record in scored.records)
    assert passed == 1  # the compile rate is not the pass rate
