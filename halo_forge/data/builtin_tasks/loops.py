"""Loop families: sums, sequences and counts that take one pass or a nested pass over 1..n."""

from __future__ import annotations

import math

from halo_forge.data.builtin_tasks.families import Family, grid

MODULI = (7, 10, 11, 13, 97, 100, 101, 997, 1000, 1009)


def _fibonacci(n: int, modulus: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % modulus
    return a


def _collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def _digital_root(n: int, base: int) -> int:
    while n >= base:
        digits = []
        while n > 0:
            n, digit = divmod(n, base)
            digits.append(digit)
        n = sum(digits)
    return n


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))


FAMILIES = [
    Family(
        name="sum_multiples",
        category="loops",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="the sum of the numbers from 1 to n that are divisible by $k",
        constants=grid(k=range(2, 31)),
        reference=lambda c, n: sum(i for i in range(1, n + 1) if i % c["k"] == 0),
        sample=lambda rng, c: (rng.choice((rng.randint(1, 200), c["k"] * rng.randint(1, 20))),),
        c="""
    int total = 0;
    for (int i = 1; i <= n; i++)
        if (i % $k == 0)
            total += i;
    return total;
""",
        python="""
    return sum(i for i in range(1, n + 1) if i % $k == 0)
""",
    ),
    Family(
        name="sum_powers",
        category="loops",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="the sum of i to the power $p for i from 1 to n",
        constants=grid(p=range(1, 5)),
        reference=lambda c, n: sum(i ** c["p"] for i in range(1, n + 1)),
        sample=lambda rng, c: (rng.randint(1, 20),),
        c="""
    int total = 0;
    for (int i = 1; i <= n; i++) {
        int term = 1;
        for (int j = 0; j < $p; j++)
            term *= i;
        total += term;
    }
    return total;
""",
        python="""
    return sum(i**$p for i in range(1, n + 1))
""",
    ),
    Family(
        name="factorial_mod",
        category="loops",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="n! (the product 1 * 2 * ... * n) modulo $m",
        constants=grid(m=MODULI),
        reference=lambda c, n: math.factorial(n) % c["m"],
        sample=lambda rng, c: (rng.randint(0, 30),),
        c="""
    int result = 1;
    for (int i = 2; i <= n; i++)
        result = result * i % $m;
    return result;
""",
        python="""
    result = 1
    for i in range(2, n + 1):
        result = result * i % $m
    return result
""",
    ),
    Family(
        name="fibonacci_mod",
        category="loops",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="the n-th Fibonacci number modulo $m, where F(0) = 0 and F(1) = 1",
        constants=grid(m=MODULI),
        reference=lambda c, n: _fibonacci(n, c["m"]),
        sample=lambda rng, c: (rng.randint(0, 90),),
        c="""
    int a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        int next = (a + b) % $m;
        a = b;
        b = next;
    }
    return a;
""",
        python="""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % $m
    return a
""",
    ),
    Family(
        name="count_divisors",
        category="loops",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="the number of divisors of n that are greater than $k (n > 0)",
        constants=grid(k=range(0, 10)),
        reference=lambda c, n: sum(1 for d in range(c["k"] + 1, n + 1) if n % d == 0),
        sample=lambda rng, c: (rng.randint(1, 1000),),
        c="""
    int count = 0;
    for (int d = $k + 1; d <= n; d++)
        if (n % d == 0)
            count++;
    return count;
""",
        python="""
    return sum(1 for d in range($k + 1, n + 1) if n % d == 0)
""",
    ),
    Family(
        name="collatz_steps",
        category="loops",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="the number of steps from n to 1, where a step halves an even number "
        "and turns an odd number x into 3 * x + 1 (n > 0)",
        reference=lambda c, n: _collatz_steps(n),
        sample=lambda rng, c: (rng.randint(1, 200),),
        c="""
    int steps = 0;
    while (n != 1) {
        n = n % 2 == 0 ? n / 2 : 3 * n + 1;
        steps++;
    }
    return steps;
""",
        python="""
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps
""",
    ),
    Family(
        name="digital_root",
        category="loops",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="what is left of n (n >= 0) after replacing it by the sum of its base-$base "
        "digits again and again until it is below $base",
        constants=grid(base=range(3, 11)),  # in base 2 every positive n ends at 1
        reference=lambda c, n: _digital_root(n, c["base"]),
        sample=lambda rng, c: (rng.randint(0, 10**6),),
        c="""
    while (n >= $base) {
        int total = 0;
        for (; n > 0; n /= $base)
            total += n % $base;
        n = total;
    }
    return n;
""",
        python="""
    while n >= $base:
        total = 0
        while n > 0:
            total += n % $base
            n //= $base
        n = total
    return n
""",
    ),
    Family(
        name="reverse_number",
        category="loops",
        difficulty=1,
        params=(("n", "int"),),
        returns="int",
        summary="n with its decimal digits in reverse order (n >= 0; 120 gives 21)",
        reference=lambda c, n: int(str(n)[::-1]),
        sample=lambda rng, c: (rng.choice((rng.randint(0, 99999), 10 * rng.randint(1, 999))),),
        c="""
    int reversed = 0;
    while (n > 0) {
        reversed = reversed * 10 + n % 10;
        n /= 10;
    }
    return reversed;
""",
        python="""
    return int(str(n)[::-1])
""",
    ),
    Family(
        name="count_primes",
        category="loops",
        difficulty=2,
        params=(("n", "int"),),
        returns="int",
        summary="the number of primes p with $lo <= p <= n",
        constants=grid(lo=(2, 3, 5, 7, 10, 11, 13, 17, 20, 30)),
        reference=lambda c, n: sum(1 for p in range(c["lo"], n + 1) if _is_prime(p)),
        sample=lambda rng, c: (rng.randint(0, 300),),
        c="""
    int count = 0;
    for (int p = $lo; p <= n; p++) {
        bool prime = p >= 2;
        for (int d = 2; d * d <= p; d++)
            if (p % d == 0)
                prime = false;
        if (prime)
            count++;
    }
    return count;
""",
        python="""
    count = 0
    for p in range($lo, n + 1):
        if p >= 2 and all(p % d != 0 for d in range(2, int(p**0.5) + 1)):
            count += 1
    return count
""",
    ),
]
