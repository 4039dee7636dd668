"""The benchmark result: per-sample outcomes, their aggregation, and the documented JSON file.

Every number in a result JSON is computed here from the per-sample outcomes, which are written
next to it (`x.json` -> `x.samples.jsonl`), so any figure can be recounted from the samples.
The fields are documented in docs/training/benchmarking.md; `BenchmarkResult` is their schema, and
`load_result` refuses a file that does not match it.

"Passed" is the verifier's full success (`VerifyResult.success`), never a partial reward.
"Compiled" is a fact the verifier recorded (`halo_forge.verifiers.compiled_of`, the rule RAFT
and `halo-forge verify` use too); the compile rate counts the samples whose verifier can say
(`compile_rate`), and is `None` where none can, rather than a guess.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from halo_forge.benchmark.pass_at_k import mean_pass_at_k
from halo_forge.config.loader import validation_problems
from halo_forge.data.jsonl import PathLike, iter_jsonl, write_json, write_jsonl
from halo_forge.errors import DataError
from halo_forge.verifiers.language_names import UNKNOWN_LANGUAGE, reported_language
from halo_forge.verifiers.result import VerifyResult, compile_rate, compiled_of

#: Category of prompts whose record names none.
UNCATEGORIZED = "uncategorized"


@dataclass(frozen=True)
class SampleOutcome:
    """One verified completion: one line of the per-sample JSONL."""

    prompt_id: str
    sample_index: int
    category: str
    completion: str
    reward: float
    success: bool
    compiled: bool | None
    details: str
    language: str = UNKNOWN_LANGUAGE

    @classmethod
    def from_verification(
        cls,
        prompt_id: str,
        sample_index: int,
        category: str | None,
        completion: str,
        result: VerifyResult,
        language: str | None = None,
    ) -> SampleOutcome:
        """The outcome of `completion` as the verifier judged it.

        `language` is the prompt record's; without one, the language the verifier recorded
        (`metadata["language"]`), else "unknown"; always the canonical name (`reported_language`).
        """
        return cls(
            prompt_id=prompt_id,
            sample_index=sample_index,
            category=category or UNCATEGORIZED,
            completion=completion,
            reward=result.reward,
            success=result.success,
            compiled=compiled_of(result),
            details=result.details,
            language=reported_language(language, result),
        )


class CategoryResult(BaseModel):
    """Sample-level counts of one prompt category (or of one programming language)."""

    model_config = ConfigDict(extra="forbid")

    total: int = Field(ge=0, description="Samples of this category's prompts.")
    passed: int = Field(ge=0, description="Of those, samples the verifier fully accepted.")
    pass_rate: float = Field(ge=0, le=1, description="passed / total.")


class Timing(BaseModel):
    """Wall-clock seconds per phase."""

    model_config = ConfigDict(extra="forbid")

    generation: float = Field(ge=0, description="Sampling all completions, in seconds.")
    verification: float = Field(ge=0, description="Verifying all completions, in seconds.")
    total: float = Field(ge=0, description="The whole run (loading included), in seconds.")


class HardwareMetrics(BaseModel):
    """Peak memory of the run (with --hardware-metrics)."""

    model_config = ConfigDict(extra="forbid")

    peak_accelerator_memory_mb: float | None = Field(
        description="Peak memory allocated on the accelerator; None without one."
    )
    peak_rss_mb: float = Field(ge=0, description="Peak resident memory of this process.")


class BenchmarkResult(BaseModel):
    """The documented result JSON (docs/training/benchmarking.md)."""

    model_config = ConfigDict(extra="forbid")

    model: str
    verifier: str
    prompt_format: str = Field(description="How prompts were shown to the model.")
    prompts: int = Field(ge=0, description="Prompts evaluated.")
    samples_per_prompt: int = Field(ge=1, description="n: completions sampled per prompt.")
    total: int = Field(ge=0, description="Samples verified (prompts x n).")
    passed: int = Field(ge=0, description="Samples the verifier fully accepted.")
    pass_rate: float = Field(ge=0, le=1, description="passed / total.")
    compile_rate: float | None = Field(
        ge=0,
        le=1,
        description="Samples that compiled (or parsed) / total; None if the verifier cannot tell.",
    )
    pass_at_k: dict[str, float | None] = Field(
        description="'pass@k' -> mean unbiased estimate over prompts with n >= k; None if none."
    )
    by_category: dict[str, CategoryResult]
    by_language: dict[str, CategoryResult] = Field(
        default_factory=dict, description="The same counts per programming language."
    )
    timing: Timing
    config: dict[str, Any] = Field(description="Settings of the run.")
    timestamp: str = Field(description="When the run finished, ISO 8601 UTC.")
    samples_file: str = Field(description="Per-sample JSONL, relative to this file.")
    hardware: HardwareMetrics | None = None


@dataclass(frozen=True)
class Aggregate:
    """The counts and rates that `aggregate` derives from sample outcomes."""

    prompts: int
    total: int
    passed: int
    pass_rate: float
    compile_rate: float | None
    pass_at_k: dict[str, float | None]
    by_category: dict[str, CategoryResult]
    by_language: dict[str, CategoryResult]


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def aggregate(samples: list[SampleOutcome], k_values: list[int]) -> Aggregate:
    """Counts, rates and pass@k of a run's samples (pure: a function of the outcomes only).

    pass@k is the mean over prompts of the unbiased estimator, using only prompts with at
    least k samples; a k that no prompt reaches gives None, shown as "n/a".
    """
    per_prompt: dict[str, list[bool]] = defaultdict(list)
    per_category: dict[str, list[bool]] = defaultdict(list)
    per_language: dict[str, list[bool]] = defaultdict(list)
    for sample in samples:
        per_prompt[sample.prompt_id].append(sample.success)
        per_category[sample.category].append(sample.success)
        per_language[sample.language].append(sample.success)
    counts = [(len(outcomes), sum(outcomes)) for outcomes in per_prompt.values()]
    passed = sum(sample.success for sample in samples)
    return Aggregate(
        prompts=len(per_prompt),
        total=len(samples),
        passed=passed,
        pass_rate=_rate(passed, len(samples)),
        compile_rate=compile_rate(sample.compiled for sample in samples),
        pass_at_k={f"pass@{k}": mean_pass_at_k(counts, k) for k in sorted(set(k_values))},
        by_category=_counts_by_group(per_category),
        by_language=_counts_by_group(per_language),
    )


def _counts_by_group(groups: dict[str, list[bool]]) -> dict[str, CategoryResult]:
    """Sample counts and pass rate of each group (category or language), by name."""
    return {
        name: CategoryResult(
            total=len(outcomes),
            passed=sum(outcomes),
            pass_rate=_rate(sum(outcomes), len(outcomes)),
        )
        for name, outcomes in sorted(groups.items())
    }


def path_beside(result_path: PathLike, suffix: str) -> Path:
    """A file that belongs to a result: `x.json` -> `x<suffix>` in the same directory."""
    path = Path(result_path)
    return path.with_name(f"{path.name.removesuffix('.json')}{suffix}")


def samples_path_for(result_path: PathLike) -> Path:
    """Where the per-sample JSONL of a result goes: `x.json` -> `x.samples.jsonl`."""
    return path_beside(result_path, ".samples.jsonl")


def build_result(
    samples: list[SampleOutcome],
    *,
    k_values: list[int],
    samples_per_prompt: int,
    model: str,
    verifier: str,
    prompt_format: str,
    timing: Timing,
    config: dict[str, Any],
    samples_file: str,
    hardware: HardwareMetrics | None = None,
) -> BenchmarkResult:
    """The result of a run: `aggregate` of its samples plus what was run and when."""
    summary = aggregate(samples, k_values)
    return BenchmarkResult(
        model=model,
        verifier=verifier,
        prompt_format=prompt_format,
        prompts=summary.prompts,
        samples_per_prompt=samples_per_prompt,
        total=summary.total,
        passed=summary.passed,
        pass_rate=summary.pass_rate,
        compile_rate=summary.compile_rate,
        pass_at_k=summary.pass_at_k,
        by_category=summary.by_category,
        by_language=summary.by_language,
        timing=timing,
        config=config,
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        samples_file=samples_file,
        hardware=hardware,
    )


def write_result(
    result: BenchmarkResult, samples: list[SampleOutcome], path: PathLike
) -> tuple[Path, Path]:
    """Write the per-sample JSONL, then the result JSON (both atomically); returns both paths.

    The samples go first, so a result file never exists without the samples it counts.
    """
    path = Path(path)
    samples_path = path.parent / result.samples_file
    write_jsonl(samples_path, (asdict(sample) for sample in samples))
    write_json(path, result.model_dump(mode="json"))
    return path, samples_path


def load_result(path: PathLike) -> BenchmarkResult:
    """Read a result JSON and check it against the schema; DataError names the bad field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such result file; run `halo-forge benchmark run`") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    try:
        return BenchmarkResult.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            problem.describe() for problem in validation_problems(error, BenchmarkResult)
        )
        raise DataError(
            f"{path}: not a benchmark result ({problems}); expected the JSON written by "
            "`halo-forge benchmark run` (fields in docs/training/benchmarking.md)"
        ) from None


def load_samples(result_path: PathLike, result: BenchmarkResult) -> list[SampleOutcome]:
    """The per-sample outcomes of a result, read from its samples file."""
    samples_path = Path(result_path).parent / result.samples_file
    outcomes = []
    for line_number, record in iter_jsonl(samples_path):
        try:
            outcomes.append(SampleOutcome(**record))
        except TypeError:
            expected = ", ".join(SampleOutcome.__dataclass_fields__)
            raise DataError(
                f"{samples_path}:{line_number}: fields {sorted(record)}; expected {expected}"
            ) from None
    return outcomes
