"""Precompiled headers: which programs may use one, and that verdicts do not change with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.verifiers.cpp.compile import GCCVerifier
from halo_forge.verifiers.cpp.pch import leading_system_includes


def test_prefix_is_the_leading_system_includes() -> None:
    code = (
        "// solution\n\n/* multi\n   line */\n#include <iostream>\n  #  include <vector>\n"
        "#include <algorithm> // sorting\r\n#include <map>\nusing namespace std;\n#include <set>\n"
    )
    assert leading_system_includes(code) == ("iostream", "vector", "algorithm", "map")


@pytest.mark.parametrize(
    "code",
    [
        "#define int long long\n#include <bits/stdc++.h>\n",
        '#pragma GCC optimize("O3")\n#include <bits/stdc++.h>\n',
        '#include "local.h"\n#include <vector>\n',
        "int x;\n#include <vector>\n",
        "/* comment */ int y;\n#include <vector>\n",
        "// continued \\\n#include <vector>\n",
    ],
)
def test_anything_before_the_includes_means_no_prefix(code: str) -> None:
    assert leading_system_includes(code) == ()


def programs_with_shared_prefix() -> list[str]:
    header = "#include <iostream>\n#include <string>\n"
    return [
        header + "int main() { std::string s = \"a\"; std::cout << s << 1 << '\\n'; }\n",
        header + "int main() { std::cout << std::to_string(2) << '\\n'; }\n",
        header + "int main() { int unused; std::cout << 3 << '\\n'; }\n",
        header + "int main() { std::cout << undeclared_name << '\\n'; }\n",
        header + "int main() { std::string s = 5; }\n",
        header + "int helper() { return 1; }\n",  # no main: must still fail at link
    ]


def test_shared_prefix_gets_a_pch_and_verdicts_match_a_plain_compile() -> None:
    programs = programs_with_shared_prefix()
    with GCCVerifier(use_cache=False) as with_pch:
        fast = with_pch.verify_batch(programs)
    with GCCVerifier(use_cache=False, precompiled_headers=False) as plain:
        slow = plain.verify_batch(programs)
    assert all(result.metadata["precompiled_header"] for result in fast)
    assert not any(result.metadata["precompiled_header"] for result in slow)
    assert [(r.success, r.reward) for r in fast] == [(r.success, r.reward) for r in slow]
    assert [r.success for r in fast] == [True, True, True, False, False, False]
    assert fast[2].metadata["warnings"] == slow[2].metadata["warnings"] == 1


def test_program_with_a_macro_first_compiles_without_the_pch() -> None:
    programs = programs_with_shared_prefix()
    # The macro breaks <string> when the header is read after it; a PCH read before the
    # program would hide that and turn a failing compile into a passing one.
    breaks_header = "#define basic_string 42\n" + programs[1]
    with GCCVerifier(use_cache=False) as verifier:
        results = verifier.verify_batch([*programs[:4], breaks_header])
    assert results[0].metadata["precompiled_header"]
    assert not results[-1].metadata["precompiled_header"]
    assert not results[-1].success


def test_longer_prefix_uses_the_pch_of_its_shared_start() -> None:
    programs = programs_with_shared_prefix()
    longer = [
        "#include <iostream>\n#include <string>\n#include <climits>\n"
        "int main() { std::cout << INT_MAX << std::string(\"!\") << '\\n'; }\n",
        "#include <iostream>\n#include <string>\n#include <vector>\n"
        "int main() { std::vector<std::string> v(2); std::cout << v.size(); }\n",
        "#include <iostream>\n#include <string>\n#include <vector>\n"
        "int main() { std::vector<std::string> v = 3; }\n",
    ]
    with GCCVerifier(use_cache=False) as with_pch:
        fast = with_pch.verify_batch(programs[:4] + longer)
    with GCCVerifier(use_cache=False, precompiled_headers=False) as plain:
        slow = plain.verify_batch(longer)
    assert all(result.metadata["precompiled_header"] for result in fast[4:])
    assert [r.success for r in fast[4:]] == [r.success for r in slow] == [True, True, False]


def test_broken_pch_falls_back_to_a_plain_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path))  # the PCHs it breaks are its own
    programs = programs_with_shared_prefix()
    with GCCVerifier(use_cache=False) as verifier:
        before = verifier.verify_batch(programs)
        headers = verifier.toolsets.get("c++").headers["-O0"]
        for pch in headers.directory.glob("*/prefix.h.gch"):
            pch.write_bytes(b"not a precompiled header")
            (pch.parent / "prefix.h").unlink()
        after = verifier.verify_batch(programs[:3])
    assert [r.success for r in after] == [r.success for r in before[:3]] == [True] * 3
    assert not any(r.metadata["precompiled_header"] for r in after)
