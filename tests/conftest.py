"""Suite-wide isolation: caches, command logs and Hugging Face files go to per-session temp dirs."""

from __future__ import annotations

import os
import tempfile

import pytest

_SESSION_DIR = tempfile.mkdtemp(prefix="halo-forge-tests-")
os.environ.setdefault("HALO_FORGE_CACHE_DIR", os.path.join(_SESSION_DIR, "cache"))
os.environ.setdefault("HALO_FORGE_LOG_DIR", os.path.join(_SESSION_DIR, "logs"))
# Tests never download: Hugging Face libraries fail fast and keep their caches out of the home dir.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HOME", os.path.join(_SESSION_DIR, "huggingface"))
# One intra-op thread: tiny models gain nothing from more, and verifier subprocesses share the cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def log_dir() -> str:
    """Directory where command logs of this test session are written."""
    return os.environ["HALO_FORGE_LOG_DIR"]
