"""Stack and queue families: brackets, postfix expressions, the Josephus queue, pair removal."""

from __future__ import annotations

import operator
import random

from halo_forge.data.builtin_tasks.families import (
    Constants,
    Family,
    grid,
    random_array,
    random_word,
)

OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def _is_balanced(s: str) -> bool:
    while any(pair in s for pair in ("()", "[]", "{}")):
        s = s.replace("()", "").replace("[]", "").replace("{}", "")
    return not s


def _brackets(rng: random.Random, depth: int = 0) -> str:
    """A balanced bracket string, nested at most three deep."""
    parts = []
    for _ in range(rng.randint(1, 3 - depth)):
        opener, closer = rng.choice(("()", "[]", "{}"))
        parts.append(
            opener
            + (_brackets(rng, depth + 1) if depth < 2 and rng.random() < 0.5 else "")
            + closer
        )
    return "".join(parts)


def _balanced_or_not(rng: random.Random, constants: Constants) -> tuple[str]:
    s = _brackets(rng)
    if rng.random() < 0.5:
        position = rng.randrange(len(s))
        s = s[:position] + rng.choice("()[]{}") + s[position + 1 :]
    return (s,)


def _postfix(rng: random.Random, operands: int) -> str:
    """A postfix expression over single digits with `operands` numbers."""
    if operands == 1:
        return str(rng.randint(0, 9))
    left = rng.randint(1, operands - 1)
    return _postfix(rng, left) + _postfix(rng, operands - left) + rng.choice("+-*")


def _evaluate_postfix(s: str) -> int:
    stack: list[int] = []
    for ch in s:
        if ch in OPERATORS:
            right, left = stack.pop(), stack.pop()
            stack.append(OPERATORS[ch](left, right))
        else:
            stack.append(int(ch))
    return stack[0]


def _josephus(n: int, k: int) -> int:
    people = list(range(1, n + 1))
    position = 0
    while len(people) > 1:
        position = (position + k - 1) % len(people)
        people.pop(position)
    return people[0]


def _remove_pairs(s: str) -> str:
    kept: list[str] = []
    for ch in s:
        if kept and kept[-1] == ch:
            kept.pop()
        else:
            kept.append(ch)
    return "".join(kept)


def _word_leaving_letters(rng: random.Random, constants: Constants) -> tuple[str]:
    """A word over three letters with pairs to delete that does not vanish completely."""
    word = random_word(rng, "abc", max_length=10)
    while not _remove_pairs(word):
        word = random_word(rng, "abc", max_length=10)
    return (word,)


def _next_greater(a: list[int]) -> list[int]:
    return [next((later for later in a[i + 1 :] if later > x), -1) for i, x in enumerate(a)]


FAMILIES = [
    Family(
        name="balanced_brackets",
        category="data_structures",
        difficulty=2,
        params=(("s", "string"),),
        returns="bool",
        summary="whether the brackets (), [] and {} in s are balanced and properly nested",
        reference=lambda c, s: _is_balanced(s),
        sample=_balanced_or_not,
        c="""
    char stack[101];
    int top = 0;
    for (int i = 0; s[i] != '\\0'; i++) {
        char ch = s[i];
        if (ch == '(' || ch == '[' || ch == '{') {
            stack[top++] = ch;
            continue;
        }
        char open = ch == ')' ? '(' : ch == ']' ? '[' : '{';
        if (top == 0 || stack[top - 1] != open)
            return false;
        top--;
    }
    return top == 0;
""",
        cpp="""
    std::stack<char> open;
    for (char ch : s) {
        if (ch == '(' || ch == '[' || ch == '{') {
            open.push(ch);
            continue;
        }
        char expected = ch == ')' ? '(' : ch == ']' ? '[' : '{';
        if (open.empty() || open.top() != expected)
            return false;
        open.pop();
    }
    return open.empty();
""",
        python="""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for ch in s:
        if ch in "([{":
            stack.append(ch)
        elif not stack or stack.pop() != pairs[ch]:
            return False
    return not stack
""",
    ),
    Family(
        name="eval_postfix",
        category="data_structures",
        difficulty=3,
        params=(("s", "string"),),
        returns="int",
        summary="the value of the postfix expression s, made of single digits and the operators "
        "+, - and * (23+4* is (2 + 3) * 4)",
        reference=lambda c, s: _evaluate_postfix(s),
        sample=lambda rng, c: (_postfix(rng, rng.randint(1, 5)),),
        c="""
    int stack[100], top = 0;
    for (int i = 0; s[i] != '\\0'; i++) {
        if (isdigit(s[i])) {
            stack[top++] = s[i] - '0';
            continue;
        }
        int right = stack[--top];
        int left = stack[--top];
        stack[top++] = s[i] == '+' ? left + right : s[i] == '-' ? left - right : left * right;
    }
    return stack[0];
""",
        cpp="""
    std::stack<int> values;
    for (char ch : s) {
        if (std::isdigit(ch)) {
            values.push(ch - '0');
            continue;
        }
        int right = values.top();
        values.pop();
        int left = values.top();
        values.pop();
        values.push(ch == '+' ? left + right : ch == '-' ? left - right : left * right);
    }
    return values.top();
""",
        python="""
    stack = []
    for ch in s:
        if ch.isdigit():
            stack.append(int(ch))
            continue
        right = stack.pop()
        left = stack.pop()
        stack.append(left + right if ch == "+" else left - right if ch == "-" else left * right)
    return stack[0]
""",
    ),
    Family(
        name="josephus",
        category="data_structures",
        difficulty=3,
        params=(("n", "int"),),
        returns="int",
        summary="the last person left when people 1 to n (n > 0) stand in a queue and, until one "
        "is left, $skip people in turn move from the front to the back and the next one leaves",
        constants=grid(skip=range(2, 6)),
        reference=lambda c, n: _josephus(n, c["skip"] + 1),
        sample=lambda rng, c: (rng.randint(1, 30),),
        c="""
    int queue[1000], head = 0, tail = 0;
    for (int i = 1; i <= n; i++)
        queue[tail++] = i;
    while (tail - head > 1) {
        for (int i = 0; i < $skip; i++)
            queue[tail++] = queue[head++];
        head++;
    }
    return queue[head];
""",
        cpp="""
    std::queue<int> people;
    for (int i = 1; i <= n; i++)
        people.push(i);
    while (people.size() > 1) {
        for (int i = 0; i < $skip; i++) {
            people.push(people.front());
            people.pop();
        }
        people.pop();
    }
    return people.front();
""",
        python="""
    people = deque(range(1, n + 1))
    while len(people) > 1:
        for _ in range($skip):
            people.append(people.popleft())
        people.popleft()
    return people[0]
""",
    ),
    Family(
        name="remove_pairs",
        category="data_structures",
        difficulty=3,
        params=(("s", "string"),),
        returns="string",
        summary="what is left of s after repeatedly deleting two equal adjacent letters "
        "(abbac gives c)",
        reference=lambda c, s: _remove_pairs(s),
        sample=_word_leaving_letters,
        c="""
    int top = 0;
    for (int i = 0; s[i] != '\\0'; i++) {
        if (top > 0 && out[top - 1] == s[i])
            top--;
        else
            out[top++] = s[i];
    }
    out[top] = '\\0';
""",
        cpp="""
    std::string kept;
    for (char ch : s) {
        if (!kept.empty() && kept.back() == ch)
            kept.pop_back();
        else
            kept.push_back(ch);
    }
    return kept;
""",
        python="""
    kept = []
    for ch in s:
        if kept and kept[-1] == ch:
            kept.pop()
        else:
            kept.append(ch)
    return "".join(kept)
""",
    ),
    Family(
        name="next_greater",
        category="data_structures",
        difficulty=3,
        params=(("a", "array"),),
        returns="array",
        summary="the next greater element of each element of a: the first later element that is "
        "greater, or -1 if there is none (values are between 0 and 20)",
        reference=lambda c, a: _next_greater(a),
        sample=lambda rng, c: (random_array(rng, 0, 20),),
        c="""
    int stack[100], top = 0;
    for (int i = n - 1; i >= 0; i--) {
        while (top > 0 && stack[top - 1] <= a[i])
            top--;
        out[i] = top > 0 ? stack[top - 1] : -1;
        stack[top++] = a[i];
    }
""",
        cpp="""
    std::vector<int> result(a.size());
    std::stack<int> greater;
    for (int i = a.size() - 1; i >= 0; i--) {
        while (!greater.empty() && greater.top() <= a[i])
            greater.pop();
        result[i] = greater.empty() ? -1 : greater.top();
        greater.push(a[i]);
    }
    return result;
""",
        python="""
    result = [-1] * len(a)
    stack = []
    for i in range(len(a) - 1, -1, -1):
        while stack and stack[-1] <= a[i]:
            stack.pop()
        if stack:
            result[i] = stack[-1]
        stack.append(a[i])
    return result
""",
    ),
]
