"""``spec.distribution``: which weir release runs, and its image.

A weir release implements one Flux distribution version (its API, flags and behaviour); the
instance's ``distribution.version`` is a semver range over those Flux versions, and the
operator runs the newest weir release whose Flux version satisfies it. The releases the
operator knows make up its catalog: by default the running weir alone; a YAML file
(``weir run --distribution-catalog``) may list more, e.g. to stage an upgrade::

    releases:
      - {flux: 2.9.0, weir: 0.1.0}
      - {flux: 2.10.0, weir: 0.2.0, digest: "sha256:..."}

Changing the instance's version (or the catalog) to pick another release re-renders the
controllers with that release's image, which upgrades them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

import weir
from weir.artifact.errors import InvalidVersionError as InvalidRefError
from weir.artifact.semver import Constraint, Version
from weir.errors import ConfigError

FLUX_VERSION = "2.9.0"
"""The Flux distribution version this weir implements (its APIs are Flux 2.9's)."""

IMAGE_REPOSITORY = "ghcr.io/weir-gitops/weir"
"""weir's image; a registry that is not Flux's replaces ``ghcr.io/weir-gitops``."""

FLUX_REGISTRIES = (
    "ghcr.io/fluxcd",
    "docker.io/fluxcd",
    "fluxcd",
    "ghcr.io/controlplaneio-fluxcd",
)
"""Registries that hold Flux's images, not weir's (``spec.distribution.registry`` naming one
of them, or a path below it, keeps weir's own registry)."""


class DistributionError(ConfigError):
    """No release satisfies the instance's version, or the catalog is invalid."""


@dataclass(frozen=True)
class Release:
    """One weir release and the Flux version it implements."""

    flux: str
    """Flux distribution version, e.g. ``2.9.0``."""
    weir: str
    """weir version, the image tag."""
    digest: str | None = None
    """Image digest, when known (``sha256:...``)."""

    @property
    def flux_tag(self) -> str:
        """``v2.9.0``: how Flux writes distribution versions."""
        return "v" + self.flux.removeprefix("v")


def default_catalog() -> list[Release]:
    """The running weir only."""
    return [Release(FLUX_VERSION, weir.__version__)]


def load_catalog(path: str | Path) -> list[Release]:
    """Read a catalog file (see the module docstring)."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise DistributionError(f"cannot read the distribution catalog {path}: {e}") from e
    items = (data or {}).get("releases") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise DistributionError(f"{path}: expected 'releases:', a list of {{flux, weir}} entries")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("flux") or not item.get("weir"):
            raise DistributionError(f"{path}: releases[{i}] needs 'flux' and 'weir' versions")
        try:
            Version.parse_loose(str(item["flux"]))
        except ValueError as e:
            raise DistributionError(f"{path}: releases[{i}].flux is not a version") from e
        digest = item.get("digest")
        out.append(Release(str(item["flux"]), str(item["weir"]), str(digest) if digest else None))
    return out


def resolve(version_range: str, catalog: Sequence[Release]) -> Release:
    """The newest release whose Flux version satisfies ``version_range``.

    Raises :class:`DistributionError` with what to change when the range is invalid or no
    release satisfies it.
    """
    text = version_range.strip()
    known = ", ".join(sorted({r.flux_tag for r in catalog}, key=Version.parse_loose))
    if not text:
        raise DistributionError(
            f"spec.distribution.version is empty: set a semver range such as '2.x' "
            f"(this operator runs Flux {known})"
        )
    try:
        constraint = Constraint(text)
    except InvalidRefError as e:
        raise DistributionError(
            f"spec.distribution.version {text!r} is not a semver range: use forms like "
            f"'2.x', '2.9.x' or '2.9.0' (this operator runs Flux {known})"
        ) from e
    best: Release | None = None
    for release in catalog:
        v = Version.parse_loose(release.flux)
        if constraint.check(v) and (best is None or v > Version.parse_loose(best.flux)):
            best = release
    if best is None:
        raise DistributionError(
            f"no weir release implements a Flux version in {text!r}: this operator runs "
            f"Flux {known}; set spec.distribution.version to a range that includes one, "
            "e.g. '2.x'"
        )
    return best


def is_flux_registry(registry: str) -> bool:
    """Whether ``registry`` is one of Flux's (so weir keeps its own)."""
    r = registry.strip().rstrip("/")
    return any(r == f or r.startswith(f + "/") for f in FLUX_REGISTRIES)


def image_repository(registry: str) -> str:
    """weir's image repository for ``spec.distribution.registry``: a mirror's registry holds
    ``<registry>/weir``; Flux's registries keep :data:`IMAGE_REPOSITORY`."""
    if not registry.strip() or is_flux_registry(registry):
        return IMAGE_REPOSITORY
    return registry.strip().rstrip("/") + "/weir"


def image(registry: str, release: Release) -> str:
    """``repository:tag[@digest]``."""
    ref = f"{image_repository(registry)}:{release.weir}"
    return f"{ref}@{release.digest}" if release.digest else ref
