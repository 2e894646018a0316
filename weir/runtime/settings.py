"""Settings of ``weir run``, as typed dataclasses with Flux's defaults and flag names.

:class:`RunSettings` holds what the runtime itself needs (controllers, clients, retries, leader
election, logs). Each feature package keeps its own typed settings beside its code
(``weir.source.settings.SourceSettings``, ``weir.kustomize.settings.KustomizeSettings``,
``weir.helm.settings.HelmSettings``, ``weir.web.settings.WebSettings``); the command line puts
them in :attr:`RunSettings.features` and a factory finds its own with
:meth:`RunSettings.feature` (the class's defaults when absent), so the runtime imports no
feature package.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from weir.errors import UsageError
from weir.log import LogEncoding
from weir.runtime.backoff import (
    DEFAULT_JITTER_PERCENT,
    DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_MIN_RETRY_DELAY,
)

T = TypeVar("T")

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def pod_namespace() -> str | None:
    """The namespace weir runs in: ``$POD_NAMESPACE``, else the service account's (in a pod);
    None outside a cluster."""
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"]
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    except OSError:
        return None


@dataclass(frozen=True)
class LeaderElectionSettings:
    """``--enable-leader-election`` and friends (Flux's defaults: 35s / 30s / 5s)."""

    enabled: bool = False
    """Elect one active instance among the replicas (``--enable-leader-election``)."""
    lease_duration: float = 35.0
    """How long standbys wait before taking an unrenewed lease
    (``--leader-election-lease-duration``)."""
    renew_deadline: float = 30.0
    """How long the leader keeps trying to renew before it gives up
    (``--leader-election-renew-deadline``)."""
    retry_period: float = 5.0
    """Time between attempts to acquire or renew (``--leader-election-retry-period``)."""
    release_on_cancel: bool = True
    """Release the lease on graceful shutdown (``--leader-election-release-on-cancel``)."""
    lease_name: str = "weir-leader-election"
    """Name of the coordination.k8s.io Lease (``--leader-election-id``)."""
    namespace: str | None = None
    """Namespace of the Lease (``--leader-election-namespace``); None: ``$POD_NAMESPACE`` or
    the service account's namespace when running in a cluster."""
    identity: str | None = None
    """This process's identity in the Lease; None: ``<hostname>_<uuid>`` like client-go."""

    def resolved_namespace(self) -> str:
        found = self.namespace or pod_namespace()
        if not found:
            raise UsageError(
                "leader election needs a namespace for its Lease: "
                "pass --leader-election-namespace (or set POD_NAMESPACE)"
            )
        return found

    def resolved_identity(self) -> str:
        return self.identity or f"{socket.gethostname()}_{uuid.uuid4()}"


@dataclass(frozen=True)
class RunSettings:
    """Everything ``weir run`` needs; each field is one flag."""

    controllers: str = "*"
    """Which controllers to start (``--controllers``; see :mod:`weir.runtime.factories`)."""
    kubeconfig: str | None = None
    """``--kubeconfig``; None: $KUBECONFIG, ~/.kube/config, or the in-cluster account."""
    context: str | None = None
    """``--context`` of the kubeconfig."""
    metrics_addr: str = "127.0.0.1:8080"
    """Prometheus endpoint (``--metrics-addr``; ``0`` disables)."""
    health_addr: str = "127.0.0.1:9440"
    """``/healthz`` and ``/readyz`` (``--health-addr``; ``0`` disables)."""
    concurrent: int = 4
    """Workers per controller (``--concurrent``)."""
    min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY
    """``--min-retry-delay`` (750ms)."""
    max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY
    """``--max-retry-delay`` (15m)."""
    jitter_percent: float = DEFAULT_JITTER_PERCENT
    """``--interval-jitter-percentage`` (5)."""
    watch_namespace: str | None = None
    """Watch only this namespace (None: all, Flux's ``--watch-all-namespaces``)."""
    watch_label_selector: str | None = None
    """Watch only matching objects (``--watch-label-selector``, for sharding)."""
    cache_sync_timeout: float = 120.0
    """How long to wait for the first list of every cache before giving up."""
    graceful_shutdown_timeout: float = 30.0
    """How long in-flight reconciles may take to finish after SIGTERM
    (``--graceful-shutdown-timeout``)."""
    log_level: str = "info"
    """``--log-level``: trace, debug, info, warning or error."""
    log_encoding: LogEncoding = "json"
    """``--log-encoding``: json or console."""
    leader_election: LeaderElectionSettings = field(default_factory=LeaderElectionSettings)
    features: tuple[object, ...] = ()
    """The typed settings of the feature packages (one instance per class), e.g.
    ``SourceSettings``, ``KustomizeSettings``, ``HelmSettings``, ``WebSettings``."""

    def feature(self, kind: type[T]) -> T:
        """The settings of class ``kind`` in :attr:`features`, else ``kind()`` (its defaults)."""
        for found in self.features:
            if isinstance(found, kind):
                return found
        return kind()
