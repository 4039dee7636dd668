"""On real CodeForces solutions, GCCVerifier's verdict equals a plain `g++ -O2` compile and link.

A fixed sample of the 500 programs in ../shared/data/codeforces_cpp/solutions.jsonl plus broken
variants of some of them (so both verdicts occur); `benchmarks/verify_throughput.py` checks all
500. The reference is what a user would type: `g++ -std=c++17 -O2 prog.cpp -o prog`, whose exit
status says whether the program compiles AND links.
"""

from __future__ import annotations

import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from verifiers.mutations import broken_variant

from halo_forge.data.jsonl import read_jsonl
from halo_forge.verifiers.cpp.compile import GCCVerifier

DATA = Path(__file__).resolve().parents[3].parent / "shared/data/codeforces_cpp/solutions.jsonl"
SAMPLE_STEP = 25  # every 25th program: 20 of 500, both header styles
VARIANT_STEP = 50  # a broken variant of every 50th program: 10 more


def reference_compiles(code: str) -> bool:
    """Exit status of `g++ -std=c++17 -O2 prog.cpp -o prog` (trusted: the data set's own code)."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "prog.cpp"
        source.write_text(code)
        completed = subprocess.run(
            ["g++", "-std=c++17", "-O2", str(source), "-o", str(Path(directory) / "prog")],
            capture_output=True,
            timeout=300,
            check=False,
        )
    return completed.returncode == 0


def sample_programs() -> list[str]:
    assert DATA.is_file(), f"{DATA} is missing: the CodeForces sample lives in ../shared/data"
    solutions = [record["solution"] for record in read_jsonl(DATA)]
    programs = solutions[::SAMPLE_STEP]
    programs += [
        broken_variant(code, index)[1] for index, code in enumerate(solutions[::VARIANT_STEP])
    ]
    return programs


def test_verdicts_match_plain_gpp_on_codeforces_sample() -> None:
    programs = sample_programs()
    with ThreadPoolExecutor(max_workers=2) as executor:
        expected = list(executor.map(reference_compiles, programs))
    with GCCVerifier(use_cache=False, max_workers=2) as verifier:
        results = verifier.verify_batch(programs)
    mismatches = [
        (index, want, result.details)
        for index, (want, result) in enumerate(zip(expected, results, strict=True))
        if result.success != want
    ]
    assert not mismatches, mismatches
    assert any(expected) and not all(expected)  # both verdicts occur
    assert any(result.metadata["precompiled_header"] for result in results)
