"""A real Ray cluster on 127.0.0.1 for the executor tests: a head node and worker nodes.

Ray rewrites 127.0.0.1 in a cluster address to the machine's outward IP, where nothing listens
when every node was started on loopback; with Ray's cluster-mode switch off it keeps loopback.
The switch is read when `ray` is first imported, so this module sets it before importing Ray,
and the tests import Ray through here. No node runs a dashboard. The head gets no CPUs, so
every task runs on a worker node.
"""

from __future__ import annotations

import os

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

import ray  # imported after the switch above, on purpose
from ray.cluster_utils import Cluster

LOOPBACK = "127.0.0.1"
WORKER_CPUS = 2


def start_cluster() -> Cluster:
    """A head node without CPUs and one worker node with `WORKER_CPUS` CPUs."""
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "node_ip_address": LOOPBACK, "include_dashboard": False},
    )
    add_worker_node(cluster)
    return cluster


def add_worker_node(cluster: Cluster) -> object:
    """One more worker node with `WORKER_CPUS` CPUs, on loopback, once it has joined."""
    node = cluster.add_node(num_cpus=WORKER_CPUS, node_ip_address=LOOPBACK)
    cluster.wait_for_nodes()
    return node


def stop_cluster(cluster: Cluster) -> None:
    """Disconnect this process (the code under test connected it), then stop every node."""
    ray.shutdown()
    cluster.shutdown()
