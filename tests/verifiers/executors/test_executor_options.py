"""The `executor` option every verifier takes: parsed once by the registry, checked with the fix
named, left out of fingerprints, and Ray imported only when a Ray batch runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from halo_forge.errors import VerifierError
from halo_forge.verifiers.executors.local import LocalExecutor
from halo_forge.verifiers.executors.ray_executor import RayExecutor
from halo_forge.verifiers.records import verifier_fingerprint
from halo_forge.verifiers.registry import build_verifier, verifier_config_problems


def test_the_default_executor_is_the_local_pool() -> None:
    assert isinstance(build_verifier("gcc").batch_executor, LocalExecutor)


def test_executor_ray_shorthand_takes_the_defaults_and_a_recipe_of_the_same_verifier() -> None:
    verifier = build_verifier("gcc", executor="ray", run_after_compile=True, timeout=7)
    executor = verifier.batch_executor
    assert isinstance(executor, RayExecutor)
    assert (executor.options.chunk_size, executor.options.max_retries) == (16, 3)
    rebuilt = executor.recipe.build()
    assert type(rebuilt) is type(verifier)
    assert rebuilt.cache_fingerprint() == verifier.cache_fingerprint()
    assert isinstance(rebuilt.batch_executor, LocalExecutor)  # a worker verifies where it is


@pytest.mark.parametrize(
    ("executor", "expected"),
    [
        ({"type": "ray", "chunk_sise": 4}, "did you mean 'chunk_size'"),
        ({"type": "dask"}, "executor: option 'type'='dask'"),
        ({"type": "ray", "chunk_size": 0}, "executor: option 'chunk_size'=0"),
        (["ray"], "give 'local', 'ray' or a mapping"),
    ],
)
def test_a_bad_executor_option_names_the_key_and_the_fix(executor: object, expected: str) -> None:
    problems = verifier_config_problems({"type": "gcc", "executor": executor})
    assert len(problems) == 1 and expected in problems[0]
    with pytest.raises(VerifierError, match="verifier 'gcc'") as caught:
        build_verifier("gcc", executor=executor)
    assert expected in str(caught.value)


def test_the_executor_is_not_part_of_a_runs_fingerprint() -> None:
    verifier = build_verifier("gcc")
    plain = verifier_fingerprint(verifier, "gcc", {"run_after_compile": True})
    on_ray = verifier_fingerprint(
        verifier, "gcc", {"run_after_compile": True, "executor": {"type": "ray", "chunk_size": 4}}
    )
    assert plain == on_ray


def test_ray_is_imported_only_when_a_ray_batch_runs() -> None:
    script = (
        "import sys\n"
        "from halo_forge.verifiers.registry import build_verifier\n"
        "verifier = build_verifier('gcc', executor='ray', use_cache=False)\n"
        "verifier.verify_batch([])\n"
        "print('ray' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"
