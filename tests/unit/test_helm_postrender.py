"""weir.helmengine.postrender and engine_plugin: specs, metadata post-rendering, plugin location,
release names (no subprocesses: the kustomize runs are in tests/integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir import yamlio
from weir.api.helm import Filter, PostRenderer
from weir.api.meta import CommonMetadata
from weir.helmengine.engine import ClusterAccess, filters_to_options, release_name
from weir.helmengine.plugin import ensure_plugin, plugin_args, plugin_dir, plugin_name, plugin_yaml
from weir.helmengine.postrender import KustomizeRenderer, PostRenderSpec, post_render

MANIFESTS = """\
---
# Source: demo/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
  labels: {helm.toolkit.fluxcd.io/name: user-value, keep: me}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo}
spec:
  template:
    metadata: {labels: {app: demo}}
"""


def test_spec_json_round_trip_and_digest() -> None:
    spec = PostRenderSpec(
        kustomize=(
            KustomizeRenderer(({"patch": "p", "target": {"kind": "X"}},), ({"name": "i"},)),
        ),
        labels={"a": "b"},
        annotations={"c": "d"},
        origin_name="hr",
        origin_namespace="ns",
    )
    assert PostRenderSpec.from_json(spec.to_json()) == spec
    assert spec.renderers_digest().startswith("sha256:")
    assert spec.renderers_digest() != PostRenderSpec().renderers_digest()
    assert PostRenderSpec().empty
    assert not spec.empty


def test_spec_from_models() -> None:
    renderers = [
        PostRenderer.model_validate(
            {
                "kustomize": {
                    "patches": [{"patch": "x", "target": {"kind": "Deployment"}}],
                    "images": [{"name": "nginx", "newTag": "1.27"}],
                }
            }
        ),
        PostRenderer.model_validate({}),
    ]
    meta = CommonMetadata.model_validate({"labels": {"env": "prod"}})
    spec = PostRenderSpec.for_release("hr", "flux-system", renderers, meta)
    assert spec.kustomize == (
        KustomizeRenderer(
            ({"patch": "x", "target": {"kind": "Deployment"}},),
            ({"name": "nginx", "newTag": "1.27"},),
        ),
    )
    assert (spec.labels, spec.origin_name, spec.origin_namespace) == (
        {"env": "prod"},
        "hr",
        "flux-system",
    )


async def test_metadata_and_origin_labels() -> None:
    spec = PostRenderSpec(
        labels={"env": "prod", "helm.toolkit.fluxcd.io/name": "common"},
        annotations={"note": "x"},
        origin_name="hr",
        origin_namespace="flux-system",
    )
    docs = list(yamlio.load_all(await post_render(MANIFESTS, spec)))
    docs = [d for d in docs if d]
    cm, deploy = docs
    assert cm["metadata"]["labels"] == {
        "helm.toolkit.fluxcd.io/name": "hr",  # origin labels win
        "helm.toolkit.fluxcd.io/namespace": "flux-system",
        "keep": "me",
        "env": "prod",
    }
    assert deploy["metadata"]["annotations"] == {"note": "x"}
    assert deploy["spec"]["template"]["metadata"]["labels"] == {"app": "demo"}  # not templates


async def test_empty_spec_is_identity() -> None:
    assert await post_render(MANIFESTS, PostRenderSpec()) == MANIFESTS


def test_plugin_dir_resolution() -> None:
    assert plugin_dir({"HELM_PLUGINS": "/p1:/p2", "HOME": "/h"}) == Path("/p1")
    assert plugin_dir({"XDG_DATA_HOME": "/x", "HOME": "/h"}) == Path("/x/helm/plugins")
    assert plugin_dir({"HOME": "/h"}) == Path("/h/.local/share/helm/plugins")


def test_plugin_files(tmp_path: Path) -> None:
    name = ensure_plugin(tmp_path)
    assert name == plugin_name()
    assert name.startswith("weir-postrender-")
    text = (tmp_path / name / "plugin.yaml").read_text()
    assert text == plugin_yaml()
    assert "type: postrenderer/v1" in text
    assert "runtime: subprocess" in text
    assert ensure_plugin(tmp_path) == name  # idempotent
    assert plugin_name("/other/python") != name
    assert plugin_args(Path("/s.json")) == ["-m", "weir.helmengine.postrender", "--spec", "/s.json"]


def test_release_name_and_access() -> None:
    assert release_name("podinfo") == "podinfo"
    assert release_name("podinfo", "apps") == "apps-podinfo"
    long = release_name("a" * 30, "b" * 30)
    assert len(long) == 53
    assert long[:40] == ("b" * 30 + "-" + "a" * 9)
    assert long[40] == "-"
    access = ClusterAccess(kubeconfig="/k", kubeconfig_content="secret").as_service_account(
        "ns", "sa"
    )
    assert access.impersonate == "system:serviceaccount:ns:sa"
    assert "secret" not in repr(access)


def test_filters_to_options() -> None:
    filters = [Filter(name="a"), Filter(name="b", exclude=True)]
    options = filters_to_options(filters, 30)
    assert (options.include, options.exclude, options.timeout) == (("a",), ("b",), 30)


@pytest.mark.parametrize("bad", ["", "{"])
def test_spec_from_bad_json(bad: str) -> None:
    with pytest.raises(ValueError, match="Expecting"):
        PostRenderSpec.from_json(bad)
