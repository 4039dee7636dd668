"""Fixture files for the public-dataset tests: local copies in hub layouts, and readers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from halo_forge.data.records import PromptCompletionRecord, PromptRecord, read_records

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def gzip_file(path: Path) -> Path:
    """`path` compressed by the `gzip` tool into `path.gz` (the original stays), as datasets ship."""
    subprocess.run(["gzip", "--keep", "--force", str(path)], check=True)
    return path.with_name(path.name + ".gz")


def write_parquet(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def code_of(completion: str) -> str:
    """The program inside a fenced SFT completion (end markers after the fence ignored)."""
    match = re.search(r"```\w*\n(.*?)\n```", completion, flags=re.DOTALL)
    assert match, completion
    return match.group(1)


def run_python(program: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", program],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def prompts_in(path: Path) -> list[PromptRecord]:
    return list(read_records(path, "rlvr"))


def sft_in(path: Path) -> list[PromptCompletionRecord]:
    return list(read_records(path, "sft"))
