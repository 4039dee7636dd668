"""C++ programs with known verdicts, shared by the tests of the local and the remote compile verifiers."""

from __future__ import annotations

from halo_forge.verifiers.base import RewardLevel

HELLO = '#include <cstdio>\nint main() { std::printf("hello\\n"); return 0; }\n'
ECHO_SUM = (
    "#include <iostream>\n"
    "int main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n"
)
#: One program per compile tier, with the reward a compile verifier must give it.
BY_TIER = {
    "syntax": ("int main() { int x = 1 return x; }\n", RewardLevel.SYNTAX_ERROR),
    "missing_include": (
        "int main() { std::vector<int> v; return (int)v.size(); }\n",
        RewardLevel.MISSING_DECLARATION,
    ),
    "semantic": (
        '#include <string>\nint main() { int x = std::string("a"); return x; }\n',
        RewardLevel.SEMANTIC_ERROR,
    ),
    "warnings": ("int main() { int unused; return 0; }\n", RewardLevel.COMPILE_WARNINGS),
    "clean": (HELLO, RewardLevel.COMPILE_CLEAN),
}
