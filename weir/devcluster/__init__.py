"""A local Kubernetes control plane built from the Go module proxy, for tests and demos.

The names below are imported on first use, so that ``weir.devcluster.versions`` (which the
build workers read for the pinned kustomize version) does not pull in the control plane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir.devcluster.binaries import Binaries
    from weir.devcluster.cluster import ClusterState, DevCluster

__all__ = ["Binaries", "ClusterState", "DevCluster"]


def __getattr__(name: str) -> Any:
    if name == "Binaries":
        from weir.devcluster.binaries import Binaries  # noqa: PLC0415

        return Binaries
    if name in ("ClusterState", "DevCluster"):
        from weir.devcluster import cluster  # noqa: PLC0415

        return getattr(cluster, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
