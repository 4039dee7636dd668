"""Task families: one programming problem with free constants, drawn into many concrete tasks.

A family such as "the number of elements of a greater than $k" holds what its tasks share: the
function name and parameters, a Python reference that computes expected outputs, a sampler of
test inputs and the solution body in each language. Drawing an instance fixes the constants
(k = 7) and the test inputs. Many families written in one naming and layout style give a tiny
model structure it can learn; the constants and inputs give it variety.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

Value = int | bool | str | list[int]
Constants = dict[str, int | str]

CATEGORIES = (
    "arithmetic",
    "loops",
    "conditionals",
    "arrays",
    "strings",
    "recursion",
    "data_structures",
)
PARAM_KINDS = ("int", "array", "string")
RETURN_KINDS = ("int", "bool", "string", "array")

MIN_TESTS, MAX_TESTS = 3, 5
# Candidates drawn per instance, from which tests with different expected results are picked.
CANDIDATE_DRAWS = 24


@dataclass(frozen=True, eq=False)
class Family:
    """A problem template; see the module docstring.

    `summary` is a noun phrase with `$constant` placeholders saying what the function computes
    ("the sum of the digits of n written in base $base"). `reference(constants, *args)` is the
    trusted Python model of the function; `sample(rng, constants)` draws one argument tuple.
    Bodies are the statements inside the function, indented by four spaces, with the same
    placeholders; `cpp` is None where the C body is also idiomatic C++.
    """

    name: str
    category: str
    difficulty: int
    params: tuple[tuple[str, str], ...]
    returns: str
    summary: str
    reference: Callable[..., Value]
    sample: Callable[[random.Random, Constants], tuple[Value, ...]]
    c: str
    python: str
    cpp: str | None = None
    constants: tuple[Constants, ...] = ({},)

    def __post_init__(self) -> None:
        kinds = [kind for _, kind in self.params]
        names = {name for name, _ in self.params}
        problems = []
        if self.category not in CATEGORIES:
            problems.append(f"category {self.category!r} is not one of {CATEGORIES}")
        if self.difficulty not in (1, 2, 3):
            problems.append(f"difficulty {self.difficulty} is not 1, 2 or 3")
        if self.returns not in RETURN_KINDS:
            problems.append(f"return kind {self.returns!r} is not one of {RETURN_KINDS}")
        if not set(kinds) <= set(PARAM_KINDS):
            problems.append(f"parameter kinds {kinds} are not all in {PARAM_KINDS}")
        # The generated C main names the array length `n` and the output buffer `out`.
        if kinds.count("array") > 1:
            problems.append("more than one array parameter")
        if "out" in names or ("array" in kinds and "n" in names):
            problems.append("`out`, and `n` beside an array, are reserved parameter names")
        if problems:
            raise ValueError(f"family {self.name!r}: {'; '.join(problems)}")


@dataclass(frozen=True)
class Instance:
    """One task of a family: fixed constants and test inputs."""

    family: Family
    index: int
    constants: Constants
    test_inputs: tuple[tuple[Value, ...], ...]

    def expected(self, args: tuple[Value, ...]) -> Value:
        """What the reference returns for `args` under this instance's constants."""
        return self.family.reference(self.constants, *args)


def grid(**choices: object) -> tuple[Constants, ...]:
    """Every combination of the choices, e.g. grid(k=range(2, 5), m=(7, 11)) gives 6 dicts."""
    names = list(choices)
    return tuple(
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(tuple(choices[name]) for name in names))
    )


def draw_instances(family: Family, count: int, seed: int) -> list[Instance]:
    """The first `count` instances of `family` for `seed`.

    The constant combinations are shuffled once per seed and taken in turn, so instances stay
    distinct until the family's space is used up and then cycle through it again; every instance
    draws its own test inputs, so a repeated prompt still comes with new tests.
    """
    order = list(family.constants)
    random.Random(f"{seed}/{family.name}/constants").shuffle(order)
    instances = []
    for index in range(count):
        constants = order[index % len(order)]
        rng = random.Random(f"{seed}/{family.name}/{index}")
        instances.append(
            Instance(family, index, constants, _draw_test_inputs(family, constants, rng))
        )
    return instances


def _draw_test_inputs(
    family: Family, constants: Constants, rng: random.Random
) -> tuple[tuple[Value, ...], ...]:
    """3 to 5 distinct argument tuples whose expected results differ where the sampler allows.

    Candidates are grouped by expected result and taken one group at a time, so a predicate gets
    true and false cases and a solution that always prints the same answer fails.
    """
    wanted = rng.randint(MIN_TESTS, MAX_TESTS)
    by_result: dict[str, dict[str, tuple[Value, ...]]] = {}
    for _ in range(CANDIDATE_DRAWS):
        args = family.sample(rng, constants)
        result = repr(family.reference(constants, *args))
        by_result.setdefault(result, {}).setdefault(repr(args), args)
    rows = itertools.zip_longest(*(group.values() for group in by_result.values()))
    candidates = [args for row in rows for args in row if args is not None]
    if len(candidates) < MIN_TESTS:
        raise ValueError(f"family {family.name!r} sampled fewer than {MIN_TESTS} distinct inputs")
    return tuple(candidates[:wanted])


def random_array(rng: random.Random, low: int, high: int) -> list[int]:
    """1 to 10 integers in [low, high]; short arrays keep prompts' tests readable."""
    return [rng.randint(low, high) for _ in range(rng.randint(1, 10))]


def random_word(
    rng: random.Random, alphabet: str = string.ascii_lowercase, max_length: int = 12
) -> str:
    """A non-empty word over `alphabet`: programs read strings as one whitespace-free token."""
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, max_length)))
