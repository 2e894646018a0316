"""Client access to the Kubernetes API: a thin layer over kubernetes_asyncio that works on plain
dicts of the API's JSON (see docs/kube-layer.md).

- :mod:`weir.kube.client`: an ``ApiClient`` from a kubeconfig or the in-cluster account.
- :mod:`weir.kube.transport`: raw JSON requests and watch streams (orjson, no models).
- :mod:`weir.kube.resources`: :class:`ResourceRef`, URL paths, discovery (GVK -> resource).
- :mod:`weir.kube.informer`: :class:`Informer`, a list+watch cache with indexes and handlers.
- :mod:`weir.kube.apply`: server-side apply, get/create/patch/delete, status, finalizers.
- :mod:`weir.kube.events`: :class:`EventRecorder` (core/v1 Events, aggregated).
- :mod:`weir.kube.lease`: :class:`LeaderElector` on a coordination.k8s.io Lease.
- :mod:`weir.kube.errors`: :class:`ApiError` and its subclasses, by HTTP status.
"""

from weir.kube.errors import (
    AlreadyExistsError,
    ApiError,
    ApiUnavailableError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidError,
    NotFoundError,
    UnknownKindError,
)
from weir.kube.events import EventRecorder
from weir.kube.indexers import index_by_label, index_by_source_ref
from weir.kube.informer import Informer
from weir.kube.lease import LeaderElector
from weir.kube.resources import ResourceRef, RESTMapper, mapper_for

__all__ = [
    "AlreadyExistsError",
    "ApiError",
    "ApiUnavailableError",
    "ConflictError",
    "EventRecorder",
    "ForbiddenError",
    "GoneError",
    "Informer",
    "InvalidError",
    "LeaderElector",
    "NotFoundError",
    "RESTMapper",
    "ResourceRef",
    "UnknownKindError",
    "index_by_label",
    "index_by_source_ref",
    "mapper_for",
]
