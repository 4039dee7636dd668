"""`CycleStats`: the numbers of one finished RAFT cycle, as a typed record.

One record per cycle is written to `cycle_N/stats.json` and collected in the run's
`training_log.json`; the terminal table, the TensorBoard scalars, `raft report`, `benchmark
full` and the demo all read its fields, so a renamed number fails at the attribute, not as a
silently missing key. The JSON form is the flat object RAFT has always written: `from_json`
reads files of earlier versions (which lacked `by_language`), and `to_json` leaves out the
timings of a stage this invocation did not run, as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.result import compile_rate

#: Timings measured only by the invocation that ran the stage (a resumed stage has none).
TIMING_FIELDS = (
    "generation_seconds",
    "generation_tokens_per_second",
    "verification_seconds",
    "verification_samples_per_second",
    "training_seconds",
    "training_tokens_per_second",
)


@dataclass(frozen=True)
class SampleRates:
    """Sample count, pass rate, compile rate and mean reward of some verified samples."""

    samples: int
    pass_rate: float
    compile_rate: float | None  # None: the verifier cannot say (see `compile_rate`)
    mean_reward: float

    @classmethod
    def of(cls, records: Sequence[Mapping[str, Any]]) -> SampleRates:
        """The rates of verified records (each with `success`, `compiled` and `reward`)."""
        total = len(records) or 1
        return cls(
            samples=len(records),
            pass_rate=sum(bool(record["success"]) for record in records) / total,
            compile_rate=compile_rate(record["compiled"] for record in records),
            mean_reward=sum(float(record["reward"]) for record in records) / total,
        )


@dataclass(frozen=True)
class VerificationSummary(SampleRates):
    """What verification found in a cycle: the rates overall and per language, the rewards."""

    reward_histogram: dict[str, int] = field(default_factory=dict)
    correct_samples: int = 0
    by_language: dict[str, SampleRates] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Sequence[Mapping[str, Any]]) -> VerificationSummary:
        """Summarize a cycle's verified records (`language` groups them; absent: "unknown")."""
        by_language: dict[str, list[Mapping[str, Any]]] = {}
        for record in records:
            by_language.setdefault(record.get("language") or "unknown", []).append(record)
        return cls(
            **asdict(SampleRates.of(records)),
            reward_histogram=reward_histogram([float(record["reward"]) for record in records]),
            correct_samples=sum(
                float(record["reward"]) >= RewardLevel.CORRECT for record in records
            ),
            by_language={
                name: SampleRates.of(group) for name, group in sorted(by_language.items())
            },
        )


@dataclass(frozen=True)
class CycleStats:
    """The numbers of one finished cycle, in the order `stats.json` lists them.

    Rates are fractions of the cycle's samples; `kept` counts the samples trained on;
    `train_loss` and `grad_norm` are None when nothing was kept (no training); a timing is
    None when an earlier invocation ran that stage.
    """

    cycle: int
    prompts: int
    samples: int
    pass_rate: float
    compile_rate: float | None  # None: the verifier cannot say (see `compile_rate`)
    mean_reward: float
    reward_histogram: dict[str, int]
    correct_samples: int
    unique_samples: int
    candidates: int
    kept: int
    effective_threshold: float
    reward_threshold: float
    keep_top_percent: float
    learning_rate: float
    checkpoint: str
    by_language: dict[str, SampleRates] = field(default_factory=dict)
    train_loss: float | None = None
    grad_norm: float | None = None
    generation_seconds: float | None = None
    generation_tokens_per_second: float | None = None
    verification_seconds: float | None = None
    verification_samples_per_second: float | None = None
    training_seconds: float | None = None
    training_tokens_per_second: float | None = None

    @property
    def seconds(self) -> float | None:
        """Time this invocation spent on the cycle's stages; None when all ran earlier."""
        timings = [
            value
            for value in (self.generation_seconds, self.verification_seconds, self.training_seconds)
            if value is not None
        ]
        return sum(timings) if timings else None

    def to_json(self) -> dict[str, Any]:
        """The `stats.json` object: every field, less the timings of stages run earlier."""
        data = asdict(self)
        for name in TIMING_FIELDS:
            if data[name] is None:
                del data[name]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CycleStats:
        """Read a `stats.json` object (or a `training_log.json` row) of any version."""
        known = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["by_language"] = {
            name: SampleRates(**rates) for name, rates in (data.get("by_language") or {}).items()
        }
        return cls(**values)

    @classmethod
    def read(cls, path: Path) -> CycleStats:
        """The record of a finished cycle's `stats.json`."""
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def reward_histogram(rewards: Sequence[float]) -> dict[str, int]:
    """Sample count per reward value, highest first (keys as text, for JSON)."""
    counts: dict[float, int] = {}
    for reward in rewards:
        counts[round(float(reward), 4)] = counts.get(round(float(reward), 4), 0) + 1
    return {f"{reward:g}": counts[reward] for reward in sorted(counts, reverse=True)}
