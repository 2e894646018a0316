"""Flux OCI artifacts and Helm OCI charts on top of :class:`~weir.oci.client.RegistryClient`.

Flux's layout (``flux push artifact``): an OCI image manifest whose config is an empty JSON
object of media type ``application/vnd.cncf.flux.config.v1+json`` and whose one layer is a
tar.gz of media type ``application/vnd.cncf.flux.content.v1.tar+gzip``; the manifest carries
``org.opencontainers.image.{created,source,revision}`` annotations, which become
``status.artifact.metadata``.

Helm's layout (``helm push``): config ``application/vnd.cncf.helm.config.v1+json`` (the
Chart.yaml metadata as JSON), one layer ``application/vnd.cncf.helm.chart.content.v1.tar+gzip``
(the packaged chart), tag = chart version with ``+`` written as ``_``.

:func:`resolve` turns an ``OCIRepository`` ``spec.ref`` (digest > semver > tag, default
``latest``) into a tag and a manifest digest; :func:`pull_artifact` then fetches the layer
picked by ``layerSelector`` and either extracts it (``extract``, the default) or keeps the
blob as is (``copy``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from weir.artifact.tarball import extract
from weir.oci.client import OCI_MANIFEST, Manifest, RegistryClient, sha256_digest
from weir.oci.errors import OCIArtifactError
from weir.oci.reference import Reference, revision, select_tag, tag_version

FLUX_CONFIG = "application/vnd.cncf.flux.config.v1+json"
FLUX_CONTENT = "application/vnd.cncf.flux.content.v1.tar+gzip"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_PROVENANCE = "application/vnd.cncf.helm.chart.provenance.v1.prov"

ANNOTATION_CREATED = "org.opencontainers.image.created"
ANNOTATION_SOURCE = "org.opencontainers.image.source"
ANNOTATION_REVISION = "org.opencontainers.image.revision"
ANNOTATION_TITLE = "org.opencontainers.image.title"
ANNOTATION_VERSION = "org.opencontainers.image.version"
ANNOTATION_DESCRIPTION = "org.opencontainers.image.description"

DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class RefSpec:
    """``OCIRepository.spec.ref``: digest > semver > tag (default ``latest``)."""

    tag: str | None = None
    semver: str | None = None
    semver_filter: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class LayerSelector:
    """``spec.layerSelector``: which layer, and ``extract`` (default) or ``copy``."""

    media_type: str | None = None
    operation: str = "extract"


@dataclass(frozen=True)
class Resolved:
    """What a ref points at now."""

    reference: Reference  # with digest (and tag when resolved from one)
    tag: str | None
    digest: str

    @property
    def revision(self) -> str:
        return revision(self.tag, self.digest)


@dataclass(frozen=True)
class PulledArtifact:
    """A pulled Flux artifact: where it is and what Flux records about it."""

    resolved: Resolved
    layer_digest: str
    layer_media_type: str
    path: Path  # the extracted directory (extract) or the layer file (copy)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def revision(self) -> str:
        return self.resolved.revision


async def resolve(client: RegistryClient, base: Reference, ref: RefSpec | None = None) -> Resolved:
    """Resolve ``ref`` against the repository ``base`` (tags listed only for semver)."""
    ref = ref or RefSpec()
    if ref.digest:
        target = Reference(base.registry, base.repository, None, ref.digest)
        await client.resolve(target)  # fails with OCINotFoundError if it does not exist
        return Resolved(target, None, ref.digest)
    if ref.semver:
        tag = select_tag(await client.list_tags(base), ref.semver, ref.semver_filter)
    else:
        tag = ref.tag or DEFAULT_TAG
    target = base.with_tag(tag)
    digest = await client.resolve(target)
    return Resolved(target.with_digest(digest), tag, digest)


def _pick_layer(manifest: Manifest, selector: LayerSelector, ref: Reference) -> dict[str, object]:
    layers = manifest.layers
    if not layers:
        raise OCIArtifactError(f"artifact {ref} has no layers: push it with `flux push artifact`")
    if selector.media_type is None:
        return layers[0]
    for layer in layers:
        if layer.get("mediaType") == selector.media_type:
            return layer
    kinds = ", ".join(str(x.get("mediaType")) for x in layers)
    raise OCIArtifactError(
        f"artifact {ref} has no layer of media type {selector.media_type!r} (it has {kinds}); "
        "fix spec.layerSelector.mediaType"
    )


async def pull_artifact(
    client: RegistryClient,
    resolved: Resolved,
    dest: str | os.PathLike[str],
    selector: LayerSelector | None = None,
    *,
    max_size: int = 1 << 30,
) -> PulledArtifact:
    """Fetch the selected layer of ``resolved`` into ``dest``.

    ``extract``: ``dest`` is a directory (created, must be empty) holding the unpacked tarball,
    extracted safely and digest-checked. ``copy``: ``dest`` is the file the layer is saved to.
    """
    selector = selector or LayerSelector()
    if selector.operation not in ("extract", "copy"):
        raise OCIArtifactError(
            f"unknown layerSelector.operation {selector.operation!r}: use extract or copy"
        )
    manifest = await client.get_manifest(resolved.reference)
    if manifest.media_type not in (
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.v2+json",
    ):
        raise OCIArtifactError(
            f"{resolved.reference} is a {manifest.media_type}, not an image manifest: "
            "point spec.ref at a single artifact"
        )
    layer = _pick_layer(manifest, selector, resolved.reference)
    layer_digest = str(layer.get("digest"))
    media_type = str(layer.get("mediaType"))
    out = Path(dest)
    if selector.operation == "copy":
        await client.download_blob(resolved.reference, layer_digest, out, max_size=max_size)
    else:
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-oci-"))
        try:
            blob = tmp / "layer.tar.gz"
            await client.download_blob(resolved.reference, layer_digest, blob, max_size=max_size)
            await asyncio.to_thread(extract, blob, out, layer_digest, max_size=max_size)
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)
    return PulledArtifact(resolved, layer_digest, media_type, out, manifest.annotations)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def push_artifact(
    client: RegistryClient,
    target: Reference,
    tarball: bytes,
    *,
    source: str = "",
    revision_annotation: str = "",
    created: str | None = None,
    annotations: dict[str, str] | None = None,
) -> str:
    """Push a tar.gz as a Flux artifact under ``target`` (tag); returns the manifest digest."""
    config = b"{}"
    config_digest = await client.push_blob(target, config)
    layer_digest = await client.push_blob(target, tarball)
    notes = {ANNOTATION_CREATED: created or _now()}
    if source:
        notes[ANNOTATION_SOURCE] = source
    if revision_annotation:
        notes[ANNOTATION_REVISION] = revision_annotation
    notes.update(annotations or {})
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": FLUX_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": FLUX_CONTENT, "digest": layer_digest, "size": len(tarball)}],
        "annotations": notes,
    }
    raw = json.dumps(manifest, separators=(",", ":")).encode()
    return await client.put_manifest(target, raw, OCI_MANIFEST)


def chart_tag(version: str) -> str:
    """OCI tag for a chart version (``+`` is not allowed in tags)."""
    return version.replace("+", "_")


async def push_chart(
    client: RegistryClient,
    repository: Reference,
    chart_tgz: bytes,
    metadata: dict[str, object],
    *,
    created: str | None = None,
) -> Resolved:
    """Push a packaged chart as ``<repository>/<name>:<version>`` the way ``helm push`` does.

    ``metadata`` is the chart's Chart.yaml as a dict (``name`` and ``version`` required).
    """
    name, version = str(metadata.get("name") or ""), str(metadata.get("version") or "")
    if not name or not version:
        raise OCIArtifactError("chart metadata needs a name and a version")
    target = Reference(repository.registry, f"{repository.repository}/{name}", chart_tag(version))
    config = json.dumps(metadata, separators=(",", ":"), sort_keys=True).encode()
    config_digest = await client.push_blob(target, config)
    layer_digest = await client.push_blob(target, chart_tgz)
    notes = {
        ANNOTATION_TITLE: name,
        ANNOTATION_VERSION: version,
        ANNOTATION_CREATED: created or _now(),
    }
    if metadata.get("description"):
        notes[ANNOTATION_DESCRIPTION] = str(metadata["description"])
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": HELM_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": HELM_CHART, "digest": layer_digest, "size": len(chart_tgz)}],
        "annotations": notes,
    }
    raw = json.dumps(manifest, separators=(",", ":")).encode()
    digest = await client.put_manifest(target, raw, OCI_MANIFEST)
    return Resolved(target.with_digest(digest), target.tag, digest)


@dataclass(frozen=True)
class PulledChart:
    """A Helm chart pulled from OCI: the archive bytes and where they came from."""

    resolved: Resolved
    data: bytes
    metadata: dict[str, object]

    @property
    def version(self) -> str:
        return str(self.metadata.get("version") or (self.resolved.tag or "").replace("_", "+"))


async def pull_chart(
    client: RegistryClient,
    chart: Reference,
    version: str | None = None,
    *,
    max_size: int = 64 << 20,
) -> PulledChart:
    """Pull ``<chart>:<version>`` (a semver range selects among the tags; default: the highest
    stable version)."""
    if chart.digest:
        resolved = await resolve(client, chart, RefSpec(digest=chart.digest))
    elif version and tag_is_exact(version):
        resolved = await resolve(client, chart, RefSpec(tag=chart_tag(version)))
    else:
        resolved = await resolve(client, chart, RefSpec(semver=version or "*"))
    manifest = await client.get_manifest(resolved.reference)
    if manifest.config.get("mediaType") != HELM_CONFIG:
        raise OCIArtifactError(
            f"{resolved.reference} is not a Helm chart (config media type "
            f"{manifest.config.get('mediaType')!r})"
        )
    layer = _pick_layer(manifest, LayerSelector(HELM_CHART), resolved.reference)
    tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-chart-"))
    try:
        path = tmp / "chart.tgz"
        await client.download_blob(
            resolved.reference, str(layer["digest"]), path, max_size=max_size
        )
        data = await asyncio.to_thread(path.read_bytes)
    finally:
        await asyncio.to_thread(shutil.rmtree, tmp, True)
    config = await client.get_blob(resolved.reference, str(manifest.config.get("digest")))
    metadata = json.loads(config) if config else {}
    return PulledChart(resolved, data, metadata if isinstance(metadata, dict) else {})


def tag_is_exact(version: str) -> bool:
    """Whether ``version`` names one version (``1.2.3``) rather than a range (``^1.2``)."""
    return tag_version(version.replace("+", "_")) is not None and not version.startswith("v")


__all__ = [
    "FLUX_CONFIG",
    "FLUX_CONTENT",
    "HELM_CHART",
    "HELM_CONFIG",
    "LayerSelector",
    "PulledArtifact",
    "PulledChart",
    "RefSpec",
    "Resolved",
    "chart_tag",
    "pull_artifact",
    "pull_chart",
    "push_artifact",
    "push_chart",
    "resolve",
    "sha256_digest",
]
