"""``notification.toolkit.fluxcd.io``: Provider and Alert (``v1beta3``) send events out; Receiver
(``v1``) turns incoming webhooks into reconcile requests.

Flux's v1beta3 Provider and Alert are static objects without a status; weir adds the common
reconcile status (``Ready``, ``observedGeneration``) so that a Provider whose type weir does not
implement or whose address is malformed says so (ADR 0008). The Receiver type ``gitea`` (Gitea's
own signature header) is weir's; Flux takes Gitea's webhooks as ``github``, which weir accepts
too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from weir.api.base import (
    ApiModel,
    CelRule,
    Duration,
    TimeoutDuration,
    crd_default,
    has,
    list_map,
)
from weir.api.meta import LocalObjectReference, Name253, ReconcileStatus, status_field
from weir.api.object import FluxObject

GROUP = "notification.toolkit.fluxcd.io"
API_VERSION_V1BETA3 = f"{GROUP}/v1beta3"
API_VERSION_V1 = f"{GROUP}/v1"

ProviderType = Literal[
    "slack",
    "discord",
    "msteams",
    "rocket",
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "gitea",
    "giteapullrequestcomment",
    "bitbucketserver",
    "bitbucket",
    "azuredevops",
    "googlechat",
    "googlepubsub",
    "webex",
    "sentry",
    "azureeventhub",
    "telegram",
    "lark",
    "matrix",
    "opsgenie",
    "alertmanager",
    "grafana",
    "githubdispatch",
    "githubpullrequestcomment",
    "gitlabmergerequestcomment",
    "pagerduty",
    "datadog",
    "nats",
    "zulip",
    "otel",
    "zoom",
    "incident.io",
]

COMMIT_STATUS_PROVIDERS = (
    "github",
    "gitlab",
    "gitea",
    "bitbucketserver",
    "bitbucket",
    "azuredevops",
)

EventSourceKind = Literal[
    "Bucket",
    "GitRepository",
    "Kustomization",
    "HelmRelease",
    "HelmChart",
    "HelmRepository",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "OCIRepository",
    "ArtifactGenerator",
    "ExternalArtifact",
    "FluxInstance",
    "ResourceSet",
    "ResourceSetInputProvider",
]

Address = Annotated[str, StringConstraints(max_length=2048)]


# ----------------------------------------------------------------------------- Provider
class ProviderSpec(ApiModel):
    """Where and how events are sent."""

    cel_rules = (
        CelRule(
            rule=" || ".join(f"self.type == '{t}'" for t in COMMIT_STATUS_PROVIDERS)
            + " || !has(self.commitStatusExpr)",
            message="spec.commitStatusExpr is only supported for the "
            + ", ".join(f"'{t}'" for t in COMMIT_STATUS_PROVIDERS)
            + " provider types",
            check=lambda s: s.type in COMMIT_STATUS_PROVIDERS or not has(s.commit_status_expr),
        ),
    )

    address: Address | None = None
    """Endpoint of the provider (URL, project id or namespace, depending on the type)."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``ca.crt`` and/or ``tls.crt``/``tls.key``."""
    channel: Address | None = None
    """Destination channel."""
    commit_status_expr: str | None = None
    """CEL expression computing the commit status id (Git providers only)."""
    interval: Duration | None = None
    """Deprecated, not used."""
    proxy: (
        Annotated[str, StringConstraints(max_length=2048, pattern=r"^(http|https)://.*$")] | None
    ) = None
    """Deprecated: use proxySecretRef."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy ``address`` and optional ``username``/``password``."""
    secret_ref: LocalObjectReference | None = None
    """Secret with the credentials (``token``, ``address``, ...)."""
    service_account_name: str | None = None
    """ServiceAccount for workload identity (azureeventhub, azuredevops, googlepubsub)."""
    suspend: bool | None = None
    """Stop sending events to this provider."""
    timeout: TimeoutDuration | None = None
    """Timeout of sending an event (15s when empty)."""
    type: ProviderType
    """Provider implementation."""
    username: Address | None = None
    """Name under which events are posted."""


class Provider(FluxObject):
    """A notification provider (Slack, Teams, a Git forge's commit status, a webhook, ...)."""

    api_version: Literal["notification.toolkit.fluxcd.io/v1beta3"] = (
        "notification.toolkit.fluxcd.io/v1beta3"
    )
    kind: Literal["Provider"] = "Provider"
    spec: ProviderSpec
    """Desired state."""
    status: ReconcileStatus | None = status_field()
    """Observed state (weir's addition: Flux's v1beta3 Provider has none)."""


# ----------------------------------------------------------------------------- Alert
class CrossNamespaceObjectReference(ApiModel):
    """Flux objects selected by kind, name (``*`` for all), namespace and labels."""

    api_version: str | None = None
    """API version of the referent."""
    kind: EventSourceKind
    """Kind of the referent."""
    match_labels: dict[str, str] | None = None
    """Labels the objects must have (requires name ``*``)."""
    name: Name253
    """Name of the referent, or ``*``."""
    namespace: Name253 | None = None
    """Namespace of the referent (``*`` for all, requires name ``*``)."""


class AlertSpec(ApiModel):
    """Which events go to which provider."""

    event_metadata: dict[str, str] | None = None
    """Metadata added to the events (never overrides the emitter's)."""
    event_severity: Literal["info", "error"] | None = crd_default("info")
    """Minimum severity; ``info`` forwards everything."""
    event_sources: list[CrossNamespaceObjectReference]
    """Objects whose events are forwarded."""
    exclusion_list: list[str] | None = None
    """Regular expressions; matching messages are dropped (wins over inclusionList)."""
    inclusion_list: list[str] | None = None
    """Regular expressions; only matching messages are forwarded."""
    provider_ref: LocalObjectReference
    """Provider to send the events to."""
    summary: Annotated[str, StringConstraints(max_length=255)] | None = None
    """Deprecated: use eventMetadata."""
    suspend: bool | None = None
    """Stop forwarding events."""


class Alert(FluxObject):
    """Forwards events of selected Flux objects to a Provider."""

    api_version: Literal["notification.toolkit.fluxcd.io/v1beta3"] = (
        "notification.toolkit.fluxcd.io/v1beta3"
    )
    kind: Literal["Alert"] = "Alert"
    spec: AlertSpec
    """Desired state."""
    status: ReconcileStatus | None = status_field()
    """Observed state (weir's addition: Flux's v1beta3 Alert has none)."""


# ----------------------------------------------------------------------------- Receiver
class ReceiverResourceReference(CrossNamespaceObjectReference):
    """Flux objects to reconcile when a webhook arrives."""

    filter: str | None = None
    """CEL expression (``res``, ``req``, ``claims``) that must also be true."""


class OIDCValidation(ApiModel):
    """A CEL rule on the token claims."""

    expression: str
    """Boolean CEL expression."""
    message: str
    """Message returned when the expression is false."""


class OIDCVariable(ApiModel):
    """A named CEL expression, available to later ones as ``vars.<name>``."""

    expression: str
    """CEL expression."""
    name: str
    """Variable name (a CEL identifier)."""


class OIDCProvider(ApiModel):
    """An OIDC issuer accepted by a ``generic-oidc`` Receiver."""

    audience: str | None = None
    """Expected ``aud`` claim; ``notification-controller`` when empty."""
    issuer_url: Annotated[str, StringConstraints(pattern=r"^https?://")] = Field(alias="issuerURL")
    """Issuer URL; must match the token's ``iss`` claim."""
    validations: Annotated[list[OIDCValidation], Field(min_length=1)]
    """CEL rules the claims must pass (at least one)."""
    variables: list[OIDCVariable] | None = None
    """Named CEL expressions shared by the validations."""


class ReceiverSpec(ApiModel):
    """Which webhooks are accepted and which objects they reconcile."""

    cel_rules = (
        CelRule(
            rule="self.type != 'generic-oidc' || "
            "(has(self.oidcProviders) && size(self.oidcProviders) > 0)",
            message="generic-oidc receivers must define at least one oidcProvider",
            check=lambda s: s.type != "generic-oidc" or bool(s.oidc_providers),
        ),
        CelRule(
            rule="self.type == 'generic-oidc' || !has(self.oidcProviders) || "
            "size(self.oidcProviders) == 0",
            message="oidcProviders can only be set when type is generic-oidc",
            check=lambda s: s.type == "generic-oidc" or not s.oidc_providers,
        ),
        CelRule(
            rule="self.type == 'generic-oidc' || has(self.secretRef)",
            message="secretRef is required when type is not generic-oidc",
            check=lambda s: s.type == "generic-oidc" or has(s.secret_ref),
        ),
    )

    events: list[str] | None = None
    """Event types to handle, e.g. ``push`` (GitHub) or ``Push Hook`` (GitLab)."""
    interval: Duration | None = crd_default("10m")
    """How often to reconcile the Receiver with its Secret."""
    oidc_providers: list[OIDCProvider] | None = list_map("issuerURL")
    """OIDC issuers for ``generic-oidc``."""
    resource_filter: str | None = None
    """CEL expression (``res``, ``req``, ``claims``) selecting the resources to reconcile."""
    resources: list[ReceiverResourceReference]
    """Objects to reconcile."""
    secret_ref: LocalObjectReference | None = None
    """Secret with the ``token`` (required unless ``generic-oidc``)."""
    suspend: bool | None = None
    """Stop handling webhooks."""
    type: Literal[
        "generic",
        "generic-hmac",
        "generic-oidc",
        "github",
        "gitea",
        "gitlab",
        "bitbucket",
        "harbor",
        "dockerhub",
        "quay",
        "gcr",
        "nexus",
        "acr",
        "cdevents",
    ]
    """Webhook sender, which decides how payloads are verified and decoded."""


class ReceiverStatus(ReconcileStatus):
    """Observed state of a Receiver."""

    webhook_path: str | None = None
    """Incoming webhook path, ``/hook/<sha256(token+name+namespace)>``."""


class Receiver(FluxObject):
    """A webhook endpoint that requests reconciliation of Flux objects."""

    api_version: Literal["notification.toolkit.fluxcd.io/v1"] = "notification.toolkit.fluxcd.io/v1"
    kind: Literal["Receiver"] = "Receiver"
    spec: ReceiverSpec
    """Desired state."""
    status: ReceiverStatus | None = status_field()
    """Observed state."""
