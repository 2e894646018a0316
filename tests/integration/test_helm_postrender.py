"""Flux postRenderers with the real kustomize (kubectl kustomize), in process and as the Helm
plugin subprocess."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from weir import yamlio
from weir.helmengine.errors import PostRenderError
from weir.helmengine.postrender import KustomizeRenderer, PostRenderSpec, post_render

MANIFESTS = """\
---
# Source: app/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {postrenderer.helm.sh/postrender-filename: app/templates/deploy.yaml}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
"""

SPEC = PostRenderSpec(
    kustomize=(
        KustomizeRenderer(
            patches=(
                {
                    "patch": '[{"op": "replace", "path": "/spec/replicas", "value": 3}]',
                    "target": {"kind": "Deployment", "name": "web"},
                },
            ),
        ),
        KustomizeRenderer(
            patches=(
                {
                    "patch": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
                    "spec: {type: NodePort}\n",
                },
            ),
            images=({"name": "nginx", "newTag": "1.28"},),
        ),
    ),
    origin_name="app",
    origin_namespace="flux-system",
)


def _by_kind(text: str) -> dict[str, dict[str, object]]:
    return {d["kind"]: d for d in yamlio.load_all(text) if d}


async def test_kustomize_patches_images_in_order() -> None:
    out = _by_kind(await post_render(MANIFESTS, SPEC))
    deploy, service = out["Deployment"], out["Service"]
    assert deploy["spec"]["replicas"] == 3  # type: ignore[index]
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"  # type: ignore[index]
    assert service["spec"]["type"] == "NodePort"  # type: ignore[index]
    meta = deploy["metadata"]
    assert meta["annotations"]["postrenderer.helm.sh/postrender-filename"]  # type: ignore[index]
    assert meta["labels"]["helm.toolkit.fluxcd.io/name"] == "app"  # type: ignore[index]


async def test_kustomize_failure_is_a_post_render_error() -> None:
    bad = PostRenderSpec(
        kustomize=(
            KustomizeRenderer(
                patches=(
                    {
                        "patch": '[{"op": "add", "path": "/no/such/path", "value": 1}]',
                        "target": {"kind": "Service"},
                    },
                )
            ),
        )
    )
    with pytest.raises(PostRenderError, match="kustomize"):
        await post_render(MANIFESTS, bad)


async def test_plugin_entry_point(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(SPEC.to_json())
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "weir.helmengine.postrender",
        "--spec",
        str(spec_file),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(MANIFESTS.encode())
    assert proc.returncode == 0, err
    assert _by_kind(out.decode())["Deployment"]["spec"]["replicas"] == 3  # type: ignore[index]

    spec_file.write_text(
        PostRenderSpec(
            kustomize=(KustomizeRenderer(images=({"name": "x", "digest": "bad"},)),)
        ).to_json()
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "weir.helmengine.postrender",
        "--spec",
        str(spec_file),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate(b"not: [valid\n")
    assert proc.returncode == 1
    reason = await asyncio.to_thread(Path(f"{spec_file}.err").read_text)
    assert reason in err.decode()
