"""Fixtures of the verifier tests: the SSH build host of the remote MSVC verifier."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from verifiers.ssh_server import BuildHost, start_build_host, stop_build_host


@pytest.fixture(scope="session")
def build_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildHost]:
    """A real sshd on 127.0.0.1 with a `cl` (clang-cl) build environment, for the whole session."""
    host = start_build_host(tmp_path_factory.mktemp("build-host"))
    yield host
    stop_build_host(host)
