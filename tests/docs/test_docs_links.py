"""Links between pages point at files and headings that exist, and the overview names every verifier."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs.markdown_blocks import REPOSITORY_ROOT, guide_pages

from halo_forge.verifiers.registry import available_verifiers

_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
_FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_HEADING = re.compile(r"^#{1,6} (?P<title>.+)$", re.MULTILINE)


def github_anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = title.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCED.sub("", path.read_text(encoding="utf-8"))
    return {github_anchor(match.group("title")) for match in _HEADING.finditer(text)}


def _links(page: str) -> list[str]:
    text = _FENCED.sub("", (REPOSITORY_ROOT / page).read_text(encoding="utf-8"))
    text = re.sub(r"`[^`]*`", "", text)
    return [match.group("target") for match in _LINK.finditer(text)]


def test_github_anchor_matches_githubs_rules() -> None:
    assert github_anchor("`sft` config (`SFTConfig`)") == "sft-config-sftconfig"
    assert github_anchor("1. Data") == "1-data"
    assert github_anchor("`eval`: HumanEval and MBPP") == "eval-humaneval-and-mbpp"


@pytest.mark.parametrize("page", guide_pages())
def test_relative_links_resolve(page: str) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        path_part, _, anchor = target.partition("#")
        destination = (
            (REPOSITORY_ROOT / page).parent / path_part if path_part else REPOSITORY_ROOT / page
        )
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page}: broken links: {broken}"


def test_verifier_overview_names_every_registered_verifier() -> None:
    overview = (REPOSITORY_ROOT / "docs" / "verifiers" / "overview.md").read_text(encoding="utf-8")
    missing = [name for name in available_verifiers() if f"`{name}`" not in overview]
    assert not missing, f"add these verifiers to docs/verifiers/overview.md: {missing}"
