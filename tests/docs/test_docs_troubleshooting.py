"""Every error the troubleshooting page quotes is one the code raises today, word for word.

An entry is a `<!-- error: ID -->` marker followed by a ```text block; `error_triggers.TRIGGERS`
makes the code raise error ID, and the quoted text must be part of the real message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from docs.error_triggers import TRIGGERS
from docs.markdown_blocks import REPOSITORY_ROOT

PAGE = REPOSITORY_ROOT / "docs" / "reference" / "troubleshooting.md"
_ENTRY = re.compile(r"<!-- error: (?P<id>[\w-]+) -->\n```text\n(?P<quote>.*?)\n```", re.DOTALL)


def _entries() -> dict[str, str]:
    entries: dict[str, str] = {}
    for match in _ENTRY.finditer(PAGE.read_text(encoding="utf-8")):
        assert match.group("id") not in entries, f"error id {match.group('id')} appears twice"
        entries[match.group("id")] = match.group("quote")
    return entries


ENTRIES = _entries()


def test_every_entry_has_a_trigger_and_every_trigger_an_entry() -> None:
    assert len(ENTRIES) >= 10
    assert sorted(ENTRIES) == sorted(TRIGGERS)


@pytest.mark.parametrize("error_id", sorted(ENTRIES))
def test_quoted_message_is_what_the_code_raises(error_id: str, tmp_path: Path) -> None:
    message = TRIGGERS[error_id](tmp_path)
    quote = ENTRIES[error_id]
    message = message.replace(f"{tmp_path}{os.sep}", "")  # the page shows paths relative to a run
    assert quote in message, (
        f"docs/reference/troubleshooting.md, error {error_id}: the page quotes\n{quote}\n"
        f"but the code now says\n{message}"
    )
