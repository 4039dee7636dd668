"""What the demo says at the end: the per-cycle rows and the held-out change in plain words.

The sentences state losses as plainly as gains (a pass@k above 1 that fell means the model
lost diversity) and give a noise band, so a change smaller than sampling noise is not sold
as a gain.
"""

from __future__ import annotations

import math
from typing import Any

from halo_forge.benchmark.results import BenchmarkResult
from halo_forge.benchmark.stages import StageMetrics


def cycle_stages(cycles: list[dict[str, Any]]) -> list[StageMetrics]:
    """One row per RAFT cycle: kept samples, training loss and time (no held-out rates)."""
    rows = []
    for cycle in cycles:
        parts = ("generation_seconds", "verification_seconds", "training_seconds")
        seconds = [cycle[part] for part in parts if cycle.get(part) is not None]
        rows.append(
            StageMetrics(
                stage=f"RAFT cycle {cycle['cycle']}",
                pass_rate=None,
                compile_rate=None,
                kept=cycle.get("kept"),
                train_loss=cycle.get("train_loss"),
                seconds=sum(seconds) if seconds else None,
            )
        )
    return rows


def noise_band(baseline: BenchmarkResult, final: BenchmarkResult) -> float:
    """About two standard errors of a pass@1 difference over the held-out prompts.

    Prompts are treated as independent draws; a smaller change is not evidence of a gain.
    """
    variance = sum(
        (rate := result.pass_at_k.get("pass@1") or 0.0) * (1 - rate) / max(result.prompts, 1)
        for result in (baseline, final)
    )
    return 2 * math.sqrt(variance)


def describe_change(baseline: BenchmarkResult, final: BenchmarkResult) -> list[str]:
    """Plain sentences on what RAFT changed on held-out prompts, losses included."""
    lines = []
    band = noise_band(baseline, final)
    for metric in sorted(baseline.pass_at_k, key=lambda name: int(name.removeprefix("pass@"))):
        before, after = baseline.pass_at_k[metric], final.pass_at_k.get(metric)
        if before is None or after is None:
            continue
        change = after - before
        verdict = "within noise" if abs(change) <= band else "gain" if change > 0 else "loss"
        lines.append(
            f"{metric}: {before:.1%} -> {after:.1%} ({100 * change:+.1f} points, {verdict})"
        )
    if baseline.compile_rate is not None and final.compile_rate is not None:
        change = final.compile_rate - baseline.compile_rate
        lines.append(
            f"compile rate: {baseline.compile_rate:.1%} -> {final.compile_rate:.1%} "
            f"({100 * change:+.1f} points)"
        )
    lines.append(
        f"noise: about +/-{100 * band:.1f} points on pass@1 ({baseline.prompts} held-out prompts; "
        "rerun with other --seed values to see the spread between runs)"
    )
    wide = [name for name in baseline.pass_at_k if name != "pass@1"]
    narrowed = [
        name
        for name in wide
        if (before := baseline.pass_at_k[name]) is not None
        and (after := final.pass_at_k.get(name)) is not None
        and after < before
    ]
    if narrowed:
        lines.append(
            f"diversity: {', '.join(narrowed)} fell: training on its own passing samples "
            "makes the model repeat them, so it tries fewer different answers"
        )
    return lines
