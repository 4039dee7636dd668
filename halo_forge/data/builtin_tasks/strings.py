"""String families: counting, testing and rewriting the letters of one lowercase word."""

from __future__ import annotations

import itertools
import random
import string

from halo_forge.data.builtin_tasks.families import Constants, Family, grid, random_word

LETTERS = string.ascii_lowercase
# Few distinct letters make repeats, runs and palindromes common in the tests.
SMALL_ALPHABET = "abcde"


def _palindrome_or_not(rng: random.Random, constants: Constants) -> tuple[str]:
    word = random_word(rng, SMALL_ALPHABET, max_length=6)
    return (word + word[::-1][rng.randint(0, 1) :] if rng.random() < 0.5 else word,)


def _run_length_encoding(s: str) -> str:
    return "".join(f"{letter}{len(list(run))}" for letter, run in itertools.groupby(s))


def _longest_run(s: str) -> int:
    return max(len(list(run)) for _, run in itertools.groupby(s))


def _word_with_runs(rng: random.Random, constants: Constants) -> tuple[str]:
    return ("".join(rng.choice("abc") * rng.randint(1, 4) for _ in range(rng.randint(1, 5))),)


FAMILIES = [
    Family(
        name="reverse_string",
        category="strings",
        difficulty=1,
        params=(("s", "string"),),
        returns="string",
        summary="s reversed",
        reference=lambda c, s: s[::-1],
        sample=lambda rng, c: (random_word(rng),),
        c="""
    int length = strlen(s);
    for (int i = 0; i < length; i++)
        out[i] = s[length - 1 - i];
    out[length] = '\\0';
""",
        cpp="""
    return std::string(s.rbegin(), s.rend());
""",
        python="""
    return s[::-1]
""",
    ),
    Family(
        name="count_letter",
        category="strings",
        difficulty=1,
        params=(("s", "string"),),
        returns="int",
        summary="how many times the letter '$letter' appears in s",
        constants=grid(letter=LETTERS),
        reference=lambda c, s: s.count(c["letter"]),
        sample=lambda rng, c: (random_word(rng, SMALL_ALPHABET + c["letter"] * 3),),
        c="""
    int count = 0;
    for (int i = 0; s[i] != '\\0'; i++)
        if (s[i] == '$letter')
            count++;
    return count;
""",
        cpp="""
    int count = 0;
    for (char ch : s)
        if (ch == '$letter')
            count++;
    return count;
""",
        python="""
    return s.count("$letter")
""",
    ),
    Family(
        name="count_vowels",
        category="strings",
        difficulty=1,
        params=(("s", "string"),),
        returns="int",
        summary="the number of vowels (a, e, i, o, u) in s",
        reference=lambda c, s: sum(1 for ch in s if ch in "aeiou"),
        sample=lambda rng, c: (random_word(rng),),
        c="""
    int count = 0;
    for (int i = 0; s[i] != '\\0'; i++)
        if (strchr("aeiou", s[i]))
            count++;
    return count;
""",
        cpp="""
    int count = 0;
    for (char ch : s)
        if (std::string("aeiou").find(ch) != std::string::npos)
            count++;
    return count;
""",
        python="""
    return sum(1 for ch in s if ch in "aeiou")
""",
    ),
    Family(
        name="is_palindrome",
        category="strings",
        difficulty=1,
        params=(("s", "string"),),
        returns="bool",
        summary="whether s reads the same forwards and backwards",
        reference=lambda c, s: s == s[::-1],
        sample=_palindrome_or_not,
        c="""
    int length = strlen(s);
    for (int i = 0; i < length / 2; i++)
        if (s[i] != s[length - 1 - i])
            return false;
    return true;
""",
        cpp="""
    return s == std::string(s.rbegin(), s.rend());
""",
        python="""
    return s == s[::-1]
""",
    ),
    Family(
        name="caesar_shift",
        category="strings",
        difficulty=2,
        params=(("s", "string"),),
        returns="string",
        summary="s with every letter moved $k places forward in the alphabet, z wrapping around to a",
        constants=grid(k=range(1, 26)),
        reference=lambda c, s: "".join(LETTERS[(LETTERS.index(ch) + c["k"]) % 26] for ch in s),
        sample=lambda rng, c: (random_word(rng),),
        c="""
    int i = 0;
    for (; s[i] != '\\0'; i++)
        out[i] = 'a' + (s[i] - 'a' + $k) % 26;
    out[i] = '\\0';
""",
        cpp="""
    std::string shifted = s;
    for (char& ch : shifted)
        ch = 'a' + (ch - 'a' + $k) % 26;
    return shifted;
""",
        python="""
    return "".join(chr(ord("a") + (ord(ch) - ord("a") + $k) % 26) for ch in s)
""",
    ),
    Family(
        name="replace_letter",
        category="strings",
        difficulty=1,
        params=(("s", "string"),),
        returns="string",
        summary="s with every '$old' replaced by '$new'",
        constants=tuple(c for c in grid(old="aeiost", new="aeioxyz") if c["old"] != c["new"]),
        reference=lambda c, s: s.replace(c["old"], c["new"]),
        sample=lambda rng, c: (random_word(rng, SMALL_ALPHABET + c["old"] * 3),),
        c="""
    int i = 0;
    for (; s[i] != '\\0'; i++)
        out[i] = s[i] == '$old' ? '$new' : s[i];
    out[i] = '\\0';
""",
        cpp="""
    std::string result = s;
    for (char& ch : result)
        if (ch == '$old')
            ch = '$new';
    return result;
""",
        python="""
    return s.replace("$old", "$new")
""",
    ),
    Family(
        name="uppercase_every",
        category="strings",
        difficulty=2,
        params=(("s", "string"),),
        returns="string",
        summary="s with the letters at positions 0, $k, $twice, ... in upper case",
        constants=tuple({"k": k, "twice": 2 * k} for k in range(2, 7)),
        reference=lambda c, s: "".join(
            ch.upper() if i % c["k"] == 0 else ch for i, ch in enumerate(s)
        ),
        sample=lambda rng, c: (random_word(rng),),
        c="""
    int i = 0;
    for (; s[i] != '\\0'; i++)
        out[i] = i % $k == 0 ? toupper(s[i]) : s[i];
    out[i] = '\\0';
""",
        cpp="""
    std::string result = s;
    for (size_t i = 0; i < result.size(); i += $k)
        result[i] = std::toupper(result[i]);
    return result;
""",
        python="""
    return "".join(ch.upper() if i % $k == 0 else ch for i, ch in enumerate(s))
""",
    ),
    Family(
        name="longest_run",
        category="strings",
        difficulty=2,
        params=(("s", "string"),),
        returns="int",
        summary="the length of the longest block of equal consecutive letters in s",
        reference=lambda c, s: _longest_run(s),
        sample=_word_with_runs,
        c="""
    int best = 1, current = 1;
    for (int i = 1; s[i] != '\\0'; i++) {
        current = s[i] == s[i - 1] ? current + 1 : 1;
        if (current > best)
            best = current;
    }
    return best;
""",
        cpp="""
    int best = 1, current = 1;
    for (size_t i = 1; i < s.size(); i++) {
        current = s[i] == s[i - 1] ? current + 1 : 1;
        best = std::max(best, current);
    }
    return best;
""",
        python="""
    best = current = 1
    for i in range(1, len(s)):
        current = current + 1 if s[i] == s[i - 1] else 1
        best = max(best, current)
    return best
""",
    ),
    Family(
        name="run_length_encode",
        category="strings",
        difficulty=3,
        params=(("s", "string"),),
        returns="string",
        summary="the run-length encoding of s: each block of equal consecutive letters becomes "
        "the letter followed by the block's length (aaab gives a3b1)",
        reference=lambda c, s: _run_length_encoding(s),
        sample=_word_with_runs,
        c="""
    int i = 0;
    while (s[i] != '\\0') {
        int start = i;
        while (s[i] == s[start])
            i++;
        out += sprintf(out, "%c%d", s[start], i - start);
    }
    *out = '\\0';
""",
        cpp="""
    std::string encoded;
    size_t i = 0;
    while (i < s.size()) {
        size_t start = i;
        while (i < s.size() && s[i] == s[start])
            i++;
        encoded += s[start] + std::to_string(i - start);
    }
    return encoded;
""",
        python="""
    encoded = ""
    i = 0
    while i < len(s):
        start = i
        while i < len(s) and s[i] == s[start]:
            i += 1
        encoded += s[start] + str(i - start)
    return encoded
""",
    ),
]
