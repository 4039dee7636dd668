"""`VerifierReward`: verifiers as TRL reward functions, on real gcc and the real Python runner."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers import GCCVerifier, MBPPVerifier, Verifier, VerifyResult
from halo_forge.verifiers.integrations import VerifierReward, completion_text
from halo_forge.verifiers.integrations.trl_reward import CHUNK_PER_WORKER, CONTEXT_COLUMN

PRINTS_42 = '```c\n#include <stdio.h>\nint main(void) { printf("42\\n"); return 0; }\n```'
PRINTS_41 = '```c\n#include <stdio.h>\nint main(void) { printf("41\\n"); return 0; }\n```'
DOES_NOT_COMPILE = "```c\nint main(void) { return undeclared; }\n```"
DOUBLE = "```python\ndef double(x):\n    return 2 * x\n```"
TRIPLE = "```python\ndef double(x):\n    return 3 * x\n```"
DOUBLE_TESTS = "assert double(2) == 4\nassert double(5) == 10"


class Metrics:
    """What a reward logs through TRL's `log_metric` keyword, by name."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def __call__(self, name: str, value: float) -> None:
        self.values[name] = value


def test_gcc_reward_is_graduated_per_completion_with_expected_output_from_a_column() -> None:
    metrics = Metrics()
    with GCCVerifier(language="c", run_after_compile=True, max_workers=2) as verifier:
        reward = VerifierReward(verifier)
        rewards = reward(
            prompts=["Print 42."] * 3,
            completions=[PRINTS_42, PRINTS_41, DOES_NOT_COMPILE],
            expected_output=["42\n"] * 3,
            completion_ids=[[1], [2], [3]],
            log_metric=metrics,
        )

    assert rewards[0] == 1.0
    assert 0.5 <= rewards[1] < 1.0  # built and ran, wrong output: not thresholded to 0
    assert rewards[2] < rewards[1]
    assert reward.__name__ == "gcc"
    assert metrics.values["rewards/gcc/pass_rate"] == pytest.approx(1 / 3)
    assert metrics.values["rewards/gcc/compile_rate"] == pytest.approx(2 / 3)
    assert metrics.values["rewards/gcc/timed_out"] == 0


def test_conversational_completions_and_per_sample_tests_reach_the_python_verifier() -> None:
    conversation = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x2"}]
    with MBPPVerifier(max_workers=2) as verifier:
        rewards = VerifierReward(verifier)(
            prompts=[conversation, conversation],
            completions=[
                [{"role": "assistant", "content": DOUBLE}],
                [{"role": "assistant", "content": TRIPLE}],
            ],
            tests=[DOUBLE_TESTS, DOUBLE_TESTS],
            task_id=["double/0", "double/0"],
        )

    assert rewards == [1.0, 0.0]


def test_a_json_context_column_carries_nested_test_cases_unchanged() -> None:
    context = {
        "test_cases": [
            {"stdin": "3\n", "expected_output": "6\n"},
            {"stdin": "5\n", "expected_output": "10\n"},
        ]
    }
    doubles = (
        '```c\n#include <stdio.h>\nint main(void) { int n; scanf("%d", &n); '
        'printf("%d\\n", 2 * n); return 0; }\n```'
    )
    with GCCVerifier(language="c", run_after_compile=True) as verifier:
        rewards = VerifierReward(verifier)(
            prompts=["Double n."],
            completions=[doubles],
            **{CONTEXT_COLUMN: [json.dumps(context)]},
        )

    assert rewards == [1.0]


def test_context_columns_limit_what_reaches_the_verifier() -> None:
    reward = VerifierReward(GCCVerifier(), context_columns=["stdin"])
    contexts = reward.contexts(
        ["p", "q"],
        {"stdin": ["1\n", None], "answer": ["x", "y"], "files": [{"a.c": "x", "b.c": None}] * 2},
        2,
    )

    assert contexts == [{"prompt": "p", "stdin": "1\n"}, {"prompt": "q"}]
    everything = VerifierReward(GCCVerifier()).contexts(
        ["p"], {"files": [{"a": "x", "b": None}]}, 1
    )
    assert everything == [{"prompt": "p", "files": {"a": "x"}}]


def test_a_column_of_the_wrong_length_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="one value per completion"):
        VerifierReward(GCCVerifier())(prompts=["p", "p"], completions=["a", "b"], stdin=["1"])


class HangsOnMarker(Verifier):
    """Scores `ok` 1.0 at once and never returns for `hang` until released."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, use_cache=False)
        self.release = threading.Event()

    def verify(self, code: str, **context: Any) -> VerifyResult:
        if code == "hang":
            self.release.wait(60)
        return VerifyResult(success=True, reward=1.0, compiled=True)


def test_a_hung_batch_scores_its_unfinished_samples_zero_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    verifier = HangsOnMarker()
    metrics = Metrics()
    chunk = CHUNK_PER_WORKER * verifier.max_workers
    completions = ["ok"] * chunk + ["hang"] + ["ok"] * 4  # the second chunk hangs
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        rewards = VerifierReward(verifier, timeout=1.0, name="slow")(
            prompts=["p"] * len(completions), completions=completions, log_metric=metrics
        )
    elapsed = time.perf_counter() - start
    verifier.release.set()

    assert elapsed < 10
    assert rewards == [1.0] * chunk + [0.0] * 5
    assert metrics.values["rewards/slow/timed_out"] == 5
    assert f"5 of {chunk + 5} samples were not verified within 1 s and score 0" in caplog.text


def test_a_verifier_that_cannot_run_stops_the_call() -> None:
    class Broken(Verifier):
        def verify(self, code: str, **context: Any) -> VerifyResult:
            raise VerifierError("compiler missing: install it")

    with pytest.raises(VerifierError, match="compiler missing"):
        VerifierReward(Broken(max_workers=1))(prompts=["p"], completions=["x"])


def test_completion_text_joins_a_conversation_and_keeps_plain_text() -> None:
    assert completion_text("plain") == "plain"
    assert completion_text([{"role": "assistant", "content": "a"}, {"content": None}]) == "a\n"


def test_the_adapter_imports_neither_torch_nor_trl() -> None:
    code = (
        "import sys, halo_forge.verifiers.integrations.trl_reward\n"
        "print(sorted({'torch', 'trl', 'transformers'} & set(sys.modules)))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
