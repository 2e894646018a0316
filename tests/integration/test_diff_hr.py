"""`weir diff hr` against the real API server: the release (installed, upgraded and why) and its
objects (created, configured with the fields, deleted), rendered from a Git fleet with a local
chart; exit codes as `weir diff ks`."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import weir
from weir.helmengine.engine import ClusterAccess, InstallOptions
from weir.helmengine.postrender import PostRenderSpec
from weir.helmengine.sdk import SdkEngine
from weir.testing.chartrepo import write_chart

TEMPLATES = {
    "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
    "data:\n  message: {{ .Values.message | quote }}\n",
    "extra.yaml": "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
    "  name: {{ .Release.Name }}-extra\ndata: {a: '1'}\n{{- end }}\n",
}

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: demo
  namespace: {namespace}
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/demo
      sourceRef: {{kind: GitRepository, name: flux-system, namespace: flux-system}}
  values:
    message: {message}
    extra: {extra}
"""


def write_fleet(root: Path, namespace: str, message: str, extra: bool) -> Path:
    write_chart(root / "charts/demo", "demo", "1.0.0", templates=TEMPLATES)
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "apps/demo.yaml").write_text(
        RELEASE.format(namespace=namespace, message=message, extra=str(extra).lower())
    )
    (root / ".git").mkdir(exist_ok=True)
    return root


async def test_diff_hr(tmp_path: Path, kubeconfig: str, namespace: str) -> None:
    ns = namespace
    root = write_fleet(tmp_path / "fleet", ns, "hello", extra=True)
    args = ("diff", "hr", "demo", "-n", ns, "--path", str(root / "apps"))

    new = await weir(*args, kubeconfig=kubeconfig)
    assert new.code == 1, new
    assert new.stdout.splitlines() == [
        f"► HelmRelease/{ns}/demo installed",
        f"► ConfigMap/{ns}/demo-config created",
        f"► ConfigMap/{ns}/demo-extra created",
    ]

    engine = SdkEngine()  # install as helm-controller would have
    try:
        await engine.install(
            ClusterAccess(kubeconfig=kubeconfig),
            root / "charts/demo",
            "demo",
            ns,
            values={"message": "hello", "extra": True},
            options=InstallOptions(
                wait=False, post_render=PostRenderSpec.for_release("demo", ns, None, None)
            ),
        )
    finally:
        await engine.aclose()
    same = await weir(*args, kubeconfig=kubeconfig)
    assert same.code == 0, same
    assert same.stdout == ""
    assert "✔ no changes" in same.stderr

    write_fleet(root, ns, "bye", extra=False)
    changed, data = (
        await weir(*args, kubeconfig=kubeconfig),
        await weir(*args, "-o", "json", kubeconfig=kubeconfig),
    )
    assert changed.code == 1, changed
    assert changed.stdout.splitlines() == [
        f"► HelmRelease/{ns}/demo upgraded (values changed)",
        f"► ConfigMap/{ns}/demo-config configured",
        "  data.message",
        "    - hello",
        "    + bye",
        f"► ConfigMap/{ns}/demo-extra deleted",
    ]
    result = data.json()
    assert result["differs"] is True
    (release,) = result["helmReleases"]
    assert release["release"]["action"] == "upgrade"
    assert release["release"]["current"]["revision"] == 1
    assert release["release"]["desired"] == {"chart": "demo", "version": "1.0.0"}
