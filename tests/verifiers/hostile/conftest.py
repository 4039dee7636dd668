"""Fixtures of the hostile suites: secrets planted where a hostile sample would look."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from verifiers.hostile.planted import Secrets, plant_secrets


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Secrets]:
    """A secret in the real home, a fake $HOME, the project's data and the caller's directory."""
    yield from plant_secrets(monkeypatch)
