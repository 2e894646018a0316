"""Where a HelmRelease's chart comes from, and the chart itself.

- ``spec.chart`` (a template): the HelmRelease owns a HelmChart named
  ``<hr-namespace>-<hr-name>`` in the source's namespace, server-side applied as
  ``helm-controller`` with the labels ``helm.toolkit.fluxcd.io/name`` / ``/namespace``;
  ``status.helmChart`` is ``<namespace>/<name>``. A HelmChart the release no longer uses (the
  template moved, or ``chartRef`` replaced it) is deleted.
- ``spec.chartRef``: an existing HelmChart or OCIRepository (``ExternalArtifact`` needs a
  feature gate weir does not have: refused, as Flux does without the gate).

:meth:`ChartSources.artifact` returns the source's artifact once the source is Ready for its
current generation, else a waiting :class:`~weir.runtime.result.Result`.
:class:`ChartCache` downloads artifacts (verifying the digest) and loads them with the engine,
keeping the last few by digest: a hundred releases of one chart download it once.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from kubernetes_asyncio.client import ApiClient

from weir.api.helm import HelmReleaseSpec
from weir.api.kinds import lookup
from weir.artifact.local import LocalArtifacts
from weir.helmengine.engine import ChartInfo, HelmEngine
from weir.helmengine.errors import ChartError
from weir.helmengine.postrender import origin_labels
from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.runtime import conditions
from weir.runtime.durations import format_duration
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.types import Obj

Lookup = Callable[[str | None, str], Obj | None]

FIELD_MANAGER = "helm-controller"
HELM_CHART = lookup("HelmChart")
MAX_CHART_SIZE = 64 << 20
CACHE_ENTRIES = 32
_RETRYING = re.compile(r"[,;]?\s*retrying in [0-9a-zµ.]+(?: \([^)]*\))?\s*$")
"""A source's own "retrying in 30s" at the end of the message a HelmRelease quotes (the
HelmRelease says when it retries itself)."""


@dataclass(frozen=True)
class ChartArtifact:
    """The artifact a release installs, and where it came from."""

    kind: str
    namespace: str
    name: str
    url: str
    digest: str
    revision: str
    metadata: dict[str, str]

    @property
    def oci_digest(self) -> str | None:
        """The manifest digest of an OCIRepository revision (``<tag>@sha256:...``)."""
        if self.kind != "OCIRepository":
            return None
        _, _, digest = self.revision.rpartition("@")
        return digest or self.revision

    @property
    def display(self) -> str:
        return f"{self.kind} '{self.namespace}/{self.name}'"


def helmchart_name(hr_namespace: str, hr_name: str) -> str:
    return f"{hr_namespace}-{hr_name}"


def helmchart_object(obj: Obj, spec: HelmReleaseSpec) -> Obj:
    """The HelmChart a ``spec.chart`` template stands for."""
    assert spec.chart is not None
    meta = obj["metadata"]
    tmpl = spec.chart.spec
    ref = tmpl.source_ref
    labels = dict((spec.chart.metadata.labels if spec.chart.metadata else None) or {})
    labels.update(origin_labels(meta["name"], meta["namespace"]))
    annotations = (spec.chart.metadata.annotations if spec.chart.metadata else None) or {}
    chart_spec: Obj = {
        "chart": tmpl.chart,
        "version": tmpl.version or "*",
        "sourceRef": {"kind": ref.kind, "name": ref.name},
        "interval": tmpl.interval or spec.interval,
        "reconcileStrategy": tmpl.reconcile_strategy or "ChartVersion",
    }
    if ref.api_version:
        chart_spec["sourceRef"]["apiVersion"] = ref.api_version
    if tmpl.values_files:
        chart_spec["valuesFiles"] = list(tmpl.values_files)
    if tmpl.ignore_missing_values_files:
        chart_spec["ignoreMissingValuesFiles"] = True
    if tmpl.verify is not None:
        chart_spec["verify"] = tmpl.verify.model_dump(by_alias=True, exclude_none=True)
    chart_meta: Obj = {
        "name": helmchart_name(meta["namespace"], meta["name"]),
        "namespace": ref.namespace or meta["namespace"],
        "labels": labels,
    }
    if annotations:
        chart_meta["annotations"] = dict(annotations)
    return {
        "apiVersion": HELM_CHART.api_version,
        "kind": "HelmChart",
        "metadata": chart_meta,
        "spec": chart_spec,
    }


def _differs(desired: Obj, live: Obj | None) -> bool:
    if live is None:
        return True
    if live.get("spec") != desired["spec"]:
        return True
    live_meta = live.get("metadata") or {}
    for field in ("labels", "annotations"):
        have = live_meta.get(field) or {}
        if any(have.get(k) != v for k, v in (desired["metadata"].get(field) or {}).items()):
            return True
    return False


class ChartSources:
    """Finds (and for templates, maintains) the chart source of a HelmRelease."""

    def __init__(
        self,
        api: ApiClient,
        helmcharts: Lookup,
        ocirepositories: Lookup,
        *,
        requeue_dependency: float = 30.0,
        no_cross_namespace_refs: bool = False,
    ) -> None:
        self.api = api
        self.helmcharts = helmcharts
        self.ocirepositories = ocirepositories
        self.requeue_dependency = requeue_dependency
        self.no_cross_namespace_refs = no_cross_namespace_refs

    async def artifact(self, obj: Obj, spec: HelmReleaseSpec) -> ChartArtifact | Result:
        meta = obj["metadata"]
        status = obj.setdefault("status", {})
        if spec.chart is not None:
            desired = helmchart_object(obj, spec)
            ns, name = desired["metadata"]["namespace"], desired["metadata"]["name"]
            self._check_namespace(obj, "HelmChart", ns, name)
            await self._forget_other_chart(obj, f"{ns}/{name}")
            live = self.helmcharts(ns, name)
            if _differs(desired, live):
                await kube.apply(self.api, desired, FIELD_MANAGER, force=True)
                status["helmChart"] = f"{ns}/{name}"
                return self._wait(f"HelmChart '{ns}/{name}' is being updated", failed=False)
            status["helmChart"] = f"{ns}/{name}"
            return self._found("HelmChart", ns, name, live)
        assert spec.chart_ref is not None
        await self._forget_other_chart(obj, None)
        ref = spec.chart_ref
        ns = ref.namespace or meta["namespace"]
        self._check_namespace(obj, ref.kind, ns, ref.name)
        if ref.kind == "ExternalArtifact":
            raise Stalled(
                "AccessDenied",
                "chartRef kind ExternalArtifact needs the ExternalArtifact feature gate, which "
                "weir does not offer yet: use an OCIRepository or a HelmChart",
            )
        found = (self.helmcharts if ref.kind == "HelmChart" else self.ocirepositories)(ns, ref.name)
        return self._found(ref.kind, ns, ref.name, found)

    def _found(self, kind: str, ns: str, name: str, found: Obj | None) -> ChartArtifact | Result:
        if found is None:
            raise ReconcileError(
                "ArtifactFailed",
                f"could not get Source object: {kind} '{ns}/{name}' not found",
                retry_after=self.requeue_dependency,
            )
        return self._ready_artifact(kind, found)

    def _check_namespace(self, obj: Obj, kind: str, ns: str, name: str) -> None:
        if self.no_cross_namespace_refs and ns != obj["metadata"]["namespace"]:
            raise Stalled(
                "AccessDenied",
                f"can't access '{kind}/{ns}/{name}', cross-namespace references have been blocked",
            )

    def _ready_artifact(self, kind: str, source: Obj) -> ChartArtifact | Result:
        meta = source["metadata"]
        ns, name = meta["namespace"], meta["name"]
        status = source.get("status") or {}
        artifact = status.get("artifact")
        ready = conditions.get(source, "Ready") or {}
        current = meta.get("generation") == status.get("observedGeneration")
        if not current or ready.get("status") != "True" or not artifact:
            # a failure of the current spec (Ready False for this generation; a transient
            # failure does not move status.observedGeneration)
            if ready.get("status") == "False" and ready.get("observedGeneration") == meta.get(
                "generation"
            ):
                return self._wait(
                    f"{kind} '{ns}/{name}' is not ready: {ready.get('message', '')}", failed=True
                )
            return self._wait(f"{kind} '{ns}/{name}' is not ready yet", failed=False)
        return ChartArtifact(
            kind,
            ns,
            name,
            str(artifact.get("url")),
            str(artifact.get("digest")),
            str(artifact.get("revision")),
            {str(k): str(v) for k, v in (artifact.get("metadata") or {}).items()},
        )

    def _wait(self, message: str, *, failed: bool) -> Result:
        delay = self.requeue_dependency
        return Result.requeue_after(
            delay,
            f"{_RETRYING.sub('', message)}; retrying in {format_duration(delay)}",
            reason="ArtifactFailed" if failed else "Progressing",
        )

    async def _forget_other_chart(self, obj: Obj, keep: str | None) -> None:
        """Delete the HelmChart ``status.helmChart`` names when it is not ``keep``."""
        status = obj.setdefault("status", {})
        previous = status.get("helmChart")
        if not previous or previous == keep:
            return
        await self.delete_chart(obj, previous)
        status.pop("helmChart", None)

    async def delete_chart(self, obj: Obj, ref: str) -> None:
        """Delete the HelmChart ``<ns>/<name>`` if this HelmRelease owns it (by its labels)."""
        ns, _, name = ref.partition("/")
        meta = obj["metadata"]
        try:
            live = await kube.get(self.api, HELM_CHART.resource, ns, name)
        except NotFoundError:
            return
        labels = (live.get("metadata") or {}).get("labels") or {}
        owned = origin_labels(meta["name"], meta["namespace"])
        if any(labels.get(k) != v for k, v in owned.items()):
            return
        try:
            await kube.delete(self.api, HELM_CHART.resource, ns, name)
        except NotFoundError:
            return


@dataclass(frozen=True)
class LoadedChart:
    data: bytes
    info: ChartInfo

    @property
    def display(self) -> str:
        return f"{self.info.name}@{self.info.version}"


class ChartCache:
    """Chart archives by artifact digest, downloaded once and loaded once; an archive of this
    process's own storage (:mod:`weir.artifact.local`) is read from disk."""

    def __init__(self, entries: int = CACHE_ENTRIES, local: LocalArtifacts | None = None) -> None:
        self.entries = entries
        self.local = local
        self._items: collections.OrderedDict[str, LoadedChart] = collections.OrderedDict()
        self._http: httpx.AsyncClient | None = None

    async def load(self, engine: HelmEngine, artifact: ChartArtifact) -> LoadedChart:
        cached = self._items.get(artifact.digest)
        if cached is not None:
            self._items.move_to_end(artifact.digest)
            return cached
        data = await self._download(artifact)
        loaded = LoadedChart(data, await engine.load_chart(data))
        self.remember(artifact.digest, loaded)
        return loaded

    def remember(self, digest: str, loaded: LoadedChart) -> None:
        """Keep ``loaded`` as the chart of the artifact ``digest`` (the oldest entry goes)."""
        self._items[digest] = loaded
        self._items.move_to_end(digest)
        while len(self._items) > self.entries:
            self._items.popitem(last=False)

    async def _download(self, artifact: ChartArtifact) -> bytes:
        what = f"artifact of {artifact.display} ({artifact.url})"
        own = self.local.path(artifact.url) if self.local is not None else None
        if own is not None:
            data = await asyncio.to_thread(own.read_bytes)
        else:
            data = await self._fetch(artifact, what)
        if len(data) > MAX_CHART_SIZE:
            raise ChartError(f"the {what} is larger than {MAX_CHART_SIZE} bytes")
        algo, _, want = artifact.digest.partition(":")
        if algo != "sha256" or hashlib.sha256(data).hexdigest() != want:
            raise ChartError(
                f"the {what} does not match its digest {artifact.digest}; it is fetched again"
            )
        return data

    async def _fetch(self, artifact: ChartArtifact, what: str) -> bytes:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=60.0)
        try:
            resp = await self._http.get(artifact.url)
        except httpx.HTTPError as e:
            raise ChartError(f"failed to download the {what}: {e}") from e
        if resp.status_code != 200:
            hint = (
                "it was garbage-collected or not produced yet; wait for the source to be Ready"
                if resp.status_code == 404
                else "check that the source controller's artifact server is running"
            )
            raise ChartError(f"failed to download the {what}: HTTP {resp.status_code}; {hint}")
        return resp.content

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
