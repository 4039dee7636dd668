"""Recursion families: functions defined by a smaller case of themselves (the prompt asks for it)."""

from __future__ import annotations

import math
import random

from halo_forge.data.builtin_tasks.families import Constants, Family, grid
from halo_forge.data.builtin_tasks.loops import MODULI


def _climb_ways(n: int, step: int) -> int:
    ways = [1] + [0] * n
    for i in range(1, n + 1):
        ways[i] = ways[i - 1] + (ways[i - step] if i >= step else 0)
    return ways[n]


def _sequence_term(n: int, first: int, second: int, factor: int) -> int:
    terms = [first, second]
    while len(terms) <= n:
        terms.append(terms[-1] + factor * terms[-2])
    return terms[n]


def _digits(n: int, base: int) -> list[int]:
    digits = []
    while n > 0:
        digits.append(n % base)
        n //= base
    return digits


def _pick_n_and_k(rng: random.Random, constants: Constants) -> tuple[int, int]:
    n = rng.randint(0, 14)
    return (n, rng.randint(0, n))


FAMILIES = [
    Family(
        name="gcd",
        category="recursion",
        difficulty=1,
        params=(("a", "int"), ("b", "int")),
        returns="int",
        summary="the greatest common divisor of a and b (a > 0, b >= 0), using gcd(a, b) = gcd(b, a % b)",
        reference=lambda c, a, b: math.gcd(a, b),
        sample=lambda rng, c: (
            rng.randint(1, 30) * rng.choice((1, 2, 6)),
            rng.randint(0, 30) * rng.choice((1, 3, 4)),
        ),
        c="""
    if (b == 0)
        return a;
    return gcd(b, a % b);
""",
        python="""
    if b == 0:
        return a
    return gcd(b, a % b)
""",
    ),
    Family(
        name="power_mod",
        category="recursion",
        difficulty=3,
        params=(("b", "int"), ("e", "int")),
        returns="int",
        summary="b to the power e modulo $m (b, e >= 0), squaring the result for e / 2",
        constants=grid(m=MODULI),
        reference=lambda c, b, e: pow(b, e, c["m"]),
        sample=lambda rng, c: (rng.randint(0, 50), rng.randint(0, 40)),
        c="""
    if (e == 0)
        return 1;
    int half = power_mod(b, e / 2);
    int result = half * half % $m;
    if (e % 2 == 1)
        result = result * (b % $m) % $m;
    return result;
""",
        python="""
    if e == 0:
        return 1
    half = power_mod(b, e // 2)
    result = half * half % $m
    if e % 2 == 1:
        result = result * (b % $m) % $m
    return result
""",
    ),
    Family(
        name="climb_ways",
        category="recursion",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="the number of ways to climb n steps taking 1 or $k steps at a time (n >= 0)",
        constants=grid(k=range(2, 7)),
        reference=lambda c, n: _climb_ways(n, c["k"]),
        sample=lambda rng, c: (rng.randint(0, 20),),
        c="""
    if (n < 0)
        return 0;
    if (n == 0)
        return 1;
    return climb_ways(n - 1) + climb_ways(n - $k);
""",
        python="""
    if n < 0:
        return 0
    if n == 0:
        return 1
    return climb_ways(n - 1) + climb_ways(n - $k)
""",
    ),
    Family(
        name="binomial",
        category="recursion",
        difficulty=2,
        params=(("n", "int"), ("k", "int")),
        returns="int",
        summary="the binomial coefficient C(n, k) for 0 <= k <= n, using C(n, k) = C(n - 1, k - 1) + C(n - 1, k)",
        reference=lambda c, n, k: math.comb(n, k),
        sample=_pick_n_and_k,
        c="""
    if (k == 0 || k == n)
        return 1;
    return binomial(n - 1, k - 1) + binomial(n - 1, k);
""",
        python="""
    if k == 0 or k == n:
        return 1
    return binomial(n - 1, k - 1) + binomial(n - 1, k)
""",
    ),
    Family(
        name="grid_paths",
        category="recursion",
        difficulty=2,
        params=(("rows", "int"), ("cols", "int")),
        returns="int",
        summary="the number of paths from the top-left to the bottom-right cell of a grid with "
        "rows rows and cols columns (both positive) that move only right or down",
        reference=lambda c, rows, cols: math.comb(rows + cols - 2, rows - 1),
        sample=lambda rng, c: (rng.randint(1, 8), rng.randint(1, 8)),
        c="""
    if (rows == 1 || cols == 1)
        return 1;
    return grid_paths(rows - 1, cols) + grid_paths(rows, cols - 1);
""",
        python="""
    if rows == 1 or cols == 1:
        return 1
    return grid_paths(rows - 1, cols) + grid_paths(rows, cols - 1)
""",
    ),
    Family(
        name="count_ones",
        category="recursion",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="the number of digits equal to 1 when n (n >= 0) is written in base $base",
        constants=grid(base=range(2, 11)),
        reference=lambda c, n: _digits(n, c["base"]).count(1),
        sample=lambda rng, c: (rng.randint(0, 5000),),
        c="""
    if (n == 0)
        return 0;
    return (n % $base == 1) + count_ones(n / $base);
""",
        python="""
    if n == 0:
        return 0
    return int(n % $base == 1) + count_ones(n // $base)
""",
    ),
    Family(
        name="hanoi_moves",
        category="recursion",
        difficulty=1,
        params=(("disks", "int"),),
        returns="int",
        summary="the number of moves needed to solve the Tower of Hanoi with disks disks (disks >= 0)",
        reference=lambda c, disks: 2**disks - 1,
        sample=lambda rng, c: (rng.randint(0, 20),),
        c="""
    if (disks == 0)
        return 0;
    return 2 * hanoi_moves(disks - 1) + 1;
""",
        python="""
    if disks == 0:
        return 0
    return 2 * hanoi_moves(disks - 1) + 1
""",
    ),
    Family(
        name="sequence_term",
        category="recursion",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="term n of the sequence t(0) = $first, t(1) = $second, t(i) = t(i - 1) + $factor * t(i - 2)",
        constants=grid(first=range(0, 4), second=range(1, 4), factor=range(1, 4)),
        reference=lambda c, n: _sequence_term(n, c["first"], c["second"], c["factor"]),
        sample=lambda rng, c: (rng.randint(0, 15),),
        c="""
    if (n == 0)
        return $first;
    if (n == 1)
        return $second;
    return sequence_term(n - 1) + $factor * sequence_term(n - 2);
""",
        python="""
    if n == 0:
        return $first
    if n == 1:
        return $second
    return sequence_term(n - 1) + $factor * sequence_term(n - 2)
""",
    ),
]
