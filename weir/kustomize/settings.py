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
