"""The source controller's settings (source-controller's flags)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
class SourceSettings:
    """source-controller's flags weir honours."""

    storage: StorageSettings = field(default_factory=StorageSettings)
    """The artifact storage and its HTTP server (``--storage-*``)."""
    requeue_dependency: float = 30.0
    """Retry delay while a HelmChart's or ArtifactGenerator's source has no artifact
    (``--requeue-dependency``)."""
    no_cross_namespace_refs: bool = False
    """Refuse ArtifactGenerator sources in other namespaces (``--no-cross-namespace-refs``)."""
