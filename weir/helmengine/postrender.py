"""Flux's post-rendering of a release's manifests, before Helm installs or upgrades them:

1. ``spec.postRenderers[].kustomize`` in order: each is a kustomize build over the rendered
   manifests with the renderer's ``patches`` (strategic merge or JSON 6902, with ``target``
   selectors) and ``images``, run by the real kustomize (the pinned kustomize CLI, else
   ``kubectl kustomize``: :mod:`weir.kustomize.engine`);
2. ``spec.commonMetadata`` labels and annotations set on every object;
3. the origin labels ``helm.toolkit.fluxcd.io/name`` and ``/namespace`` set on every object
   (last, so they win), as helm-controller does.

Helm calls post-renderers as plugins (a subprocess reading the manifests on stdin and writing
them on stdout). weir's plugin runs ``python -m weir.helmengine.postrender --spec <file>``, which is
:func:`main`; the spec file is a JSON dump of :class:`PostRenderSpec`. The same code is
available in-process as :func:`post_render`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from weir.helmengine.errors import PostRenderError

ORIGIN_GROUP = "helm.toolkit.fluxcd.io"
KUSTOMIZE_API_VERSION = "kustomize.config.k8s.io/v1beta1"
INPUT_FILE = "helm-output.yaml"
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class KustomizeRenderer:
    """One ``postRenderers[].kustomize``: patches (``{"patch", "target"}``) and images
    (``{"name", "newName", "newTag", "digest"}``), in their wire (camelCase) form."""

    patches: tuple[dict[str, Any], ...] = ()
    images: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class PostRenderSpec:
    """Everything weir does to Helm's rendered manifests (see the module docstring)."""

    kustomize: tuple[KustomizeRenderer, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    origin_name: str | None = None
    origin_namespace: str | None = None

    @classmethod
    def for_release(
        cls,
        name: str,
        namespace: str,
        post_renderers: Sequence[Any] | None = None,
        common_metadata: Any | None = None,
    ) -> PostRenderSpec:
        """From a HelmRelease's ``name``/``namespace``, ``spec.postRenderers`` and
        ``spec.commonMetadata`` (the pydantic models of :mod:`weir.api.helm`)."""

        def wire(items: Any) -> tuple[dict[str, Any], ...]:
            return tuple(i.model_dump(by_alias=True, exclude_none=True) for i in items or ())

        renderers = tuple(
            KustomizeRenderer(wire(pr.kustomize.patches), wire(pr.kustomize.images))
            for pr in post_renderers or ()
            if pr.kustomize is not None
        )
        return cls(
            kustomize=renderers,
            labels=dict(getattr(common_metadata, "labels", None) or {}),
            annotations=dict(getattr(common_metadata, "annotations", None) or {}),
            origin_name=name,
            origin_namespace=namespace,
        )

    @property
    def empty(self) -> bool:
        return not (self.kustomize or self.labels or self.annotations or self.origin_name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PostRenderSpec:
        doc = json.loads(text)
        return cls(
            kustomize=tuple(
                KustomizeRenderer(tuple(k.get("patches") or ()), tuple(k.get("images") or ()))
                for k in doc.get("kustomize") or ()
            ),
            labels=dict(doc.get("labels") or {}),
            annotations=dict(doc.get("annotations") or {}),
            origin_name=doc.get("origin_name"),
            origin_namespace=doc.get("origin_namespace"),
        )

    def renderers_digest(self) -> str:
        """``sha256:`` of the kustomize post-renderers (``status.observedPostRenderersDigest``
        changes when they do)."""
        data = json.dumps([asdict(k) for k in self.kustomize], sort_keys=True).encode()
        return "sha256:" + hashlib.sha256(data).hexdigest()


def _documents(manifests: str) -> list[dict[str, Any]]:
    from weir import yamlio  # noqa: PLC0415 - keeps the plugin's start-up light

    docs = []
    try:
        for doc in yamlio.load_all(manifests):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise PostRenderError(f"rendered manifests hold a non-object document: {doc!r:.80}")
            docs.append(doc)
    except yamlio.YAMLError as e:
        raise PostRenderError(f"rendered manifests are not valid YAML: {e}") from e
    return docs


def _dump(docs: Sequence[Mapping[str, Any]]) -> str:
    from weir import yamlio  # noqa: PLC0415

    return "".join("---\n" + yamlio.dump(doc) for doc in docs)


def set_metadata(
    docs: Sequence[dict[str, Any]], labels: Mapping[str, str], annotations: Mapping[str, str]
) -> None:
    """Merge ``labels``/``annotations`` into every object's metadata (in place)."""
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        if labels:
            meta["labels"] = {**(meta.get("labels") or {}), **labels}
        if annotations:
            meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}


def origin_labels(name: str, namespace: str) -> dict[str, str]:
    return {f"{ORIGIN_GROUP}/name": name, f"{ORIGIN_GROUP}/namespace": namespace}


async def _kustomize(
    manifests: str,
    renderer: KustomizeRenderer,
    timeout: float,  # noqa: ASYNC109 - passed to the kustomize run
) -> str:
    import asyncio  # noqa: PLC0415 - the plugin process imports it only when kustomize runs

    from weir.helmengine.values import encode_values  # noqa: PLC0415
    from weir.kustomize.build import kustomize_build  # noqa: PLC0415
    from weir.kustomize.errors import BuildError  # noqa: PLC0415

    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-postrender-"))
    try:
        kustomization: dict[str, Any] = {
            "apiVersion": KUSTOMIZE_API_VERSION,
            "kind": "Kustomization",
            "resources": [INPUT_FILE],
        }
        if renderer.patches:
            kustomization["patches"] = [dict(p) for p in renderer.patches]
        if renderer.images:
            kustomization["images"] = [dict(i) for i in renderer.images]
        (work / INPUT_FILE).write_text(manifests)
        (work / "kustomization.yaml").write_text(encode_values(kustomization))
        try:
            return await kustomize_build(work, timeout=timeout)
        except BuildError as e:
            raise PostRenderError(f"post-renderer kustomize failed: {e}") from e
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


async def post_render(
    manifests: str,
    spec: PostRenderSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - each kustomize run is killed at it
) -> str:
    """Apply ``spec`` to a multi-document YAML stream; returns the new stream."""
    for renderer in spec.kustomize:
        if renderer.patches or renderer.images:
            manifests = await _kustomize(manifests, renderer, timeout)
    return _with_metadata(manifests, spec)


def _with_metadata(manifests: str, spec: PostRenderSpec) -> str:
    """The labels, annotations and origin labels of ``spec`` on every document."""
    if not (spec.labels or spec.annotations or spec.origin_name):
        return manifests
    docs = _documents(manifests)
    set_metadata(docs, spec.labels, spec.annotations)
    if spec.origin_name and spec.origin_namespace:
        set_metadata(docs, origin_labels(spec.origin_name, spec.origin_namespace), {})
    return _dump(docs)


def run(argv: Sequence[str], manifests: str) -> tuple[int, str, str]:
    """One post-renderer invocation: ``argv`` (``--spec FILE [--timeout S]``) and the manifests
    Helm wrote on stdin -> (exit code, stdout, stderr). :func:`main` and the post-render server
    (:mod:`weir.helmengine.prserver`) both run this."""
    parser = argparse.ArgumentParser(
        prog="python -m weir.helmengine.postrender", exit_on_error=False
    )
    parser.add_argument("--spec", required=True, help="JSON file of a PostRenderSpec")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    try:
        args = parser.parse_args(argv)
    except (argparse.ArgumentError, SystemExit) as e:
        return 2, "", f"weir post-renderer: bad arguments {list(argv)!r}: {e}\n"
    try:
        spec = PostRenderSpec.from_json(Path(args.spec).read_text())
        if any(r.patches or r.images for r in spec.kustomize):
            import asyncio  # noqa: PLC0415 - see _kustomize

            output = asyncio.run(post_render(manifests, spec, timeout=args.timeout))
        else:  # the common case (origin labels only) starts faster without asyncio
            output = _with_metadata(manifests, spec)
    except (PostRenderError, OSError, ValueError) as e:
        # Helm does not show a plugin's stderr: leave the reason next to the spec for the engine
        with contextlib.suppress(OSError):
            Path(args.spec + ".err").write_text(str(e))
        return 1, "", f"weir post-renderer: {e}\n"
    return 0, output, ""


def main(argv: Sequence[str] | None = None) -> int:
    """The Helm post-renderer plugin: manifests on stdin, post-rendered manifests on stdout."""
    code, out, err = run(sys.argv[1:] if argv is None else argv, sys.stdin.read())
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
