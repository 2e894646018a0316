"""The Kustomization controller's settings (kustomize-controller's flags)."""

from __future__ import annotations

from dataclasses import dataclass


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
    external_artifact: bool = True
    """Accept ``sourceRef.kind: ExternalArtifact`` (Flux's ``ExternalArtifact`` feature gate,
    which the flux CLI turns on with source-watcher; weir runs the ArtifactGenerator
    controller itself, so it is on unless ``--feature-gates=ExternalArtifact=false``)."""
    sops_age_secret: tuple[str, str] | None = None
    """(namespace, name) of a Secret whose ``*.agekey`` entries every Kustomization with
    ``spec.decryption`` may use besides its own ``secretRef`` (``--sops-age-secret``, Flux 2.7's
    controller-level keys)."""
    build_workers: int | None = None
    """Build worker processes (``--build-workers``; None: the number of CPUs, 2 to 8). Builds,
    substitution and YAML parsing run there, never on the event loop."""
    build_memory_limit: int = 1 << 30
    """Resident memory one kustomize build may use, in bytes (``--build-memory-limit``, 1Gi:
    the memory limit of Flux's kustomize-controller)."""
    build_timeout: float = 300.0
    """Longest a kustomize build may run (``--build-timeout``, 5m; ``spec.timeout`` when
    shorter)."""
    build_sandbox: str = "auto"
    """``--build-sandbox``: ``auto`` (confine kustomize with Landlock when the kernel offers
    it), ``required`` (refuse to build without), ``off``."""
    skip_unchanged: bool = True
    """Skip build and apply when nothing changed (``--no-skip-unchanged`` turns it off): same
    inputs of spec.path, same spec and variables, and the applied objects untouched since."""
