"""What a verification says: the graduated reward, and how far the program got.

Rewards are graduated, never just 0/1, so that RAFT can tell "almost compiles" from "garbage"
and rank samples that all fail the tests. Compile verifiers use `RewardLevel`; test verifiers
score the fraction of tests that pass with `reward_from_pass_fraction`.

Besides the reward, a result says in typed fields which `stage` the program reached and whether
it `compiled`, so RAFT statistics, benchmarks and `halo-forge verify` all compute the same
compile rate from the same fact (`compiled_of`), never from the wording of `details`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Literal, get_args


class RewardLevel(float, Enum):
    """The graduated scale of compile-and-run rewards (documented in docs/, tested in tests/)."""

    SYNTAX_ERROR = 0.0
    MISSING_DECLARATION = 0.1  # missing include, undeclared name
    SEMANTIC_ERROR = 0.2  # type errors and other semantic errors
    COMPILE_WARNINGS = 0.3
    COMPILE_CLEAN = 0.5
    RUNTIME_FAILURE = 0.6  # runs but crashes or times out
    WRONG_OUTPUT = 0.7  # runs to completion, wrong output
    PARTIAL_OUTPUT = 0.8  # some test cases pass
    CORRECT = 1.0

    # Names of the documented API, kept as aliases of the members above.
    FAILURE = 0.0
    RUNS_NO_CRASH = 0.7
    CORRECT_OUTPUT = 1.0

    @classmethod
    def from_compile_result(cls, success: bool, has_warnings: bool) -> RewardLevel:
        """Reward of a compile-only check without diagnostics to classify a failure by."""
        if not success:
            return cls.FAILURE
        return cls.COMPILE_WARNINGS if has_warnings else cls.COMPILE_CLEAN

    @classmethod
    def from_execution_result(cls, compiles: bool, runs: bool, correct: bool) -> RewardLevel:
        """Reward of a compile-and-run check."""
        if not compiles:
            return cls.FAILURE
        if not runs:
            return cls.RUNTIME_FAILURE
        return cls.CORRECT if correct else cls.WRONG_OUTPUT


def reward_from_pass_fraction(passed: int, total: int) -> float:
    """Test verifiers' scale: all 1.0, >=75% 0.75, >=50% 0.5, some 0.25, none 0.0."""
    if total <= 0 or passed <= 0:
        return 0.0
    if passed >= total:
        return 1.0
    fraction = passed / total
    if fraction >= 0.75:
        return 0.75
    if fraction >= 0.5:
        return 0.5
    return 0.25


#: Longest tool output (compiler diagnostics, run failures) kept in a result's `error`; the
#: start holds the first error.
ERROR_EXCERPT_CHARS = 2000


#: How far a verification got, the last step it attempted:
#: - `extract`: no program in the answer (nothing was built);
#: - `parse`: a Python program was syntax-checked (and failed, or had no tests to run);
#: - `compile` / `link`: a build ran and stopped there (failed, or compile-only);
#: - `run`: the built program ran (against test cases, or as its own test binary), or the
#:   command of a `SubprocessVerifier` ran;
#: - `tests`: a Python program ran under its tests;
#: - `dispatch`: no verifier exists for the sample's language (nothing was attempted).
Stage = Literal["extract", "parse", "compile", "link", "run", "tests", "dispatch"]
STAGES: tuple[Stage, ...] = get_args(Stage)
#: Stages a program only reaches after it compiled (or, for Python, parsed).
_STAGES_AFTER_COMPILE = frozenset({"run", "tests"})
#: Stages that mean nothing was built.
_STAGES_WITHOUT_BUILD = frozenset({"extract", "link"})


@dataclass
class VerifyResult:
    """Outcome of verifying one program; JSON-serialisable through `to_dict`/`from_dict`.

    `stage` is the last step attempted (`Stage`), `compiled` whether the program built (for
    Python: parsed); each is None when the verifier cannot say (a `SubprocessVerifier` runs a
    command it knows nothing about). Read "compiled" through `compiled_of`, which also covers
    results that only recorded it in their metadata.
    """

    success: bool
    reward: float
    details: str = ""
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    stage: Stage | None = None
    compiled: bool | None = None

    def __post_init__(self) -> None:
        self.reward = float(self.reward)  # a RewardLevel member serialises as a plain number

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VerifyResult:
        """A result from `to_dict`'s output, or from a scored record (extra keys are ignored).

        Data written before `stage` and `compiled` were fields gets them from its metadata.
        """
        metadata = dict(data.get("metadata") or {})
        stage = data["stage"] if "stage" in data else metadata.get("stage")
        success = bool(data["success"])
        compiled = data["compiled"] if "compiled" in data else _recorded_compiled(success, metadata)
        return cls(
            success=success,
            reward=float(data["reward"]),
            details=data.get("details", ""),
            error=data.get("error"),
            metadata=metadata,
            stage=stage if stage in STAGES else None,
            compiled=None if compiled is None else bool(compiled),
        )


def _recorded_compiled(success: bool, metadata: Mapping[str, Any]) -> bool | None:
    """Whether the program compiled, from what a result recorded in its metadata.

    An explicit `metadata["compiled"]` wins; then the stage (a failed `compile` never built);
    then the Python test verifiers' metadata before the typed field, which held `failures`
    only once the program parsed and its tests ran. Otherwise None: not a guess from the reward.
    """
    if "compiled" in metadata:
        return bool(metadata["compiled"])
    stage = metadata.get("stage")
    if stage in _STAGES_AFTER_COMPILE:
        return True
    if stage in _STAGES_WITHOUT_BUILD:
        return False
    if stage == "compile":
        return success and "failure" not in metadata
    if "tests_total" in metadata:
        return "failures" in metadata
    return None


def compiled_of(result: VerifyResult | Mapping[str, Any]) -> bool | None:
    """Whether a sample's program compiled (Python: parsed); None when its verifier cannot say.

    The one rule behind every compile rate. `result` is a `VerifyResult` or a scored record
    read back from JSONL (the result's fields merged into the record), new or written before
    `compiled` was a field. The typed field decides; a result without it (one from a
    user-written verifier, or an old record) is judged by what its metadata recorded.
    """
    if not isinstance(result, VerifyResult):
        result = VerifyResult.from_dict(result)
    if result.compiled is not None:
        return result.compiled
    return _recorded_compiled(result.success, result.metadata)


def compile_rate(facts: Iterable[bool | None]) -> float | None:
    """The share of samples whose program compiled, over those whose verifier can say.

    The one compile rate of RAFT stats, benchmark results and `halo-forge verify`; `facts` are
    `compiled_of` values. None when no verifier could say (a subprocess verifier), so a rate is
    never made up from rewards.
    """
    known = [fact for fact in facts if fact is not None]
    return sum(known) / len(known) if known else None
