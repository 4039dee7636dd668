"""`verify_records`: batch by batch into a JSONL, stopped between batches, resumed, guarded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from halo_forge.errors import ConfigError
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.cpp.compile import GCCVerifier
from halo_forge.verifiers.records import (
    fingerprint_path_for,
    verifier_fingerprint,
    verify_records,
)

RECORDS = [{"id": index, "completion": "x" * index} for index in range(5)]


class LengthVerifier(Verifier):
    """Rewards a program by its length and remembers every program it verified."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, use_cache=False)
        self.verified: list[str] = []

    def verify(self, code: str, **context: Any) -> VerifyResult:
        self.verified.append(code)
        return VerifyResult(success=len(code) > 2, reward=min(len(code) / 4, 1.0))


class StopAfter:
    """A stop hook that ends the run (as Ctrl-C does) at batch boundary `boundary`."""

    def __init__(self, boundary: int) -> None:
        self.boundaries = 0
        self.boundary = boundary

    def __call__(self) -> None:
        self.boundaries += 1
        if self.boundaries == self.boundary:
            raise KeyboardInterrupt


def test_stopped_run_keeps_finished_batches_and_resume_verifies_only_the_rest(
    tmp_path: Path,
) -> None:
    output = tmp_path / "out.jsonl"
    first = LengthVerifier()
    with pytest.raises(KeyboardInterrupt):
        verify_records(
            first, RECORDS, output, fingerprint={"v": 1}, batch_size=2, stop=StopAfter(2)
        )
    assert [json.loads(line)["id"] for line in output.read_text().splitlines()] == [0, 1, 2, 3]

    second = LengthVerifier()
    run = verify_records(second, RECORDS, output, fingerprint={"v": 1}, batch_size=2)

    assert second.verified == ["xxxx"]
    assert (run.resumed, run.verified) == (4, 1)
    assert [record["reward"] for record in run.records] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [record["success"] for record in run.records] == [False] * 3 + [True] * 2


def test_other_fingerprint_is_refused_and_force_verifies_everything_again_once(
    tmp_path: Path,
) -> None:
    output = tmp_path / "out.jsonl"
    verify_records(LengthVerifier(), RECORDS, output, fingerprint={"v": 1})

    with pytest.raises(ConfigError, match=r"v: 1 -> 2.*--force"):
        verify_records(LengthVerifier(), RECORDS, output, fingerprint={"v": 2})
    again = LengthVerifier()
    verify_records(again, RECORDS, output, fingerprint={"v": 2}, force=True)

    assert len(again.verified) == len(RECORDS)
    assert json.loads(fingerprint_path_for(output).read_text()) == {"v": 2}
    same = LengthVerifier()  # with the settings unchanged, force resumes
    assert verify_records(same, RECORDS, output, fingerprint={"v": 2}, force=True).verified == 0
    assert same.verified == []


def test_without_a_fingerprint_the_caller_guards_the_output(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"

    run = verify_records(
        LengthVerifier(),
        RECORDS,
        output,
        fingerprint=None,
        code=lambda record: record["completion"],
        context=lambda record: {},
        scored=lambda record, result: {"id": record["id"], "completion": record["completion"]},
    )

    assert run.records[2] == {"id": 2, "completion": "xx"}
    assert not fingerprint_path_for(output).exists()


def test_verifier_fingerprint_holds_what_decides_results_not_how_fast() -> None:
    with GCCVerifier(max_workers=1) as one, GCCVerifier(max_workers=4) as four:
        fewer = verifier_fingerprint(one, "gcc", {"max_workers": 1, "run_timeout": 5.0})
        more = verifier_fingerprint(four, "gcc", {"max_workers": 4})

    assert fewer == more  # the default run_timeout spelt out, and another worker count
    assert "verifier.max_workers" not in fewer and fewer["verifier.run_timeout"] == 5.0
    assert "gcc" in json.dumps(fewer["verifier.toolchain"])
    assert verifier_fingerprint(LengthVerifier()) == {
        "verifier": "LengthVerifier",
        "verifier.toolchain": None,
    }
