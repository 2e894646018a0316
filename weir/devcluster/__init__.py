"""A local Kubernetes control plane built from the Go module proxy, for tests and demos."""

from weir.devcluster.binaries import Binaries
from weir.devcluster.cluster import ClusterState, DevCluster

__all__ = ["Binaries", "ClusterState", "DevCluster"]
