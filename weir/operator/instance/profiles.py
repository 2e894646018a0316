"""``spec.cluster.size``: the small/medium/large vertical scaling profiles.

The numbers are the Flux Operator's (its documentation's table): concurrency and the
dependency requeue of kustomize- and helm-controller, the source-controller's concurrency,
and the containers' resources. Without a size, weir's own defaults apply (``weir run``'s
``--concurrent=4``, ``--requeue-dependency=30s``) and the containers get the baseline
resources below.

Concurrency and requeue intervals are *live* settings: they reach the running controllers
without a restart (see :mod:`weir.operator.instance.plans`). Resources are part of the pod
template, so on a cluster they roll the Deployment, as with the Flux Operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SMALL, MEDIUM, LARGE = "small", "medium", "large"
SIZES = (SMALL, MEDIUM, LARGE)

APPLIERS = ("kustomize-controller", "helm-controller")


@dataclass(frozen=True)
class Resources:
    """Container requests and limits."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def to_k8s(self) -> dict[str, Any]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


BASELINE = Resources("100m", "64Mi", "1000m", "1Gi")
"""Resources without a size (Flux's upstream manifests)."""


@dataclass(frozen=True)
class ComponentProfile:
    """What a size sets for one component (None: weir's default)."""

    concurrent: int | None = None
    requeue_dependency: str | None = None
    resources: Resources = BASELINE


@dataclass(frozen=True)
class Profile:
    """One size."""

    name: str
    components: dict[str, ComponentProfile] = field(default_factory=dict)

    def of(self, component: str) -> ComponentProfile:
        return self.components.get(component, ComponentProfile())


def _appliers(concurrent: int, requeue: str, resources: Resources) -> dict[str, ComponentProfile]:
    return {name: ComponentProfile(concurrent, requeue, resources) for name in APPLIERS}


_SMALL_RES = Resources("100m", "64Mi", "1000m", "512Mi")
PROFILES: dict[str, Profile] = {
    SMALL: Profile(
        SMALL,
        {
            **_appliers(5, "10s", _SMALL_RES),
            "source-controller": ComponentProfile(resources=_SMALL_RES),
            "notification-controller": ComponentProfile(resources=_SMALL_RES),
        },
    ),
    MEDIUM: Profile(
        MEDIUM,
        {
            **_appliers(10, "5s", Resources("100m", "128Mi", "2000m", "1Gi")),
            "source-controller": ComponentProfile(
                5, resources=Resources("100m", "128Mi", "2000m", "1Gi")
            ),
        },
    ),
    LARGE: Profile(
        LARGE,
        {
            **_appliers(20, "5s", Resources("100m", "256Mi", "3000m", "3Gi")),
            "source-controller": ComponentProfile(
                10, resources=Resources("100m", "256Mi", "2000m", "2Gi")
            ),
        },
    ),
}

NO_SIZE = Profile("")
"""No ``spec.cluster.size``: weir's defaults."""


def profile(size: str | None) -> Profile:
    """The profile of ``size`` (None or empty: :data:`NO_SIZE`). Raises ``KeyError`` for an
    unknown size (the caller says what to change)."""
    if not size:
        return NO_SIZE
    return PROFILES[size]
