"""Python benchmark tasks (HumanEval, MBPP) loaded into one shape the test verifiers run.

Three formats are read, recognised per record by their fields:
- HumanEval (`task_id, prompt, canonical_solution, test, entry_point`): the checks are the
  asserts of `def check(candidate)` in `test`;
- MBPP as published on the Hugging Face hub (`task_id, text, code, test_list, test_setup_code`):
  each string of `test_list` is one check;
- MBPP flat (`task_id, prompt, entry_point, tests, solution`): the checks are the asserts of
  `def test_solution()` in `tests`.

Verifiers find a task by id (`601` and `"601"` are the same task) or by the prompt a model was
given, which may be the task's prompt wrapped in a template: `TaskSet.find_by_prompt` tries an
exact match, then whitespace-insensitive, then the longest task prompt contained in the text.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from halo_forge.data.jsonl import iter_jsonl
from halo_forge.errors import DataError


@dataclass(frozen=True)
class PythonTask:
    """One benchmark problem: what the model saw and the trusted checks its code must pass.

    `test_source` is a module; when `check_function` is set, the checks are the asserts in
    the body of that function (HumanEval's `check(candidate)` is called with the function
    named `entry_point`), otherwise the module's own top-level asserts.
    """

    task_id: str
    prompt: str
    entry_point: str
    test_source: str
    check_function: str | None = None
    setup_code: str = ""
    reference_solution: str = ""
    #: HumanEval prompts are code that completions continue; MBPP prompts are prose.
    prompt_is_code: bool = False


def _humaneval_task(record: dict[str, Any]) -> PythonTask:
    return PythonTask(
        task_id=str(record["task_id"]),
        prompt=record["prompt"],
        entry_point=record["entry_point"],
        test_source=record["test"],
        check_function="check",
        reference_solution=record["prompt"] + record["canonical_solution"],
        prompt_is_code=True,
    )


def _first_called_function(tests: list[str]) -> str:
    """The first non-builtin function the tests call: the hub format does not name it."""
    for test in tests:
        try:
            module = ast.parse(test)
        except SyntaxError:
            continue
        for node in ast.walk(module):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and not hasattr(builtins, node.func.id)
            ):
                return node.func.id
    return ""


def _mbpp_hub_task(record: dict[str, Any]) -> PythonTask:
    tests = list(record["test_list"])
    return PythonTask(
        task_id=str(record["task_id"]),
        prompt=record["text"],
        entry_point=record.get("entry_point") or _first_called_function(tests),
        test_source="\n".join(tests) + "\n",
        setup_code=record.get("test_setup_code") or "",
        reference_solution=record.get("code") or "",
    )


def _mbpp_flat_task(record: dict[str, Any]) -> PythonTask:
    return PythonTask(
        task_id=str(record["task_id"]),
        prompt=record["prompt"],
        entry_point=record.get("entry_point") or "",
        test_source=record["tests"],
        check_function="test_solution",
        reference_solution=record.get("solution") or "",
    )


# (fields that identify the format, builder); the first whose fields are all present wins.
_FORMATS = (
    (("task_id", "prompt", "test", "entry_point"), _humaneval_task),
    (("task_id", "text", "test_list"), _mbpp_hub_task),
    (("task_id", "prompt", "tests"), _mbpp_flat_task),
)
_FORMAT_HELP = (
    "expected HumanEval (task_id, prompt, canonical_solution, test, entry_point), "
    "MBPP (task_id, text, code, test_list, test_setup_code) or flat MBPP "
    "(task_id, prompt, entry_point, tests, solution)"
)


def task_from_record(record: dict[str, Any]) -> PythonTask:
    """Build the task of one record in any of the three formats; `DataError` names what is missing."""
    for fields, build in _FORMATS:
        if all(name in record for name in fields):
            return build(record)
    raise DataError(f"record with fields {sorted(record)}: {_FORMAT_HELP}")


def _normalise(text: str) -> str:
    return " ".join(text.split())


class TaskSet:
    """The tasks of one benchmark file, looked up by id or by prompt."""

    def __init__(self, tasks: list[PythonTask], source: str = "", fingerprint: str = "") -> None:
        self.tasks = tasks
        self.source = source
        #: Content hash of the file, so cached verdicts change when the tests change.
        self.fingerprint = (
            fingerprint
            or hashlib.sha256(
                json.dumps([asdict(task) for task in tasks], sort_keys=True).encode()
            ).hexdigest()
        )
        self._by_id = {task.task_id: task for task in tasks}
        self._by_prompt = {task.prompt: task for task in tasks}
        self._by_normalised_prompt = {_normalise(task.prompt): task for task in tasks}
        self._prompt_cache: dict[str, PythonTask | None] = {}

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TaskSet:
        """Read a `.jsonl` or `.jsonl.gz` file of HumanEval or MBPP tasks (either MBPP format)."""
        path = Path(path)
        tasks = []
        for line_number, record in iter_jsonl(path):
            try:
                tasks.append(task_from_record(record))
            except DataError as error:
                raise DataError(f"{path}:{line_number}: {error}") from None
        if not tasks:
            raise DataError(f"{path}: no tasks; {_FORMAT_HELP}, one JSON object per line")
        fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(tasks, source=str(path), fingerprint=fingerprint)

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[PythonTask]:
        return iter(self.tasks)

    def get(self, task_id: str | int) -> PythonTask:
        """The task with this id (`601` and `"601"` are the same); `DataError` if unknown."""
        task = self._by_id.get(str(task_id))
        if task is None:
            examples = ", ".join(list(self._by_id)[:3])
            raise DataError(
                f"task_id {task_id!r} is not in {self.source or 'the task set'} "
                f"(ids look like: {examples}); pass an id from this file"
            )
        return task

    def find_by_prompt(self, prompt: str) -> PythonTask:
        """The task a model was prompted with: exact, whitespace-insensitive, then contained text."""
        if prompt not in self._prompt_cache:
            self._prompt_cache[prompt] = self._match_prompt(prompt)
        task = self._prompt_cache[prompt]
        if task is None:
            raise DataError(
                f"no task of {self.source or 'the task set'} matches the prompt "
                f"{prompt[:80]!r}...; pass task_ids instead, or prompts that contain a task's prompt"
            )
        return task

    def _match_prompt(self, prompt: str) -> PythonTask | None:
        task = self._by_prompt.get(prompt)
        if task is not None:
            return task
        normalised = _normalise(prompt)
        task = self._by_normalised_prompt.get(normalised)
        if task is not None:
            return task
        contained = [
            candidate
            for key, candidate in self._by_normalised_prompt.items()
            if key and key in normalised
        ]
        return max(contained, key=lambda candidate: len(candidate.prompt), default=None)
