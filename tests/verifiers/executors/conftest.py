"""The Ray cluster the executor tests share, one per test module (see `ray_cluster.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from verifiers.executors.ray_cluster import Cluster, ray, start_cluster, stop_cluster


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Cluster]:
    """The cluster; the code under test connects to `cluster.address` itself (`ray.init`)."""
    assert not ray.is_initialized(), "another test left a Ray connection open"
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
