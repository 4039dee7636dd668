"""What the demo says at the end: the held-out change in plain words.

The sentences state losses as plainly as gains (a pass@k above 1 that fell means the model
lost diversity) and give each change's paired standard error, so a change smaller than
sampling noise is not sold as a gain.
"""

from __future__ import annotations

from pathlib import Path

from halo_forge.benchmark.paired import paired_difference, prompt_outcomes
from halo_forge.benchmark.results import load_result


def describe_change(baseline_path: Path, final_path: Path) -> list[str]:
    """Plain sentences on what RAFT changed on held-out prompts, losses included.

    Each pass@k change is paired per held-out prompt (`benchmark.paired`): both runs saw the
    same prompts, so only what changed per prompt counts as noise. A change within two of its
    standard errors is called noise, whatever its sign.
    """
    baseline, final = load_result(baseline_path), load_result(final_path)
    before_outcomes, after_outcomes = prompt_outcomes(baseline_path), prompt_outcomes(final_path)
    lines = []
    for metric in sorted(baseline.pass_at_k, key=lambda name: int(name.removeprefix("pass@"))):
        before, after = baseline.pass_at_k[metric], final.pass_at_k.get(metric)
        paired = paired_difference(
            before_outcomes, after_outcomes, int(metric.removeprefix("pass@"))
        )
        if before is None or after is None or paired is None:
            continue
        verdict = "gain" if paired.mean > 0 else "loss"
        if not paired.beyond_noise():
            verdict = "within noise"
        error = "n/a" if paired.standard_error is None else f"{100 * paired.standard_error:.1f}"
        lines.append(
            f"{metric}: {before:.1%} -> {after:.1%} ({100 * paired.mean:+.1f} points, "
            f"standard error {error}: {verdict})"
        )
    if baseline.compile_rate is not None and final.compile_rate is not None:
        change = final.compile_rate - baseline.compile_rate
        lines.append(
            f"compile rate: {baseline.compile_rate:.1%} -> {final.compile_rate:.1%} "
            f"({100 * change:+.1f} points)"
        )
    lines.append(
        f"noise: each change is paired over the {baseline.prompts} held-out prompts; one within "
        "2 standard errors is not evidence. Rerun with other --seed values to see the spread "
        "between runs."
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
