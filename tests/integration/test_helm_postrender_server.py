"""The post-render server (weir.helmengine.prserver) and its small client process: the same
output as the post-renderer run as its own process, errors reported the same way, a private
socket, restart after a crash and a client that still works when the server is gone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from weir import yamlio
from weir.helmengine.plugin import plugin_args
from weir.helmengine.postrender import KustomizeRenderer, PostRenderSpec
from weir.helmengine.prserver import PostRenderServer

MANIFESTS = b"""\
---
# Source: app/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {keep: me, helm.toolkit.fluxcd.io/name: user-value}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data: {message: "hello: world"}
"""

ORIGIN = PostRenderSpec(
    labels={"team": "a"}, annotations={"note": "x"}, origin_name="app", origin_namespace="apps"
)
KUSTOMIZE = PostRenderSpec(
    kustomize=(
        KustomizeRenderer(
            patches=(
                {
                    "patch": '[{"op": "replace", "path": "/spec/replicas", "value": 3}]',
                    "target": {"kind": "Deployment", "name": "web"},
                },
            ),
        ),
    ),
    origin_name="app",
    origin_namespace="apps",
)


@pytest.fixture
def server() -> Iterator[PostRenderServer]:
    srv = PostRenderServer()
    try:
        yield srv
    finally:
        srv.close()


def _plugin(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    """What Helm does: the plugin command (this interpreter) with the post-renderer args."""
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, check=False, timeout=120
    )


def _spec(tmp_path: Path, spec: PostRenderSpec) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(spec.to_json())
    return path


@pytest.mark.parametrize("spec", [ORIGIN, KUSTOMIZE], ids=["metadata", "kustomize"])
def test_server_output_is_the_plugin_processs(
    server: PostRenderServer, tmp_path: Path, spec: PostRenderSpec
) -> None:
    spec_file = _spec(tmp_path, spec)
    sock = server.socket_path()
    assert sock is not None
    direct = _plugin(plugin_args(spec_file), MANIFESTS)
    served = _plugin(plugin_args(spec_file, sock), MANIFESTS)
    assert direct.returncode == served.returncode == 0, (direct.stderr, served.stderr)
    assert served.stdout == direct.stdout
    docs = {d["kind"]: d for d in yamlio.load_all(served.stdout.decode())}
    labels = docs["Deployment"]["metadata"]["labels"]
    assert labels["helm.toolkit.fluxcd.io/name"] == "app"  # the origin labels win
    assert labels["keep"] == "me"
    if spec is KUSTOMIZE:
        assert docs["Deployment"]["spec"]["replicas"] == 3
    else:
        assert docs["ConfigMap"]["metadata"]["annotations"] == {"note": "x"}


def test_server_reports_errors_like_the_plugin_process(
    server: PostRenderServer, tmp_path: Path
) -> None:
    spec_file = _spec(tmp_path, ORIGIN)
    sock = server.socket_path()
    assert sock is not None
    served = _plugin(plugin_args(spec_file, sock), b"not: [valid\n")
    assert served.returncode == 1
    reason = Path(f"{spec_file}.err").read_text()  # what the engine shows the user
    assert "not valid YAML" in reason
    assert reason in served.stderr.decode()
    missing = _plugin(plugin_args(tmp_path / "nope.json", sock), MANIFESTS)
    assert missing.returncode == 1
    assert b"nope.json" in missing.stderr


def test_socket_is_private_and_one_server_serves_many(server: PostRenderServer) -> None:
    sock = server.socket_path()
    assert sock is not None
    assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o700
    assert server.socket_path() == sock  # started once


def test_dead_server_is_restarted_and_client_falls_back(
    server: PostRenderServer, tmp_path: Path
) -> None:
    spec_file = _spec(tmp_path, ORIGIN)
    first = server.socket_path()
    assert first is not None
    expected = _plugin(plugin_args(spec_file), MANIFESTS).stdout
    assert server._proc is not None
    server._proc.kill()  # a crash
    server._proc.wait()
    # nobody listens on the socket: the client runs the post-renderer itself, same output
    fallback = _plugin(plugin_args(spec_file, first), MANIFESTS)
    assert fallback.returncode == 0, fallback.stderr
    assert fallback.stdout == expected
    second = server.socket_path()  # a new server on demand
    assert second is not None
    assert second != first
    again = _plugin(plugin_args(spec_file, second), MANIFESTS)
    assert again.stdout == expected


def test_server_exits_with_its_controller(server: PostRenderServer) -> None:
    assert server.socket_path() is not None
    proc = server._proc
    assert proc is not None
    server.close()  # closes the pipe: the server sees EOF and exits
    assert proc.returncode == 0
