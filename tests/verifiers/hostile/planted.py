"""Secrets planted where a hostile sample would look, for the hostile suites to go after.

Each secret file holds the same text, which appears in no path: a compiler that names a file it
cannot open must not count as a leak, one that prints what it read must. The places are the
user's real home, a home of the test's own ($HOME for the verifier), the project's data
directory and the caller's working directory; each is outside /tmp, whose private copy in the
sandbox would hide it for another reason. Everything planted is removed afterwards.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from halo_forge.verifiers.result import VerifyResult

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Secrets:
    """The secret text and every file that holds it."""

    text: str
    paths: tuple[Path, ...]

    def assert_not_in(self, result: VerifyResult) -> None:
        """Neither the secret nor any part of it reached the result (details, error, metadata)."""
        shown = json.dumps(result.to_dict())
        assert self.text not in shown, shown
        assert self.text[-12:] not in shown, shown


def plant_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Secrets]:
    """A secret in the real home, in a fake $HOME, in the project's data and in the caller's
    working directory (a directory of the project the test moves into); the `secrets`
    fixture of this directory."""
    token = uuid.uuid4().hex[:10]
    text = f"TOP-SECRET-{uuid.uuid4().hex}"
    real_home = Path(pwd.getpwuid(os.geteuid()).pw_dir)
    fake_home = real_home / f".halo-forge-home-{token}"
    working = REPO_ROOT / f".halo-forge-cwd-{token}"
    data = REPO_ROOT / "data"
    created_data = not data.exists()
    paths = (
        real_home / f".halo-forge-secret-{token}",
        fake_home / ".ssh" / "id_rsa",
        data / f"tasks-{token}.jsonl",
        working / f"answers-{token}.txt",
    )
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
        monkeypatch.setenv("HOME", str(fake_home))
        monkeypatch.chdir(working)
        yield Secrets(text, paths)
    finally:
        monkeypatch.undo()
        for path in paths:
            path.unlink(missing_ok=True)
        shutil.rmtree(fake_home, ignore_errors=True)
        shutil.rmtree(working, ignore_errors=True)
        if created_data and data.is_dir() and not any(data.iterdir()):
            data.rmdir()


def reads_of(path: Path) -> list[str]:
    """The ways a program can name `path`: as it is, through /proc's views of the root and of
    its working directory, and climbing from its working directory."""
    climb = "../" * 12
    return [
        str(path),
        f"/proc/self/root{path}",
        f"/proc/1/root{path}",
        f"/proc/self/cwd/{climb}{str(path).lstrip('/')}",
        f"{climb}{str(path).lstrip('/')}",
    ]
