"""Argument types shared by the tools (their descriptions become the tools' input schemas)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Kind = Annotated[
    str,
    Field(
        description=(
            "Resource type, any name kubectl accepts: Kustomization/ks, HelmRelease/hr, "
            "GitRepository/gitrepo, deployment/deploy, pods, secrets, deployments.apps, ..."
        )
    ),
]
FluxKind = Annotated[
    str,
    Field(
        description=(
            "Flux kind: Kustomization (ks), HelmRelease (hr), GitRepository (gitrepo), "
            "OCIRepository (ocirepo), HelmRepository (helmrepo), HelmChart (hc), Bucket, "
            "ArtifactGenerator (ag), ExternalArtifact (ea)"
        )
    ),
]
Name = Annotated[str, Field(description="Object name.")]
Namespace = Annotated[
    str | None,
    Field(description="Namespace; default: the server's default namespace."),
]
ApiVersion = Annotated[
    str | None,
    Field(
        description=(
            "Pin the kind to an apiVersion, e.g. apps/v1 (kind must then be the Kind, e.g. "
            "Deployment). Only needed when a name is ambiguous."
        )
    ),
]
AllNamespaces = Annotated[bool, Field(description="Every namespace (overrides namespace).")]
Fields = Annotated[
    list[str] | None,
    Field(
        description=(
            "Return only these fields, as paths: status.conditions, spec.replicas, "
            "spec.template.spec.containers[*].image, metadata.labels['app.kubernetes.io/name']."
        )
    ),
]
Limit = Annotated[int, Field(ge=1, le=500, description="At most this many entries.")]
Wait = Annotated[bool, Field(description="Wait for the controller to finish.")]
TimeoutSeconds = Annotated[int, Field(ge=1, le=1800, description="How long to wait, in seconds.")]
