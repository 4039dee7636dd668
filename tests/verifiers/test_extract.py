"""Code extraction from model answers: fences by language, <code> elements, raw code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from halo_forge.verifiers.extract import extract_code, fenced_blocks

C_FAMILY = ("c", "cpp", "c++", "cc", "cxx", "h", "hpp")

PROGRAM_WITH_HELPER_AFTER_MAIN = """#include <cstdio>
int twice(int x);
int main() {
    printf("%d\\n", twice(21));
    return 0;
}

int twice(int x) {
    return 2 * x;
}
"""


def test_cpp_block_is_chosen_over_bash_block() -> None:
    answer = (
        "Build it with:\n```bash\ng++ -O2 main.cpp -o main\n```\n"
        "Here is the solution:\n```cpp\nint main() { return 0; }\n```\n"
    )
    assert extract_code(answer, C_FAMILY) == "int main() { return 0; }\n"


def test_every_c_family_tag_is_accepted() -> None:
    for tag in (*C_FAMILY, "CPP", "C++"):
        answer = f"```{tag}\nint x;\n```"
        assert extract_code(answer, C_FAMILY) == "int x;\n", tag


def test_untagged_block_is_accepted() -> None:
    assert extract_code("Answer:\n```\nint y;\n```\nDone.", C_FAMILY) == "int y;\n"


def test_tagged_block_beats_longer_untagged_block() -> None:
    answer = "```\nsample output that is quite long indeed\n```\n```cpp\nint z;\n```"
    assert extract_code(answer, C_FAMILY) == "int z;\n"


def test_longest_matching_block_wins() -> None:
    answer = (
        "```cpp\nint f();\n```\nFull program:\n```cpp\nint f() { return 1; }\nint main() {}\n```"
    )
    assert extract_code(answer, C_FAMILY) == "int f() { return 1; }\nint main() {}\n"


def test_functions_after_main_are_kept() -> None:
    answer = f"```cpp\n{PROGRAM_WITH_HELPER_AFTER_MAIN}```\nThe helper follows main."
    assert extract_code(answer, C_FAMILY) == PROGRAM_WITH_HELPER_AFTER_MAIN
    assert extract_code(PROGRAM_WITH_HELPER_AFTER_MAIN, C_FAMILY) == PROGRAM_WITH_HELPER_AFTER_MAIN


def test_only_other_language_blocks_yield_no_code() -> None:
    assert extract_code("```python\nprint(1)\n```\n```bash\nls\n```", C_FAMILY) == ""


def test_empty_language_filter_accepts_any_tag() -> None:
    assert extract_code("```python\nprint(1)\n```", ()) == "print(1)\n"


def test_unclosed_fence_runs_to_end_of_answer() -> None:
    answer = "```cpp\nint main() {\n    return 0;\n"
    assert extract_code(answer, C_FAMILY) == "int main() {\n    return 0;\n"


def test_longer_fence_may_contain_shorter_fences() -> None:
    answer = '````cpp\nconst char* s = R"(\n```\n)";\n````'
    assert extract_code(answer, C_FAMILY) == 'const char* s = R"(\n```\n)";\n'


def test_tilde_fences_and_info_strings() -> None:
    answer = "~~~cpp title=main.cpp\nint a;\n~~~"
    assert extract_code(answer, C_FAMILY) == "int a;\n"


def test_code_element_is_extracted_and_unescaped() -> None:
    answer = 'Solution: <code class="language-cpp">if (a &lt; b) return 1;</code> done'
    assert extract_code(answer, C_FAMILY) == "if (a < b) return 1;\n"


def test_raw_code_is_returned_stripped_of_blank_edges() -> None:
    assert extract_code("\n\n    int x;\n\n\n", C_FAMILY) == "    int x;\n"
    assert extract_code("   \n  ", C_FAMILY) == ""


def test_fenced_blocks_reports_languages_in_order() -> None:
    blocks = fenced_blocks("```Bash\nls\n```\ntext\n```{cpp}\nint a;\n```\n```\nraw\n```")
    assert [block.language for block in blocks] == ["bash", "cpp", ""]
    assert [block.body for block in blocks] == ["ls", "int a;", "raw"]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_extracting_twice_changes_nothing(text: str) -> None:
    once = extract_code(text, C_FAMILY)
    if "```" not in once and "~~~" not in once and "<code" not in once.lower():
        assert extract_code(once, C_FAMILY) == once
