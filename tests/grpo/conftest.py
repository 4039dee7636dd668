"""Fixtures of the GRPO tests: a prompt file of real built-in C tasks, with their tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.converters import builtin_task
from halo_forge.data.jsonl import write_jsonl


@pytest.fixture
def c_prompts(tmp_path: Path) -> Path:
    """Four RLVR prompt records of the built-in C suite (tests, no solution)."""
    path = tmp_path / "prompts.jsonl"
    write_jsonl(
        path, (builtin_task(task).prompt.to_dict() for task in generate_tasks("builtin_c", 4, 0))
    )
    return path
