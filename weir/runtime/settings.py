"""Settings of ``weir run``, as typed dataclasses with Flux's defaults and flag names."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from weir.errors import UsageError
from weir.log import LogEncoding
from weir.runtime.backoff import (
    DEFAULT_JITTER_PERCENT,
    DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_MIN_RETRY_DELAY,
)
from weir.web.settings import WebSettings

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
class StorageSettings:
    """Where source artifacts are stored and served (source-controller's flags)."""

    path: str = ".weir/storage"
    """Directory of the artifacts (``--storage-path``)."""
    addr: str = "127.0.0.1:9090"
    """Address the artifact server binds (``--storage-addr``)."""
    adv_addr: str | None = None
    """Host[:port] put in ``status.artifact.url`` (``--storage-adv-addr``); None: the bound
    address."""


@dataclass(frozen=True)
class KustomizeSettings:
    """kustomize-controller's flags."""

    no_cross_namespace_refs: bool = False
    """Refuse sources and dependencies in other namespaces (``--no-cross-namespace-refs``)."""
    no_remote_bases: bool = False
    """Refuse remote kustomize bases (``--no-remote-bases``)."""
    default_service_account: str | None = None
    """Impersonate this service account when ``spec.serviceAccountName`` is empty
    (``--default-service-account``)."""
    requeue_dependency: float = 30.0
    """Retry delay while a source or dependency is not ready (``--requeue-dependency``)."""
    strict_substitution: bool = True
    """Fail on undefined ``${var}`` (Flux 2.9's ``StrictPostBuildSubstitutions``)."""
    sops_age_secret: tuple[str, str] | None = None
    """(namespace, name) of a Secret whose ``*.agekey`` entries every Kustomization with
    ``spec.decryption`` may use besides its own ``secretRef`` (``--sops-age-secret``, Flux 2.7's
    controller-level keys)."""


@dataclass(frozen=True)
class NotificationSettings:
    """notification-controller's flags and the limits of its queues (``weir.notification``)."""

    receiver_addr: str = "127.0.0.1:9292"
    """Address of the webhook receiver server (``--receiver-addr``, Flux's ``--receiverAddr``;
    Flux binds ``:9292``, weir binds loopback unless told otherwise; ``0`` disables it)."""
    events_addr: str = "0"
    """Address of Flux's event endpoint, where Flux's own controllers can POST their events
    (``--events-addr``; Flux binds ``:9090``; ``0``, the default, disables it: weir's controllers
    reach the notification controller through core/v1 Events)."""
    rate_limit_interval: float = 300.0
    """Duplicate events (same object, message and revision) are dropped within this window
    (``--rate-limit-interval``, Flux's 5m)."""
    queue_size: int = 256
    """Notifications waiting per Provider; beyond it new ones are dropped (metric + log)."""
    max_retries: int = 4
    """Retries of a failed delivery (connection error, 429 or 5xx), like Flux's HTTP client."""
    retry_wait_min: float = 2.0
    """First delay between retries, doubled each time (seconds)."""
    retry_wait_max: float = 30.0
    """Longest delay between retries (seconds)."""
    default_timeout: float = 15.0
    """Timeout of one delivery attempt when ``spec.timeout`` is empty (Flux's 15s)."""
    max_webhook_body: int = 4 << 20
    """Largest webhook payload a Receiver reads (bytes); larger ones get 413."""


@dataclass(frozen=True)
class RunSettings:
    """Everything ``weir run`` needs; each field is one flag."""

    controllers: str = "*"
    """Which controllers to start (``--controllers``; see :mod:`weir.runtime.registry`)."""
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
    storage: StorageSettings = field(default_factory=StorageSettings)
    kustomize: KustomizeSettings = field(default_factory=KustomizeSettings)
    notification: NotificationSettings = field(default_factory=NotificationSettings)
    web: WebSettings = field(default_factory=lambda: WebSettings(addr="0"))
    """The embedded web UI (``--web-addr``; the command line enables it by default, programmatic
    managers only when asked)."""
