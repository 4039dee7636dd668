"""`run_benchmark` on the tiny model, and known programs through the real verifiers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from halo_forge.benchmark.results import aggregate, load_result, load_samples
from halo_forge.benchmark.run import (
    PromptLayout,
    RunFiles,
    check_samples_cover_k,
    prompt_ids,
    run_benchmark,
    verify_samples,
)
from halo_forge.config.models import BenchmarkConfig, VerifierConfig
from halo_forge.data.jsonl import read_jsonl, write_jsonl
from halo_forge.data.records import PromptRecord
from halo_forge.errors import ConfigError, DataError, VerifierError
from halo_forge.raft.cycle import StopRequest
from halo_forge.verifiers.cpp.compile import GCCVerifier
from halo_forge.verifiers.python.verifiers import MBPPVerifier

PRINT_42 = '```cpp\n#include <cstdio>\nint main() { std::puts("42"); return 0; }\n```'
PRINT_HELLO = '```cpp\n#include <cstdio>\nint main() { std::puts("hello"); return 0; }\n```'
PRINT_7 = '```cpp\n#include <cstdio>\nint main() { std::puts("7"); return 0; }\n```'
SYNTAX_ERROR = "```cpp\nint main( { return 0 }\n```"

C_PROMPTS = [
    {
        "prompt": "Write a C++ program that prints 42.",
        "task_id": "p42",
        "category": "io",
        "expected_output": "42\n",
    },
    {
        "prompt": "Write a C++ program that prints hello.",
        "task_id": "hello",
        "category": "strings",
        "expected_output": "hello\n",
    },
    {"prompt": "Write a C++ program that prints 7.", "category": "io", "expected_output": "7\n"},
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchmarkConfig, Path]:
    """One benchmark of the tiny model on two of the C++ prompts (n=3), shared by the tests."""
    directory = tmp_path_factory.mktemp("benchmark_run")
    prompts = directory / "prompts.jsonl"
    write_jsonl(prompts, C_PROMPTS)
    config = BenchmarkConfig(
        model="builtin:tiny-coder",
        prompts=str(prompts),
        verifier=VerifierConfig(type="gcc", run_after_compile=True),
        samples=3,
        k=[1, 3],
        max_prompts=2,
        max_new_tokens=12,
        temperature=0.8,
        output=str(directory / "results" / "tiny.json"),
    )
    run_benchmark(config, hardware=True)
    return config, Path(config.output)


def test_run_writes_a_result_that_its_samples_recount(
    tiny_run: tuple[BenchmarkConfig, Path],
) -> None:
    config, output = tiny_run

    result = load_result(output)
    samples = load_samples(output, result)
    recounted = aggregate(samples, config.k)

    assert (result.prompts, result.samples_per_prompt, result.total) == (2, 3, 6)
    assert [sample.prompt_id for sample in samples] == ["p42"] * 3 + ["hello"] * 3
    assert [sample.sample_index for sample in samples] == [0, 1, 2] * 2
    assert (result.passed, result.pass_rate) == (recounted.passed, recounted.pass_rate)
    assert result.compile_rate == recounted.compile_rate
    assert result.pass_at_k == recounted.pass_at_k
    assert set(result.pass_at_k) == {"pass@1", "pass@3"}
    assert {name: counts.total for name, counts in result.by_category.items()} == {
        "io": 3,
        "strings": 3,
    }


def test_run_records_what_was_run_how_long_and_peak_memory(
    tiny_run: tuple[BenchmarkConfig, Path],
) -> None:
    _, output = tiny_run

    result = load_result(output)

    assert (result.model, result.verifier) == ("builtin:tiny-coder", "gcc")
    assert result.config["samples"] == 3 and result.config["seed"] == 0
    assert result.config["verifier"] == {"type": "gcc", "run_after_compile": True}
    assert "chat template" in result.prompt_format
    assert result.timing.total >= result.timing.generation + result.timing.verification > 0
    assert result.hardware is not None and result.hardware.peak_rss_mb > 0


def test_k_larger_than_samples_is_refused_before_loading_anything() -> None:
    config = BenchmarkConfig(
        model="builtin:tiny-coder", prompts="absent.jsonl", samples=2, k=[1, 5]
    )

    with pytest.raises(ConfigError, match=r"k=\[5\].*--samples"):
        check_samples_cover_k(config)
    with pytest.raises(ConfigError, match="--samples"):
        run_benchmark(config)


def test_known_programs_through_gcc_give_exact_rates_with_each_prompts_own_output(
    tmp_path: Path,
) -> None:
    records = [PromptRecord.model_validate(record) for record in C_PROMPTS]
    completions = [
        [PRINT_42, PRINT_HELLO, SYNTAX_ERROR],  # passes, wrong output, does not compile
        [PRINT_HELLO, PRINT_42],  # the program that passes p42 fails here
        [PRINT_7, PRINT_7, PRINT_7],
    ]

    with GCCVerifier(run_after_compile=True, use_cache=False) as verifier:
        samples = verify_samples(verifier, records, completions, tmp_path / "x.samples.jsonl")
    summary = aggregate(samples, [1, 2, 3])

    assert [sample.success for sample in samples] == [True, False, False, True, False] + [True] * 3
    assert [sample.prompt_id for sample in samples[-3:]] == ["#2"] * 3
    assert (summary.total, summary.passed) == (8, 5)
    assert summary.compile_rate == pytest.approx(7 / 8)
    assert summary.pass_at_k["pass@1"] == pytest.approx((1 / 3 + 1 / 2 + 1) / 3)
    assert summary.pass_at_k["pass@2"] == pytest.approx((2 / 3 + 1 + 1) / 3)
    assert summary.pass_at_k["pass@3"] == pytest.approx((1 + 1) / 2)  # "hello" has only 2
    assert summary.by_category["io"].model_dump() == {"total": 6, "passed": 4, "pass_rate": 4 / 6}


def test_mbpp_reference_and_broken_solutions_give_exact_rates(tmp_path: Path) -> None:
    tests = "assert add(1, 2) == 3\nassert add(2, 2) == 4\nassert add(0, 0) == 0\n"
    record = PromptRecord(prompt="Write add(a, b).", task_id=11, tests=tests)
    completions = [
        [
            "def add(a, b):\n    return a + b\n",
            "def add(a, b):\n    return a - b\n",  # parses, passes 1 of 3 asserts
            "def add(a, b)\n    return a + b\n",  # does not parse
            "def add(a, b):\n    return a + b\n",
        ]
    ]

    with MBPPVerifier(use_cache=False) as verifier:
        samples = verify_samples(verifier, [record], completions, tmp_path / "x.samples.jsonl")
    summary = aggregate(samples, [1, 4])

    assert [sample.success for sample in samples] == [True, False, False, True]
    assert [sample.compiled for sample in samples] == [True, True, False, True]
    assert samples[1].reward == 0.25
    assert (summary.passed, summary.pass_rate, summary.compile_rate) == (2, 0.5, 0.75)
    assert summary.pass_at_k == {"pass@1": 0.5, "pass@4": 1.0}


def test_raw_layout_shows_the_prompt_itself_and_chat_layout_wraps_it() -> None:
    record = PromptRecord(prompt="def f():\n", system_prompt="Be brief.")

    assert PromptLayout(chat_template=False).format(record, "chatml") == "def f():\n"
    assert PromptLayout().format(record, "chatml") == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\ndef f():\n<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_prompts_sharing_a_task_id_are_refused_so_pass_at_k_stays_per_prompt() -> None:
    records = [
        PromptRecord(prompt="Print 1.", task_id=3),
        PromptRecord(prompt="Print 2."),
        PromptRecord(prompt="Print 3.", task_id="3"),
    ]

    with pytest.raises(DataError, match=r"\['3'\].*task_id"):
        prompt_ids(records)
    assert prompt_ids(records[:2]) == ["3", "#1"]


def test_unknown_verifier_fails_before_the_model_is_loaded(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, C_PROMPTS)
    config = BenchmarkConfig(
        model="models/does-not-exist",
        prompts=str(prompts),
        verifier=VerifierConfig(type="no-such-verifier"),
        samples=1,
        k=[1],
    )

    with pytest.raises(VerifierError, match="available verifiers"):
        run_benchmark(config)


class StopAfterBatches(StopRequest):
    """Ctrl-C pressed during batch `batches`: the run stops at the next batch boundary."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.boundaries_left = batches

    def raise_if_requested(self) -> None:
        self.boundaries_left -= 1
        self.requested = self.requested or self.boundaries_left <= 0
        super().raise_if_requested()


def _resumable_config(output: Path, prompts: Path, **changes: Any) -> BenchmarkConfig:
    """Three prompts, one per generation batch, two samples each."""
    settings: dict[str, Any] = {
        "model": "builtin:tiny-coder",
        "prompts": str(prompts),
        "verifier": VerifierConfig(type="gcc", run_after_compile=True),
        "samples": 2,
        "k": [1, 2],
        "batch_size": 1,
        "max_new_tokens": 8,
        "temperature": 0.8,
        "output": str(output),
    }
    return BenchmarkConfig(**(settings | changes))


def _comparable(path: Path) -> dict[str, Any]:
    """A result JSON without what differs between two runs of the same settings."""
    result = load_result(path).model_dump(mode="json")
    for key in ("timing", "timestamp", "hardware"):
        result.pop(key)
    result["config"].pop("output")
    return result


@pytest.fixture(scope="module")
def interrupted_and_straight(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same benchmark run straight through, and stopped after one generation batch.

    The stopped run's kept samples are marked (an extra field the benchmark ignores), so a
    resumed run shows whether it kept them or drew them again.
    """
    directory = tmp_path_factory.mktemp("resume")
    prompts = directory / "prompts.jsonl"
    write_jsonl(prompts, C_PROMPTS)
    straight = directory / "straight" / "result.json"
    run_benchmark(_resumable_config(straight, prompts))
    stopped = directory / "stopped" / "result.json"
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(_resumable_config(stopped, prompts), stop=StopAfterBatches(1))
    return {"prompts": prompts, "straight": straight, "stopped": stopped}


@pytest.mark.slow
def test_stopped_run_keeps_its_finished_batches_and_writes_no_result(
    interrupted_and_straight: dict[str, Path],
) -> None:
    files = RunFiles(interrupted_and_straight["stopped"])

    assert [sample["prompt_key"] for sample in read_jsonl(files.completions)] == ["p42"] * 2
    assert files.fingerprint.is_file()
    assert not files.samples.exists() and not files.result.exists()


@pytest.mark.slow
def test_resumed_run_skips_finished_batches_and_matches_an_uninterrupted_run(
    interrupted_and_straight: dict[str, Path], tmp_path: Path
) -> None:
    stopped = tmp_path / "stopped"
    shutil.copytree(interrupted_and_straight["stopped"].parent, stopped)
    files = RunFiles(stopped / "result.json")
    write_jsonl(
        files.completions, [{**sample, "kept": True} for sample in read_jsonl(files.completions)]
    )

    run_benchmark(_resumable_config(files.result, interrupted_and_straight["prompts"]))

    kept = [sample.get("kept", False) for sample in read_jsonl(files.completions)]
    assert kept == [True, True, False, False, False, False]
    straight = RunFiles(interrupted_and_straight["straight"])
    assert files.samples.read_text() == straight.samples.read_text()
    assert _comparable(files.result) == _comparable(straight.result)


@pytest.mark.slow
def test_rerun_with_other_settings_is_refused_naming_each_changed_key(
    interrupted_and_straight: dict[str, Path],
) -> None:
    files = RunFiles(interrupted_and_straight["straight"])
    before = files.samples.read_text()
    hotter = _resumable_config(
        files.result,
        interrupted_and_straight["prompts"],
        temperature=0.5,
        verifier=VerifierConfig(type="gcc", run_after_compile=True, run_timeout=3),
    )

    with pytest.raises(ConfigError) as refused:
        run_benchmark(hotter)
    with pytest.raises(ConfigError, match=r"seed: 0 -> 1.*--force"):
        run_benchmark(_resumable_config(files.result, interrupted_and_straight["prompts"]), seed=1)

    message = str(refused.value)
    assert "temperature: 0.8 -> 0.5" in message and "verifier.run_timeout: 5.0 -> 3.0" in message
    assert files.samples.read_text() == before


@pytest.mark.slow
def test_other_k_reuses_every_sample_and_only_recounts(
    interrupted_and_straight: dict[str, Path], tmp_path: Path
) -> None:
    shutil.copytree(interrupted_and_straight["straight"].parent, tmp_path / "run")
    files = RunFiles(tmp_path / "run" / "result.json")
    marked = [{**sample, "kept": True} for sample in read_jsonl(files.completions)]
    write_jsonl(files.completions, marked)
    outcomes = read_jsonl(files.samples)
    write_jsonl(files.samples, [{**outcomes[0], "details": "kept"}, *outcomes[1:]])
    settings = _resumable_config(files.result, interrupted_and_straight["prompts"], k=[1])

    result = run_benchmark(settings)

    assert set(result.pass_at_k) == {"pass@1"}
    assert read_jsonl(files.completions) == marked
    assert load_samples(files.result, result)[0].details == "kept"


@pytest.mark.slow
def test_force_starts_over_with_the_new_settings(
    interrupted_and_straight: dict[str, Path], tmp_path: Path
) -> None:
    shutil.copytree(interrupted_and_straight["stopped"].parent, tmp_path / "run")
    files = RunFiles(tmp_path / "run" / "result.json")
    write_jsonl(
        files.completions, [{**sample, "kept": True} for sample in read_jsonl(files.completions)]
    )
    greedy = _resumable_config(files.result, interrupted_and_straight["prompts"], temperature=0.0)

    result = run_benchmark(greedy, force=True)

    assert not any(sample.get("kept") for sample in read_jsonl(files.completions))
    assert len(read_jsonl(files.completions)) == 6
    assert result.config["temperature"] == 0.0 and result.total == 6
