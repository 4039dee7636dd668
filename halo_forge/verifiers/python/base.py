"""What every Python test verifier shares: options, the warm server pool, requests, scoring.

`PythonTestVerifier` holds the options, starts the pool of fork servers (`runner`) on
first use and turns a request plus its units into a `VerifyResult` (`run_units`). The
verifiers themselves (`verifiers.py`) only say what the request and the units of a sample are.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, ClassVar

from pydantic import Field

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.python.runner import ForkServerPool, python_environment
from halo_forge.verifiers.python.scoring import Unit, reject_unrunnable, score_response
from halo_forge.verifiers.python.units import DeclaredTest, TestStep, assert_steps
from halo_forge.verifiers.registry import validate_options
from halo_forge.verifiers.sandbox import SandboxLimits
from halo_forge.verifiers.sandbox.options import SandboxOptions

PYTHON_LANGUAGES = ("python", "py", "python3")


class PythonTestOptions(SandboxOptions):
    """Options every Python test verifier takes."""

    timeout: float = Field(5.0, gt=0, description="Seconds a program and its tests may run.")
    memory_limit_mb: int = Field(1024, ge=64, description="Address-space limit, in MiB.")
    max_processes: int = Field(64, ge=1, description="Processes a program may start.")
    max_workers: int | None = Field(
        None,
        ge=1,
        description="Parallel verifications (twice the CPU count: a sample passes between "
        "three processes, so one worker per core leaves cores idle at each hand-off).",
    )
    use_cache: bool = Field(True, description="Reuse results from the on-disk result cache.")
    site_packages: bool = Field(
        False,
        description="Let programs import installed third-party packages (servers start without "
        "site-packages by default: smaller processes fork faster).",
    )


class PythonTestVerifier(Verifier):
    """Shared machinery: options, the warm server pool, the request and the scoring."""

    options_model: ClassVar[type[PythonTestOptions]]
    needs_site_packages: ClassVar[bool] = False
    preload: ClassVar[tuple[str, ...]] = ()
    languages = PYTHON_LANGUAGES

    def __init__(self, **options: Any) -> None:
        self.options = validate_options(self.options_model, options, owner=type(self).__name__)
        workers = self.options.max_workers or 2 * (os.cpu_count() or 1)
        super().__init__(max_workers=workers, use_cache=self.options.use_cache)
        self.limits = SandboxLimits(
            wall_timeout_s=self.options.timeout,
            memory_limit_mb=self.options.memory_limit_mb,
            max_processes=self.options.max_processes,
            disk_limit_mb=self.options.disk_limit_mb,
        )
        self._limits_dict = asdict(self.limits)
        self._pool: ForkServerPool | None = None
        self._pool_lock = threading.Lock()

    def _servers(self) -> ForkServerPool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ForkServerPool(
                    self.max_workers,
                    self.limits,
                    site_packages=self.needs_site_packages or self.options.site_packages,
                    preload=self.preload,
                    expose_paths=tuple(self.options.expose_paths),
                )
            return self._pool

    def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one harness request on a warm server (see `harness.run_child`)."""
        return self._servers().run({**request, "limits": self._limits_dict})

    def cache_fingerprint(self) -> dict[str, Any] | None:
        options = self.options.model_dump(mode="json", exclude={"max_workers", "use_cache"})
        return {"verifier": self.verifier_name, "options": options, **python_environment()}

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (to ship a verifier to another process): the servers stay behind."""
        state = self.__dict__.copy()
        state["_pool"] = None
        del state["_pool_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pool_lock = threading.Lock()

    def cleanup(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def run_units(self, request: dict[str, Any], units: list[Unit]) -> VerifyResult:
        """Syntax-check the program here, run it with its tests there, and score the records."""
        tests_total = sum(unit.instances for unit in units if unit.is_test)
        rejected = reject_unrunnable(request["code"], tests_total)
        if rejected is not None:
            return rejected
        return score_response(self.execute(request), units, self.options.timeout)


def steps_units(steps: Sequence[TestStep]) -> list[Unit]:
    """One unit per step of an assert-style test (setup steps are not counted)."""
    return [Unit(label=step.label, is_test=step.is_test) for step in steps]


def declared_units(declared: list[DeclaredTest]) -> list[Unit]:
    """One unit per declared unittest or pytest test, with its known parametrized cases."""
    return [
        Unit(
            label=f"{test.class_name}.{test.name}" if test.class_name else test.name,
            instances=test.instances,
        )
        for test in declared
    ]


def assert_request(
    program: str, steps: Sequence[TestStep], parameter: str | None, entry_point: str
) -> dict[str, Any]:
    """The harness request that runs `program`, then each step (HumanEval, MBPP, asserts)."""
    return {
        "mode": "asserts",
        "code": program,
        "steps": [step.source for step in steps],
        "parameter": parameter,
        "entry_point": entry_point,
    }


#: The function whose asserts are the tests when a sample brings its own test module.
SAMPLE_CHECK_FUNCTION = "test_solution"


def tests_from_context(tests: Any) -> str:
    """A sample's own `tests`: a module (asserts at top level or in `def test_solution()`),
    or a list of assert statements."""
    if isinstance(tests, str):
        return tests
    if isinstance(tests, list) and all(isinstance(test, str) for test in tests):
        return "\n".join(tests) + "\n"
    raise VerifierError("tests must be a test source string or a list of assert statements")


def sample_tests_problem(tests: Any, check_function: str) -> str | None:
    """Why a sample's own `tests` give nothing to run, or None when they hold a test.

    Parsing is not executing: this reads the tests with `ast`, so it checks a whole prompt
    file before a run starts. Tests that do not parse or assert nothing would score every
    sample of the prompt 0.
    """
    try:
        steps, _ = assert_steps(tests_from_context(tests), check_function)
    except (VerifierError, SyntaxError) as error:
        return f"its `tests` cannot be run ({error})"
    if not any(step.is_test for step in steps):
        return "its `tests` hold no assert to run"
    return None
