"""Pull the program out of a model's answer.

Models wrap code in Markdown fences (often several: the solution, a shell command to build it,
sample output), in `<code>` tags, or answer with bare code. The rules, in order:

1. Fenced blocks (``` or ~~~, any fence length) whose tag is one of the verifier's languages,
   or that have no tag, are candidates; blocks in other languages (``bash``, ``text``) are
   skipped. A fence that is never closed (an answer cut off by the token limit) runs to the end.
   Among candidates, tagged blocks beat untagged ones and the longest block wins, because the
   full solution is the longest piece of code in a typical answer.
   If the answer has fences but none in the language, there is no program: "" is returned.
2. Otherwise the contents of the longest `<code>...</code>` element (HTML entities decoded).
3. Otherwise the whole text, stripped.

Blocks are taken whole: nothing after `main` is ever cut off, so helper functions defined
after `main` stay part of the program.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_FENCE_OPEN = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
_CODE_ELEMENT = re.compile(r"<code(?:\s[^>]*)?>(?P<body>.*?)</code>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class FencedBlock:
    """One fenced code block: its language tag (lower case, "" when untagged) and its body."""

    language: str
    body: str


def fenced_blocks(text: str) -> list[FencedBlock]:
    """Every fenced block of a Markdown text, in order of appearance."""
    blocks: list[FencedBlock] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        info = opening["info"].strip()
        language = info.split()[0].strip("{}.").lower() if info else ""
        body: list[str] = []
        index += 1
        while index < len(lines):
            stripped = lines[index].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[index])
            index += 1
        blocks.append(FencedBlock(language=language, body="\n".join(body)))
        index += 1  # past the closing fence
    return blocks


def extract_code(text: str, languages: tuple[str, ...]) -> str:
    """The program in `text`: a fenced block in one of `languages`, a `<code>` element or raw code.

    `languages` lists accepted fence tags in lower case; an empty tuple accepts any tag.
    """
    blocks = fenced_blocks(text)
    if blocks:
        accepted = {language.lower() for language in languages}
        candidates = [
            block
            for block in blocks
            if not block.language or not accepted or block.language in accepted
        ]
        if not candidates:
            return ""
        best = max(candidates, key=lambda block: (bool(block.language), len(block.body.strip())))
        return _normalise(best.body)
    elements = [match["body"] for match in _CODE_ELEMENT.finditer(text)]
    if elements:
        return _normalise(html.unescape(max(elements, key=len)))
    return _normalise(text)


def _normalise(code: str) -> str:
    """Drop leading blank lines and trailing whitespace; end with one newline ("" if no code).

    Extracting from already extracted code gives it back unchanged, so callers may extract twice.
    """
    code = _LEADING_BLANK_LINES.sub("", code).rstrip()
    return code + "\n" if code else ""
