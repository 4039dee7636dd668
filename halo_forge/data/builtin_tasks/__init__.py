"""Built-in task suites: programming tasks with reference solutions and tests, in C, C++ and Python.

They feed the embedded demo (a tiny model fine-tuned on some tasks, trained with RAFT on others
and benchmarked on held-out ones) and the tests, with no download. Each suite renders the same
task families (`families.Family`: "the number of elements of a greater than $k", ...) in one
language; a family draws its constants and test inputs from the seed, so a suite of ~1,200
tasks has variety and a shared structure a small model can learn.

    tasks = generate_tasks("builtin_c", count=200, seed=0)

`count` has no upper bound. Tasks go round-robin over the families (ordered so that every
category shows up early), so any count is balanced and a smaller count is a prefix of a larger
one. A family's instances take its constant combinations in a seeded order and start over once
they are used up: past that point prompts repeat, but every task keeps a distinct `task_id`
and draws its own test inputs. Draws depend on the seed, the family and the index only, so
`builtin_c/gcd/004` and `builtin_python/gcd/004` are the same problem with the same tests.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from halo_forge.data.builtin_tasks import (
    arithmetic,
    arrays,
    conditionals,
    counting,
    loops,
    recursion,
    stacks_and_queues,
    strings,
)
from halo_forge.data.builtin_tasks.families import Family, draw_instances
from halo_forge.data.builtin_tasks.render import task_record
from halo_forge.errors import DataError

__all__ = ["BUILTIN_SUITES", "FAMILIES", "SuiteInfo", "generate_tasks"]

DEFAULT_TASKS_PER_FAMILY = 20


@dataclass(frozen=True)
class SuiteInfo:
    """What a built-in suite holds and how its answers are scored.

    `build_verifier(info.verifier, **info.verifier_options)` gives the verifier that scores a
    suite's answers; each task carries its own tests as verification context.
    """

    language: str
    description: str
    verifier: str
    verifier_options: dict[str, Any] = field(default_factory=dict)


BUILTIN_SUITES: dict[str, SuiteInfo] = {
    "builtin_c": SuiteInfo(
        language="c",
        description="C functions, run by a test main that reads stdin and prints the result",
        verifier="gcc",
        verifier_options={"language": "c", "run_after_compile": True},
    ),
    "builtin_cpp": SuiteInfo(
        language="cpp",
        description="C++ functions, run by a test main that reads stdin and prints the result",
        verifier="gcc",
        verifier_options={"language": "c++", "run_after_compile": True},
    ),
    "builtin_python": SuiteInfo(
        language="python",
        description="Python functions checked by assert statements",
        verifier="mbpp",
    ),
}

# One family of each module in turn, so that any prefix of a suite covers every category.
_FAMILIES_BY_MODULE = [
    module.FAMILIES
    for module in (
        arithmetic,
        loops,
        conditionals,
        arrays,
        strings,
        recursion,
        stacks_and_queues,
        counting,
    )
]
FAMILIES: list[Family] = [
    family
    for row in itertools.zip_longest(*_FAMILIES_BY_MODULE)
    for family in row
    if family is not None
]


def generate_tasks(suite: str, count: int | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """`count` tasks of a built-in suite (default: 20 per family), the same for the same seed.

    Raises `DataError` for an unknown suite or a negative count.
    """
    if suite not in BUILTIN_SUITES:
        raise DataError(
            f"unknown built-in suite {suite!r}; choose one of: {', '.join(BUILTIN_SUITES)}"
        )
    if count is None:
        count = DEFAULT_TASKS_PER_FAMILY * len(FAMILIES)
    if count < 0:
        raise DataError(f"task count must be 0 or more, got {count}")
    language = BUILTIN_SUITES[suite].language
    rounds, extra = divmod(count, len(FAMILIES))
    per_family = [
        draw_instances(family, rounds + (position < extra), seed)
        for position, family in enumerate(FAMILIES)
    ]
    return [
        task_record(instance, suite, language)
        for row in itertools.zip_longest(*per_family)
        for instance in row
        if instance is not None
    ]
