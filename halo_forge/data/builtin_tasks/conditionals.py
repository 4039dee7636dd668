"""Conditional families: ranges, divisibility rules and case analysis over a few integers."""

from __future__ import annotations

import math
import random

from halo_forge.data.builtin_tasks.families import Constants, Family, grid

RANGES = tuple(
    {"lo": low, "hi": low + width} for low in range(-20, 21, 2) for width in (3, 5, 10, 20, 50)
)
COPRIME_PAIRS = tuple(
    {"a": a, "b": b} for a in range(2, 10) for b in range(a + 1, 12) if math.gcd(a, b) == 1
)


def _near_range(rng: random.Random, constants: Constants) -> tuple[int]:
    """Values inside, outside and on both edges of [lo, hi]."""
    low, high = constants["lo"], constants["hi"]
    return (rng.choice((low, high, low - 1, high + 1, rng.randint(low - 30, high + 30))),)


def _fizz_code(n: int, a: int, b: int) -> int:
    return (n % a == 0) + 2 * (n % b == 0)


def _triangle_kind(a: int, b: int, c: int) -> int:
    if a + b <= c or a + c <= b or b + c <= a:
        return 0
    return len({a, b, c})  # 1 distinct side length: equilateral, 2: isosceles, 3: neither


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


FAMILIES = [
    Family(
        name="clamp",
        category="conditionals",
        difficulty=1,
        params=(("x", "int"),),
        returns="int",
        summary="x limited to the range $lo to $hi (below $lo gives $lo, above $hi gives $hi)",
        constants=RANGES,
        reference=lambda c, x: min(max(x, c["lo"]), c["hi"]),
        sample=_near_range,
        c="""
    if (x < $lo)
        return $lo;
    if (x > $hi)
        return $hi;
    return x;
""",
        python="""
    if x < $lo:
        return $lo
    if x > $hi:
        return $hi
    return x
""",
    ),
    Family(
        name="in_range",
        category="conditionals",
        difficulty=1,
        params=(("x", "int"),),
        returns="bool",
        summary="whether x lies between $lo and $hi, both included",
        constants=RANGES,
        reference=lambda c, x: c["lo"] <= x <= c["hi"],
        sample=_near_range,
        c="""
    return x >= $lo && x <= $hi;
""",
        python="""
    return $lo <= x <= $hi
""",
    ),
    Family(
        name="fizz_code",
        category="conditionals",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="3 if n is divisible by both $a and $b, 1 if only by $a, 2 if only by $b, "
        "and 0 otherwise (n > 0)",
        constants=COPRIME_PAIRS,
        reference=lambda c, n: _fizz_code(n, c["a"], c["b"]),
        sample=lambda rng, c: (
            rng.choice((1, c["a"], c["b"], c["a"] * c["b"])) * rng.randint(1, 12),
        ),
        c="""
    if (n % $a == 0 && n % $b == 0)
        return 3;
    if (n % $a == 0)
        return 1;
    if (n % $b == 0)
        return 2;
    return 0;
""",
        python="""
    if n % $a == 0 and n % $b == 0:
        return 3
    if n % $a == 0:
        return 1
    if n % $b == 0:
        return 2
    return 0
""",
    ),
    Family(
        name="is_leap_year",
        category="conditionals",
        difficulty=1,
        params=(("year", "int"),),
        returns="bool",
        summary="whether year is a leap year: divisible by 4, except centuries not divisible by 400",
        reference=lambda c, year: _is_leap_year(year),
        sample=lambda rng, c: (
            rng.choice((4, 100, 400, 1)) * rng.randint(1, 25) + rng.choice((0, 0, 1)),
        ),
        c="""
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
""",
        python="""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
""",
    ),
    Family(
        name="median_of_three",
        category="conditionals",
        difficulty=2,
        params=(("a", "int"), ("b", "int"), ("c", "int")),
        returns="int",
        summary="the middle value of a, b and c (the one that is neither the largest nor the smallest)",
        reference=lambda constants, a, b, c: sorted((a, b, c))[1],
        sample=lambda rng, c: tuple(rng.randint(-20, 20) for _ in range(3)),
        c="""
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
""",
        python="""
    return sorted([a, b, c])[1]
""",
    ),
    Family(
        name="triangle_kind",
        category="conditionals",
        difficulty=3,
        params=(("a", "int"), ("b", "int"), ("c", "int")),
        returns="int",
        summary="0 if no triangle has sides a, b and c, else 1 if it is equilateral, "
        "2 if isosceles and 3 otherwise (sides are positive)",
        reference=lambda constants, a, b, c: _triangle_kind(a, b, c),
        sample=lambda rng, c: tuple(rng.choice((5, rng.randint(1, 10))) for _ in range(3)),
        c="""
    if (a + b <= c || a + c <= b || b + c <= a)
        return 0;
    if (a == b && b == c)
        return 1;
    if (a == b || b == c || a == c)
        return 2;
    return 3;
""",
        python="""
    if a + b <= c or a + c <= b or b + c <= a:
        return 0
    if a == b == c:
        return 1
    if a == b or b == c or a == c:
        return 2
    return 3
""",
    ),
    Family(
        name="distance_to",
        category="conditionals",
        difficulty=1,
        params=(("x", "int"),),
        returns="int",
        summary="the distance between x and $k, that is the absolute value of x - $k",
        constants=grid(k=range(-50, 51)),
        reference=lambda c, x: abs(x - c["k"]),
        sample=lambda rng, c: (rng.randint(-50, 50),),
        c="""
    if (x < $k)
        return $k - x;
    return x - $k;
""",
        python="""
    if x < $k:
        return $k - x
    return x - $k
""",
    ),
    Family(
        name="bucket_index",
        category="conditionals",
        difficulty=2,
        params=(("x", "int"),),
        returns="int",
        summary="0 if x < $lo, 1 if $lo <= x < $hi, and 2 if x >= $hi",
        constants=RANGES,
        reference=lambda c, x: 0 if x < c["lo"] else (1 if x < c["hi"] else 2),
        sample=_near_range,
        c="""
    if (x < $lo)
        return 0;
    if (x < $hi)
        return 1;
    return 2;
""",
        python="""
    if x < $lo:
        return 0
    if x < $hi:
        return 1
    return 2
""",
    ),
]
