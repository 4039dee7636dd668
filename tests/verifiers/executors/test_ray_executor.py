"""The Ray executor on a real two-node cluster: same results as the local pool, dedupe and the
cache before dispatch, clear errors, and a worker node lost mid-batch costing only a retry."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from verifiers.executors.ray_cluster import Cluster, add_worker_node, ray

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.batch import run_batch
from halo_forge.verifiers.cache import ResultCache
from halo_forge.verifiers.executors.base import (
    BatchExecutor,
    ExecutorOptions,
    Sample,
    VerifierRecipe,
)
from halo_forge.verifiers.executors.ray_executor import RayExecutor
from halo_forge.verifiers.registry import build_verifier
from halo_forge.verifiers.result import VerifyResult

CORRECT = '#include <cstdio>\nint main() { std::printf("42\\n"); }\n'
WRONG_OUTPUT = '#include <cstdio>\nint main() { std::printf("41\\n"); }\n'
COMPILE_ERROR = "int main() { int x = 1 return x; }\n"
CRASH = "#include <cstdlib>\nint main() { std::abort(); }\n"
GCC_SAMPLES = [f"```cpp\n{CORRECT}```", WRONG_OUTPUT, COMPILE_ERROR, CRASH, CORRECT]

PYTHON_SAMPLES = ["print(42)", "print(41)", "raise ValueError('no')", "def f(:\n"]


def verdicts(results: Sequence[VerifyResult]) -> list[tuple[Any, ...]]:
    """What a verifier decided for each sample (timings left out: they differ run to run)."""
    return [
        (result.success, result.reward, result.stage, result.compiled, result.error)
        for result in results
    ]


def ray_options(cluster: Cluster, **settings: Any) -> dict[str, Any]:
    return {"type": "ray", "address": cluster.address, **settings}


class RecordingExecutor:
    """Hands its batches on to another executor, keeping the samples it was given."""

    def __init__(self, inner: BatchExecutor) -> None:
        self.inner = inner
        self.batches: list[list[Sample]] = []

    def run(
        self, verifier: Verifier, samples: Sequence[Sample], advance: Callable[[int], None]
    ) -> list[VerifyResult]:
        self.batches.append(list(samples))
        return self.inner.run(verifier, samples, advance)


class UnimportableVerifier(Verifier):
    """Defined in this test module, which Ray workers cannot import."""

    def verify(self, code: str, **context: Any) -> VerifyResult:
        return VerifyResult(True, 1.0)


@pytest.mark.parametrize(
    ("name", "options", "codes"),
    [
        ("gcc", {"run_after_compile": True, "expected_output": "42\n"}, GCC_SAMPLES),
        ("python", {"expected_output": "42\n"}, PYTHON_SAMPLES),
    ],
)
def test_ray_results_equal_local_results_in_input_order(
    ray_cluster: Cluster, name: str, options: dict[str, Any], codes: list[str]
) -> None:
    local = build_verifier(name, use_cache=False, **options)
    remote = build_verifier(
        name, use_cache=False, executor=ray_options(ray_cluster, chunk_size=2), **options
    )
    assert isinstance(remote.batch_executor, RayExecutor)
    with local, remote:
        expected = local.verify_batch(codes)
        got = remote.verify_batch(codes)
    assert verdicts(got) == verdicts(expected)
    assert len({result.reward for result in got}) > 1  # the samples really differ
    assert [result.metadata["cached"] for result in got] == [False] * len(codes)


def test_gcc_verdicts_on_ray_are_the_real_ones(ray_cluster: Cluster) -> None:
    options = {"run_after_compile": True, "expected_output": "42\n", "use_cache": False}
    with build_verifier("gcc", executor=ray_options(ray_cluster), **options) as remote:
        correct, wrong, broken, crash, again = remote.verify_batch(GCC_SAMPLES)
    assert correct.success and correct.reward == 1.0 and again.reward == 1.0
    assert not wrong.success and wrong.stage == "run" and "wrong output" in (wrong.error or "")
    assert broken.stage == "compile" and broken.compiled is False
    assert not crash.success and crash.compiled is True and crash.reward < wrong.reward


def test_only_unique_uncached_samples_are_dispatched(ray_cluster: Cluster, tmp_path: Path) -> None:
    options = {"run_after_compile": True, "expected_output": "42\n"}
    verifier = build_verifier("gcc", executor=ray_options(ray_cluster), **options)
    recorder = RecordingExecutor(verifier.batch_executor)
    verifier.batch_executor = recorder
    fenced = f"```cpp\n{CORRECT}```"
    with ResultCache(tmp_path) as cache, verifier:
        first = run_batch(verifier, [CORRECT, CORRECT, fenced, WRONG_OUTPUT], cache=cache)
        second = run_batch(verifier, [WRONG_OUTPUT, COMPILE_ERROR, CORRECT], cache=cache)
    dispatched = [[sample.text for sample in batch] for batch in recorder.batches]
    assert dispatched == [[CORRECT, WRONG_OUTPUT], [COMPILE_ERROR]]
    assert [result.reward for result in first[:3]] == [1.0, 1.0, 1.0]
    assert first[3].reward < 1.0
    assert [result.metadata["cached"] for result in second] == [True, False, True]


def test_a_verifier_workers_cannot_import_fails_naming_the_fix(ray_cluster: Cluster) -> None:
    options = ExecutorOptions(type="ray", address=ray_cluster.address)
    verifier = UnimportableVerifier(use_cache=False)
    verifier.batch_executor = RayExecutor(
        options, VerifierRecipe("unimportable", UnimportableVerifier, {})
    )
    with pytest.raises(VerifierError, match="every node must be able to import") as caught:
        verifier.verify_batch(["print(1)"])
    assert UnimportableVerifier.__module__ in str(caught.value)
    assert "py_modules" in str(caught.value)


def test_missing_ray_names_the_install_command(
    ray_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    verifier = build_verifier("gcc", executor="ray", use_cache=False)
    with pytest.raises(VerifierError, match=r"pip install 'halo-forge\[ray\]'"):
        verifier.verify_batch([CORRECT])


def sleeper(index: int) -> str:
    """A program that runs long enough to be caught mid-batch, printing `index`."""
    return (
        "#include <cstdio>\n#include <unistd.h>\n"
        f'int main() {{ usleep(1500000); std::printf("{index}\\n"); }}\n'
    )


def test_a_node_lost_mid_batch_costs_a_retry_not_the_run(ray_cluster: Cluster) -> None:
    """Runs last: it replaces the worker node. Chunks run on the first worker node until it is
    busy; a second node joins and the first is killed with chunks in flight, which Ray runs
    again on the second. With `max_retries: 0` the same batch fails."""
    count = 12
    executor = ray_options(ray_cluster, chunk_size=2, max_retries=2)
    verifier = build_verifier("gcc", use_cache=False, run_after_compile=True, executor=executor)
    contexts = [{"expected_output": f"{index}\n"} for index in range(count)]
    outcome: dict[str, Any] = {}

    def verify() -> None:
        try:
            outcome["results"] = verifier.verify_batch(
                [sleeper(index) for index in range(count)], contexts=contexts
            )
        except BaseException as error:  # handed to the test thread below
            outcome["error"] = error

    thread = threading.Thread(target=verify)
    thread.start()
    doomed = next(iter(ray_cluster.worker_nodes))
    deadline = time.monotonic() + 120
    while ray_available_cpus() > 0 or not ray.is_initialized():  # the only node is busy
        assert time.monotonic() < deadline, "the batch never started on the worker node"
        time.sleep(0.2)
    add_worker_node(ray_cluster)
    ray_cluster.remove_node(doomed)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    results = outcome["results"]
    assert [result.success for result in results] == [True] * count
    assert len(ray_cluster.worker_nodes) == 1  # the first node is gone, the second did the rest


def ray_available_cpus() -> float:
    """Free CPUs in the cluster (inf until this process has connected)."""
    if not ray.is_initialized():
        return float("inf")
    return ray.available_resources().get("CPU", 0.0)
