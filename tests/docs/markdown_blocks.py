"""The fenced code blocks of the user guide: which pages, which blocks, and how each is marked.

A page is every `docs/**/*.md` file plus `README.md`. A block is marked not executable with an
HTML comment on the line before its fence, `<!-- not-run: REASON -->`, where REASON is one of
`NOT_RUN_REASONS`. A YAML block states its config type on its first line,
`# halo-forge config: sft|raft|grpo|benchmark`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

#: Why a block may be left unexecuted. Each needs something a test run must not do or cannot have.
NOT_RUN_REASONS: dict[str, str] = {
    "gpu": "needs a CUDA or ROCm accelerator",
    "hub download": "downloads a model or dataset from the Hugging Face Hub",
    "remote host": "needs a remote machine (an SSH build host, an LLM API server)",
    "installs packages": "changes the Python environment or the system (pip, apt-get, make setup)",
    "runs the test suite": "runs the repository's own test suite or linters, which run this test",
    "long run": "a full-size run of many minutes (make demo, training a real model)",
}

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>[\w+-]*)\s*$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>[^>]*?)\s*-->\s*$")
_CONFIG_TYPE = re.compile(r"^#\s*halo-forge config:\s*(?P<kind>\S+)\s*$")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: where it is, its language, its text, and its not-run reason if marked."""

    page: str
    line: int
    language: str
    text: str
    not_run: str | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def config_type(self) -> str | None:
        """The `# halo-forge config: TYPE` of a YAML block (None when the first line lacks it)."""
        first_line = self.text.splitlines()[0] if self.text.strip() else ""
        match = _CONFIG_TYPE.match(first_line)
        return match.group("kind") if match else None


def guide_pages() -> list[str]:
    """Every page of the guide, relative to the repository root, sorted."""
    pages = [
        str(path.relative_to(REPOSITORY_ROOT)) for path in (REPOSITORY_ROOT / "docs").rglob("*.md")
    ]
    return sorted([*pages, "README.md"])


def page_blocks(page: str) -> list[CodeBlock]:
    """The fenced blocks of one page, in order; an unclosed fence is an error naming its line."""
    lines = (REPOSITORY_ROOT / page).read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start, indent = index, opening.group("indent")
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(
                lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index]
            )
            index += 1
        if index == len(lines):
            raise AssertionError(f"{page}:{start + 1}: code fence is never closed")
        previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = _NOT_RUN.match(previous)
        blocks.append(
            CodeBlock(
                page=page,
                line=start + 1,
                language=opening.group("language").lower(),
                text="\n".join(body) + "\n",
                not_run=marker.group("reason") if marker else None,
            )
        )
        index += 1
    return blocks


def all_blocks(language: str) -> list[CodeBlock]:
    """Every block of one language across the guide."""
    return [
        block for page in guide_pages() for block in page_blocks(page) if block.language == language
    ]
