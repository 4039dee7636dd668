"""Counting-table families: a map (or an array indexed by value) from value to count does the work."""

from __future__ import annotations

import random
from collections import Counter

from halo_forge.data.builtin_tasks.families import (
    Constants,
    Family,
    grid,
    random_array,
    random_word,
)
from halo_forge.data.builtin_tasks.strings import SMALL_ALPHABET


def _most_frequent(a: list[int], tie: str) -> int:
    top = max(Counter(a).values())
    candidates = [value for value, count in Counter(a).items() if count == top]
    return min(candidates) if tie == "smallest" else max(candidates)


def _first_with_count(s: str, times: int) -> int:
    return next((i for i, ch in enumerate(s) if s.count(ch) == times), -1)


def _anagram_or_not(rng: random.Random, constants: Constants) -> tuple[str, str]:
    s = random_word(rng, SMALL_ALPHABET, max_length=8)
    letters = list(s)
    rng.shuffle(letters)
    if rng.random() < 0.5:
        letters[rng.randrange(len(letters))] = rng.choice(SMALL_ALPHABET)
    return (s, "".join(letters))


FAMILIES = [
    Family(
        name="most_frequent",
        category="data_structures",
        difficulty=2,
        params=(("a", "array"),),
        returns="int",
        summary="the value that appears most often in a, the $tie one on a tie "
        "(values are between 0 and 99)",
        constants=(
            {"tie": "smallest", "compare": ">", "reverse": "False"},
            {"tie": "largest", "compare": ">=", "reverse": "True"},
        ),
        reference=lambda c, a: _most_frequent(a, c["tie"]),
        sample=lambda rng, c: (random_array(rng, 0, rng.choice((5, 99))),),
        c="""
    int count[100] = {0};
    for (int i = 0; i < n; i++)
        count[a[i]]++;
    int best = 0;
    for (int value = 1; value < 100; value++)
        if (count[value] $compare count[best])
            best = value;
    return best;
""",
        cpp="""
    std::map<int, int> count;
    for (int x : a)
        count[x]++;
    int best = count.begin()->first;
    for (const auto& [value, times] : count)
        if (times $compare count[best])
            best = value;
    return best;
""",
        python="""
    count = Counter(a)
    return max(sorted(count, reverse=$reverse), key=count.get)
""",
    ),
    Family(
        name="first_with_count",
        category="data_structures",
        difficulty=2,
        params=(("s", "string"),),
        returns="int",
        summary="the index of the first letter of s that appears exactly $times times in s, "
        "or -1 if there is none",
        constants=grid(times=range(1, 4)),
        reference=lambda c, s: _first_with_count(s, c["times"]),
        sample=lambda rng, c: (random_word(rng, SMALL_ALPHABET),),
        c="""
    int count[26] = {0};
    for (int i = 0; s[i] != '\\0'; i++)
        count[s[i] - 'a']++;
    for (int i = 0; s[i] != '\\0'; i++)
        if (count[s[i] - 'a'] == $times)
            return i;
    return -1;
""",
        cpp="""
    std::map<char, int> count;
    for (char ch : s)
        count[ch]++;
    for (size_t i = 0; i < s.size(); i++)
        if (count[s[i]] == $times)
            return i;
    return -1;
""",
        python="""
    count = Counter(s)
    for i, ch in enumerate(s):
        if count[ch] == $times:
            return i
    return -1
""",
    ),
    Family(
        name="count_distinct",
        category="data_structures",
        difficulty=1,
        params=(("a", "array"),),
        returns="int",
        summary="the number of distinct values in a (values are between 0 and 99)",
        reference=lambda c, a: len(set(a)),
        sample=lambda rng, c: (random_array(rng, 0, rng.choice((5, 99))),),
        c="""
    bool seen[100] = {false};
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (!seen[a[i]])
            count++;
        seen[a[i]] = true;
    }
    return count;
""",
        cpp="""
    return std::set<int>(a.begin(), a.end()).size();
""",
        python="""
    return len(set(a))
""",
    ),
    Family(
        name="is_anagram",
        category="data_structures",
        difficulty=2,
        params=(("s", "string"), ("t", "string")),
        returns="bool",
        summary="whether t uses exactly the letters of s, each as many times",
        reference=lambda c, s, t: Counter(s) == Counter(t),
        sample=_anagram_or_not,
        c="""
    int count[26] = {0};
    for (int i = 0; s[i] != '\\0'; i++)
        count[s[i] - 'a']++;
    for (int i = 0; t[i] != '\\0'; i++)
        count[t[i] - 'a']--;
    for (int i = 0; i < 26; i++)
        if (count[i] != 0)
            return false;
    return true;
""",
        cpp="""
    std::map<char, int> count;
    for (char ch : s)
        count[ch]++;
    for (char ch : t)
        count[ch]--;
    for (const auto& [letter, times] : count)
        if (times != 0)
            return false;
    return true;
""",
        python="""
    return Counter(s) == Counter(t)
""",
    ),
]
