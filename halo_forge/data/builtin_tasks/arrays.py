"""Array families: counts, extremes and element-wise transforms over one integer array."""

from __future__ import annotations

import itertools
import operator
import random

from halo_forge.data.builtin_tasks.families import Constants, Family, grid, random_array

# The two orders a "sorted" family asks for: the comparison that holds between neighbours in
# order (Python body) and the one that shows they are out of order (C and C++ bodies).
ORDERS = (
    {"order": "non-decreasing", "in_order": "<=", "out_of_order": ">"},
    {"order": "strictly increasing", "in_order": "<", "out_of_order": ">="},
)
IN_ORDER = {"<=": operator.le, "<": operator.lt}


def _with_threshold(rng: random.Random, constants: Constants) -> tuple[list[int]]:
    """Values around the threshold k, k itself included often, so >= and > differ."""
    k = constants["k"]
    return ([rng.choice((k, rng.randint(k - 10, k + 10))) for _ in range(rng.randint(1, 10))],)


def _longest_sorted_run(a: list[int], in_order: str) -> int:
    best = current = 1
    for previous, value in itertools.pairwise(a):
        current = current + 1 if IN_ORDER[in_order](previous, value) else 1
        best = max(best, current)
    return best


def _max_subarray_sum(a: list[int]) -> int:
    return max(sum(a[i:j]) for i in range(len(a)) for j in range(i + 1, len(a) + 1))


def _sorted_or_not(rng: random.Random, constants: Constants) -> tuple[list[int]]:
    """Sorted arrays with and without repeats, and unsorted ones, so both orders are told apart."""
    values = random_array(rng, -5, 5)
    return (rng.choice((sorted(values), sorted(set(values)), values)),)


FAMILIES = [
    Family(
        name="count_greater",
        category="arrays",
        difficulty=1,
        params=(("a", "array"),),
        returns="int",
        summary="the number of elements of a greater than $k",
        constants=grid(k=range(0, 100)),
        reference=lambda c, a: sum(1 for x in a if x > c["k"]),
        sample=_with_threshold,
        c="""
    int count = 0;
    for (int i = 0; i < n; i++)
        if (a[i] > $k)
            count++;
    return count;
""",
        cpp="""
    int count = 0;
    for (int x : a)
        if (x > $k)
            count++;
    return count;
""",
        python="""
    return sum(1 for x in a if x > $k)
""",
    ),
    Family(
        name="sum_divisible",
        category="arrays",
        difficulty=1,
        params=(("a", "array"),),
        returns="int",
        summary="the sum of the elements of a that are divisible by $k",
        constants=grid(k=range(2, 8)),
        reference=lambda c, a: sum(x for x in a if x % c["k"] == 0),
        sample=lambda rng, c: (random_array(rng, -20, 50),),
        c="""
    int total = 0;
    for (int i = 0; i < n; i++)
        if (a[i] % $k == 0)
            total += a[i];
    return total;
""",
        cpp="""
    int total = 0;
    for (int x : a)
        if (x % $k == 0)
            total += x;
    return total;
""",
        python="""
    return sum(x for x in a if x % $k == 0)
""",
    ),
    Family(
        name="max_minus_min",
        category="arrays",
        difficulty=1,
        params=(("a", "array"),),
        returns="int",
        summary="the largest element of a minus the smallest element of a",
        reference=lambda c, a: max(a) - min(a),
        sample=lambda rng, c: (random_array(rng, -100, 100),),
        c="""
    int largest = a[0], smallest = a[0];
    for (int i = 1; i < n; i++) {
        if (a[i] > largest)
            largest = a[i];
        if (a[i] < smallest)
            smallest = a[i];
    }
    return largest - smallest;
""",
        cpp="""
    return *std::max_element(a.begin(), a.end()) - *std::min_element(a.begin(), a.end());
""",
        python="""
    return max(a) - min(a)
""",
    ),
    Family(
        name="count_occurrences",
        category="arrays",
        difficulty=1,
        params=(("a", "array"), ("x", "int")),
        returns="int",
        summary="how many times x appears in a",
        reference=lambda c, a, x: a.count(x),
        sample=lambda rng, c: (random_array(rng, 0, 5), rng.randint(0, 6)),
        c="""
    int count = 0;
    for (int i = 0; i < n; i++)
        if (a[i] == x)
            count++;
    return count;
""",
        cpp="""
    return std::count(a.begin(), a.end(), x);
""",
        python="""
    return a.count(x)
""",
    ),
    Family(
        name="reverse_array",
        category="arrays",
        difficulty=1,
        params=(("a", "array"),),
        returns="array",
        summary="the elements of a in reverse order",
        reference=lambda c, a: a[::-1],
        sample=lambda rng, c: (random_array(rng, -50, 50),),
        c="""
    for (int i = 0; i < n; i++)
        out[i] = a[n - 1 - i];
""",
        cpp="""
    return std::vector<int>(a.rbegin(), a.rend());
""",
        python="""
    return a[::-1]
""",
    ),
    Family(
        name="prefix_sums",
        category="arrays",
        difficulty=2,
        params=(("a", "array"),),
        returns="array",
        summary="the running sums of a, where element i is a[0] + a[1] + ... + a[i]",
        reference=lambda c, a: [sum(a[: i + 1]) for i in range(len(a))],
        sample=lambda rng, c: (random_array(rng, -20, 20),),
        c="""
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += a[i];
        out[i] = total;
    }
""",
        cpp="""
    std::vector<int> sums;
    int total = 0;
    for (int x : a) {
        total += x;
        sums.push_back(total);
    }
    return sums;
""",
        python="""
    sums = []
    total = 0
    for x in a:
        total += x
        sums.append(total)
    return sums
""",
    ),
    Family(
        name="rotate_left",
        category="arrays",
        difficulty=2,
        params=(("a", "array"),),
        returns="array",
        summary="a rotated left by $k positions, so that element i of the result is a[(i + $k) % n] "
        "for n elements",
        constants=grid(k=range(2, 10)),
        reference=lambda c, a: [a[(i + c["k"]) % len(a)] for i in range(len(a))],
        sample=lambda rng, c: (random_array(rng, 0, 50),),
        c="""
    for (int i = 0; i < n; i++)
        out[i] = a[(i + $k) % n];
""",
        cpp="""
    int n = a.size();
    std::vector<int> rotated(n);
    for (int i = 0; i < n; i++)
        rotated[i] = a[(i + $k) % n];
    return rotated;
""",
        python="""
    return [a[(i + $k) % len(a)] for i in range(len(a))]
""",
    ),
    Family(
        name="raise_to_minimum",
        category="arrays",
        difficulty=1,
        params=(("a", "array"),),
        returns="array",
        summary="a with every element smaller than $k replaced by $k",
        constants=grid(k=range(0, 100)),
        reference=lambda c, a: [max(x, c["k"]) for x in a],
        sample=_with_threshold,
        c="""
    for (int i = 0; i < n; i++)
        out[i] = a[i] < $k ? $k : a[i];
""",
        cpp="""
    std::vector<int> result;
    for (int x : a)
        result.push_back(x < $k ? $k : x);
    return result;
""",
        python="""
    return [max(x, $k) for x in a]
""",
    ),
    Family(
        name="is_sorted",
        category="arrays",
        difficulty=1,
        params=(("a", "array"),),
        returns="bool",
        summary="whether the elements of a are in $order order",
        constants=ORDERS,
        reference=lambda c, a: all(IN_ORDER[c["in_order"]](x, y) for x, y in itertools.pairwise(a)),
        sample=_sorted_or_not,
        c="""
    for (int i = 1; i < n; i++)
        if (a[i - 1] $out_of_order a[i])
            return false;
    return true;
""",
        cpp="""
    for (size_t i = 1; i < a.size(); i++)
        if (a[i - 1] $out_of_order a[i])
            return false;
    return true;
""",
        python="""
    return all(a[i - 1] $in_order a[i] for i in range(1, len(a)))
""",
    ),
    Family(
        name="count_pairs_with_sum",
        category="arrays",
        difficulty=2,
        params=(("a", "array"),),
        returns="int",
        summary="the number of index pairs i < j such that a[i] + a[j] == $k",
        constants=grid(k=range(0, 41)),
        reference=lambda c, a: sum(
            1 for i in range(len(a)) for j in range(i + 1, len(a)) if a[i] + a[j] == c["k"]
        ),
        sample=lambda rng, c: (random_array(rng, 0, c["k"]),),
        c="""
    int count = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (a[i] + a[j] == $k)
                count++;
    return count;
""",
        cpp="""
    int count = 0;
    for (size_t i = 0; i < a.size(); i++)
        for (size_t j = i + 1; j < a.size(); j++)
            if (a[i] + a[j] == $k)
                count++;
    return count;
""",
        python="""
    count = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            if a[i] + a[j] == $k:
                count += 1
    return count
""",
    ),
    Family(
        name="longest_sorted_run",
        category="arrays",
        difficulty=3,
        params=(("a", "array"),),
        returns="int",
        summary="the length of the longest block of consecutive elements of a in $order order",
        constants=ORDERS,
        reference=lambda c, a: _longest_sorted_run(a, c["in_order"]),
        sample=lambda rng, c: (random_array(rng, 0, 5),),
        c="""
    int best = 1, current = 1;
    for (int i = 1; i < n; i++) {
        current = a[i - 1] $in_order a[i] ? current + 1 : 1;
        if (current > best)
            best = current;
    }
    return best;
""",
        cpp="""
    int best = 1, current = 1;
    for (size_t i = 1; i < a.size(); i++) {
        current = a[i - 1] $in_order a[i] ? current + 1 : 1;
        best = std::max(best, current);
    }
    return best;
""",
        python="""
    best = current = 1
    for i in range(1, len(a)):
        current = current + 1 if a[i - 1] $in_order a[i] else 1
        best = max(best, current)
    return best
""",
    ),
    Family(
        name="max_subarray_sum",
        category="arrays",
        difficulty=3,
        params=(("a", "array"),),
        returns="int",
        summary="the largest sum of a non-empty block of consecutive elements of a",
        reference=lambda c, a: _max_subarray_sum(a),
        sample=lambda rng, c: (random_array(rng, -10, 10),),
        c="""
    int best = a[0], current = a[0];
    for (int i = 1; i < n; i++) {
        current = current > 0 ? current + a[i] : a[i];
        if (current > best)
            best = current;
    }
    return best;
""",
        cpp="""
    int best = a[0], current = a[0];
    for (size_t i = 1; i < a.size(); i++) {
        current = std::max(current + a[i], a[i]);
        best = std::max(best, current);
    }
    return best;
""",
        python="""
    best = current = a[0]
    for x in a[1:]:
        current = max(current + x, x)
        best = max(best, current)
    return best
""",
    ),
]
