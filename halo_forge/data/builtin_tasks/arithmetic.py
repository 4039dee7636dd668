"""Arithmetic families: digits, divisibility and closed-form values of one or two integers."""

from __future__ import annotations

import math
import random

from halo_forge.data.builtin_tasks.families import Constants, Family, grid


def _digit_sum(n: int, base: int) -> int:
    total = 0
    while n > 0:
        total += n % base
        n //= base
    return total


def _factor_count(n: int, k: int) -> int:
    count = 0
    while n % k == 0:
        n //= k
        count += 1
    return count


def _number_with_digit(rng: random.Random, constants: Constants) -> tuple[int]:
    """A number whose decimal digits are often the counted digit, so counts vary."""
    digits = [
        rng.choice((str(constants["d"]), str(rng.randint(0, 9)))) for _ in range(rng.randint(1, 6))
    ]
    return (int(str(rng.randint(1, 9)) + "".join(digits)),)


FAMILIES = [
    Family(
        name="sum_digits",
        category="arithmetic",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="the sum of the digits of n written in base $base",
        constants=grid(base=range(2, 11)),
        reference=lambda c, n: _digit_sum(n, c["base"]),
        sample=lambda rng, c: (rng.randint(0, 99999),),
        c="""
    int total = 0;
    while (n > 0) {
        total += n % $base;
        n /= $base;
    }
    return total;
""",
        python="""
    total = 0
    while n > 0:
        total += n % $base
        n //= $base
    return total
""",
    ),
    Family(
        name="count_digit",
        category="arithmetic",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="how many times the digit $d appears in the decimal form of n (n > 0)",
        constants=grid(d=range(10)),
        reference=lambda c, n: str(n).count(str(c["d"])),
        sample=_number_with_digit,
        c="""
    int count = 0;
    while (n > 0) {
        if (n % 10 == $d)
            count++;
        n /= 10;
    }
    return count;
""",
        python="""
    return str(n).count("$d")
""",
    ),
    Family(
        name="linear_value",
        category="arithmetic",
        difficulty=1,
        params=(("x", "int"),),
        returns="int",
        summary="the value of $a * x + $b",
        constants=grid(a=range(2, 20), b=range(1, 51)),
        reference=lambda c, x: c["a"] * x + c["b"],
        sample=lambda rng, c: (rng.randint(-100, 100),),
        c="""
    return $a * x + $b;
""",
        python="""
    return $a * x + $b
""",
    ),
    Family(
        name="round_up",
        category="arithmetic",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="the smallest multiple of $k that is at least n (n >= 0)",
        constants=grid(k=range(2, 51)),
        reference=lambda c, n: -(-n // c["k"]) * c["k"],
        sample=lambda rng, c: (rng.choice((rng.randint(0, 1000), c["k"] * rng.randint(0, 80))),),
        c="""
    return (n + $k - 1) / $k * $k;
""",
        python="""
    return (n + $k - 1) // $k * $k
""",
    ),
    Family(
        name="count_factor",
        category="arithmetic",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="how many times n can be divided by $k without a remainder (n > 0)",
        constants=grid(k=range(2, 8)),
        reference=lambda c, n: _factor_count(n, c["k"]),
        sample=lambda rng, c: (c["k"] ** rng.randint(0, 5) * rng.randint(1, 30),),
        c="""
    int count = 0;
    while (n % $k == 0) {
        n /= $k;
        count++;
    }
    return count;
""",
        python="""
    count = 0
    while n % $k == 0:
        n //= $k
        count += 1
    return count
""",
    ),
    Family(
        name="integer_root",
        category="arithmetic",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="the largest integer r such that r to the power $p is at most n (n >= 0)",
        constants=tuple({"p": p, "next_power": " * ".join(["(r + 1)"] * p)} for p in (2, 3, 4)),
        reference=lambda c, n: max(r for r in range(n + 1) if r ** c["p"] <= n),
        sample=lambda rng, c: (rng.choice((rng.randint(0, 10000), rng.randint(0, 9) ** c["p"])),),
        c="""
    int r = 0;
    while ($next_power <= n)
        r++;
    return r;
""",
        python="""
    r = 0
    while (r + 1) ** $p <= n:
        r += 1
    return r
""",
    ),
    Family(
        name="lcm",
        category="arithmetic",
        difficulty=2,
        params=(("a", "int"), ("b", "int")),
        returns="int",
        summary="the least common multiple of a and b (both positive)",
        reference=lambda c, a, b: math.lcm(a, b),
        sample=lambda rng, c: (rng.randint(1, 60), rng.randint(1, 60)),
        c="""
    int x = a, y = b;
    while (y != 0) {
        int rest = x % y;
        x = y;
        y = rest;
    }
    return a / x * b;
""",
        python="""
    x, y = a, b
    while y != 0:
        x, y = y, x % y
    return a // x * b
""",
    ),
]
