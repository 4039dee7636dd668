"""`CycleStats`: the typed record of a cycle reads the stats.json files RAFT wrote before it."""

from __future__ import annotations

import json
from pathlib import Path

from halo_forge.raft.stats import CycleStats, SampleRates, VerificationSummary

#: A cycle's stats.json as RAFT wrote it before the typed record (a run of the quick demo).
STATS_JSON = """{
  "cycle": 3, "prompts": 30,
  "generation_seconds": 5.77, "generation_tokens_per_second": 1296.5,
  "verification_seconds": 5.55, "verification_samples_per_second": 21.6,
  "samples": 120, "pass_rate": 0.0333, "compile_rate": 0.4083, "mean_reward": 0.3567,
  "reward_histogram": {"1": 4, "0.8": 21, "0.7": 24, "0.2": 18, "0.1": 16, "0": 37},
  "correct_samples": 4,
  "by_language": {"c": {"samples": 120, "pass_rate": 0.0333, "compile_rate": 0.4083,
                        "mean_reward": 0.3567}},
  "unique_samples": 120, "candidates": 4, "kept": 4,
  "effective_threshold": 1.0, "reward_threshold": 1.0, "keep_top_percent": 1.0,
  "learning_rate": 0.0002, "train_loss": 0.2663, "grad_norm": 0.1804,
  "training_seconds": 0.55, "training_tokens_per_second": 2075.8,
  "checkpoint": "runs/demo/raft/cycle_3_final"
}"""


def test_an_old_stats_json_round_trips_to_the_same_json(tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    path.write_text(STATS_JSON)

    stats = CycleStats.read(path)

    assert stats.kept == 4 and stats.train_loss == 0.2663
    assert stats.by_language["c"] == SampleRates(120, 0.0333, 0.4083, 0.3567)
    assert stats.seconds == 5.77 + 5.55 + 0.55
    assert stats.to_json() == json.loads(STATS_JSON)


def test_stats_of_a_resumed_cycle_leave_the_timings_out_as_before() -> None:
    old = json.loads(STATS_JSON)
    for key in ("generation_seconds", "generation_tokens_per_second", "by_language"):
        del old[key]  # generation ran earlier; per-language rates came later

    stats = CycleStats.from_json(old)

    assert stats.generation_seconds is None and stats.by_language == {}
    assert "generation_seconds" not in stats.to_json()
    assert stats.to_json() == old | {"by_language": {}}


def test_the_verification_summary_counts_rates_per_language() -> None:
    records = [
        {"success": True, "compiled": True, "reward": 1.0, "language": "c"},
        {"success": False, "compiled": True, "reward": 0.7, "language": "c"},
        {"success": False, "compiled": False, "reward": 0.0},
    ]

    summary = VerificationSummary.of(records)

    assert (summary.samples, summary.pass_rate, summary.correct_samples) == (3, 1 / 3, 1)
    assert summary.reward_histogram == {"1": 1, "0.7": 1, "0": 1}
    assert summary.by_language["c"] == SampleRates(2, 0.5, 1.0, 0.85)
    assert summary.by_language["unknown"].samples == 1
