"""`weir build hr`: HelmReleases rendered offline with the controller's chart sources, values
composition and post-renderers, from a Git fleet with local charts (the etherwurst charts),
from a chart repository on loopback and from an OCI registry on loopback; the example fleet as
is, its public HelmRepositories pointed at a loopback mirror with --source-file; no cluster."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.support.cli import Result, weir
from weir.oci.artifact import push_chart
from weir.oci.client import RegistryClient
from weir.oci.reference import parse_url
from weir.testing.chartrepo import ChartRepoServer, package_chart
from weir.testing.helm_fixtures import chart_repo, oci_registry  # noqa: F401
from weir.testing.ociregistry import Registry

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "etherwurst"
CHARTS = EXAMPLE / "charts"
OFFLINE = ("--kubeconfig", "/nonexistent/kubeconfig")

ERIGON = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: erigon
  namespace: ethereum
spec:
  interval: 30m
  chart:
    spec:
      chart: ./charts/erigon
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
  commonMetadata:
    labels: {team: chain}
  valuesFrom:
    - kind: ConfigMap
      name: erigon-values
    - kind: Secret
      name: erigon-secret
      valuesKey: extra.yaml
  values:
    chain: ${chain:=sepolia}
  postRenderers:
    - kustomize:
        patches:
          - target: {kind: StatefulSet}
            patch: |
              - op: add
                path: /metadata/annotations
                value: {post-rendered: "yes"}
"""
VALUES_CM = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: erigon-values, namespace: ethereum}
data:
  values.yaml: |
    persistence:
      size: 1Ti
"""
BLOCKSCOUT = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: blockscout
  namespace: ethereum
spec:
  interval: 30m
  chart:
    spec:
      chart: blockscout
      version: "0.4.x"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
  values:
    rpc: {httpUrl: 'http://erigon.ethereum:8545', traceUrl: 'http://erigon.ethereum:8545'}
"""
LIGHTHOUSE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: lighthouse
  namespace: ethereum
spec:
  interval: 30m
  chart:
    spec:
      chart: lighthouse
      version: "0.2.0"
      sourceRef: {kind: HelmRepository, name: oci-charts, namespace: flux-system}
  install:
    crds: Skip
  values:
    executionEndpoint: http://erigon.ethereum:8551
    jwt: {existingSecret: erigon-jwt}
"""
APPS_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./apps
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substitute: {chain: mainnet}
"""


def write_fleet(root: Path, repo_url: str, oci_url: str) -> Path:
    """clusters/prod (sources, the Kustomization apps) and apps/ (HelmReleases, values)."""
    files = {
        "clusters/prod/sources.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
            "metadata: {name: flux-system, namespace: flux-system}\n"
            "spec: {interval: 1m, url: 'https://example.com/fleet.git'}\n---\n"
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
            "metadata: {name: charts, namespace: flux-system}\n"
            f"spec: {{interval: 10m, url: '{repo_url}'}}\n---\n"
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
            "metadata: {name: oci-charts, namespace: flux-system}\n"
            f"spec: {{interval: 10m, type: oci, insecure: true, url: '{oci_url}'}}\n"
        ),
        "clusters/prod/apps.yaml": APPS_KS,
        "apps/erigon.yaml": ERIGON,
        "apps/erigon-values.yaml": VALUES_CM,
        "apps/blockscout.yaml": BLOCKSCOUT,
        "apps/lighthouse.yaml": LIGHTHOUSE,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    shutil.copytree(CHARTS / "erigon", root / "charts" / "erigon")
    (root / ".git").mkdir()
    return root


def objects(result: Result) -> dict[str, dict[str, Any]]:
    assert result.code == 0, result
    found = [d for d in yaml.safe_load_all(result.stdout) if d]
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in found}


async def test_build_hr_from_git_repository_and_oci(
    tmp_path: Path,
    chart_repo: ChartRepoServer,  # noqa: F811
    oci_registry: Registry,  # noqa: F811
) -> None:
    chart_repo.add_chart(CHARTS / "blockscout")
    data, meta = package_chart(CHARTS / "lighthouse")
    async with RegistryClient(insecure=True) as oci:
        await push_chart(oci, parse_url(f"oci://{oci_registry.host}/{tmp_path.name}"), data, meta)
    root = write_fleet(
        tmp_path / "fleet", chart_repo.url, f"oci://{oci_registry.host}/{tmp_path.name}"
    )
    secret = tmp_path / "secret-values.yaml"
    secret.write_text("extraArgs: [--maxpeers=7]\n")
    path = ("--path", str(root / "clusters/prod"), "--recursive")
    erigon, everything, missing = await asyncio.gather(
        weir(
            "build", "hr", "erigon", "-n", "ethereum", *path,
            "--values-from", f"Secret/erigon-secret={secret}", *OFFLINE,
        ),
        weir(
            "build", "hr", *path, "--values-from",
            f"Secret/ethereum/erigon-secret={secret}", "-o", "json", *OFFLINE,
        ),
        weir("build", "hr", "erigon", "-n", "ethereum", *path, *OFFLINE),
    )  # fmt: skip
    objs = objects(erigon)
    sts = objs["StatefulSet/erigon"]
    assert sts["metadata"]["annotations"]["post-rendered"] == "yes"  # postRenderers
    assert sts["metadata"]["labels"]["team"] == "chain"  # commonMetadata
    assert sts["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "erigon"  # origin
    assert sts["metadata"]["labels"]["helm.toolkit.fluxcd.io/namespace"] == "ethereum"
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Ti"  # valuesFrom ConfigMap
    args = sts["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--chain=mainnet" in args  # inline values, substituted by the Kustomization apps
    assert "--maxpeers=7" in args  # valuesFrom the Secret given with --values-from
    assert "chart erigon@0.3.0 from GitRepository/flux-system/flux-system" in erigon.stderr

    assert everything.code == 0, everything
    items = everything.json()["items"]
    charts = {i["metadata"]["labels"].get("helm.sh/chart") for i in items}
    assert {"erigon-0.3.0", "blockscout-0.4.1", "lighthouse-0.2.0"} <= charts
    assert "from HelmRepository flux-system/charts" in everything.stderr
    assert "from HelmRepository flux-system/oci-charts" in everything.stderr

    assert missing.code == 1, missing
    assert "Secret 'erigon-secret'" in missing.stderr or "erigon-secret" in missing.stderr
    assert "--values-from" in missing.stderr


async def test_build_hr_etherwurst_with_a_mirror(
    tmp_path: Path,
    chart_repo: ChartRepoServer,  # noqa: F811
) -> None:
    """The example fleet as is: its HelmRepositories point at public chart repositories the
    offline build cannot reach here, so --source-file points them at a mirror on loopback, as
    the FluxInstance's patches do for `make up` (examples/etherwurst/README.md, "Mirrors")."""
    for chart in ("erigon", "lighthouse", "blockscout", "kube-prometheus-stack"):
        chart_repo.add_chart(CHARTS / chart)
    example = tmp_path / "etherwurst"
    shutil.copytree(EXAMPLE, example)
    (example / ".git").mkdir()
    mirror = tmp_path / "mirror.yaml"
    mirror.write_text(
        "---\n".join(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
            f"metadata: {{name: {name}, namespace: flux-system}}\n"
            f"spec: {{interval: 10m, url: '{chart_repo.url}'}}\n"
            for name in ("ethpandaops", "prometheus-community")
        )
    )
    path = ("--path", str(example / "clusters/etherwurst"), "--recursive")
    lighthouse, everything = await asyncio.gather(
        weir(
            "build", "hr", "lighthouse", "-n", "ethereum", *path,
            "--source-file", str(mirror), *OFFLINE,
        ),
        weir("build", "hr", *path, "--source-file", str(mirror), "-o", "json", *OFFLINE),
    )  # fmt: skip
    objs = objects(lighthouse)
    sts = objs["StatefulSet/lighthouse"]
    assert sts["metadata"]["labels"]["helm.sh/chart"] == "lighthouse-0.2.0"
    # the fleet's values reach the chart: the claim of its persistence settings
    claim = sts["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "premium-ssd"
    # the mirror won over the fleet's public URL, which the build holds
    assert f"from HelmRepository flux-system/ethpandaops ({chart_repo.url})" in lighthouse.stderr
    assert "ethpandaops.github.io" not in lighthouse.stderr

    assert everything.code == 0, everything
    charts = {i["metadata"]["labels"].get("helm.sh/chart") for i in everything.json()["items"]}
    assert {
        "erigon-0.3.0",
        "lighthouse-0.2.0",
        "blockscout-0.4.1",
        "prometheus-0.2.0",  # kube-prometheus-stack's sub-charts
        "grafana-0.2.1",
    } <= charts
    assert (
        "chart kube-prometheus-stack@77.0.0 from HelmRepository "
        f"flux-system/prometheus-community ({chart_repo.url})"
    ) in everything.stderr


async def test_build_hr_repository_url_from_a_variable(
    tmp_path: Path,
    chart_repo: ChartRepoServer,  # noqa: F811
) -> None:
    """A HelmRepository whose URL is a variable the offline build cannot substitute (it comes
    from the cluster): the error says to pass the repository with --source-file, which then
    wins over the built one."""
    chart_repo.add_chart(CHARTS / "lighthouse")
    root = tmp_path / "fleet"
    (root / "apps").mkdir(parents=True)
    repository = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        "metadata: {name: ethpandaops, namespace: flux-system}\n"
        "spec: {interval: 10m, url: '%s'}\n"
    )
    (root / "apps/release.yaml").write_text(
        repository % "${chart_mirror}" + "---\n" + LIGHTHOUSE.replace("oci-charts", "ethpandaops")
    )
    (root / ".git").mkdir()
    mirror = tmp_path / "mirror.yaml"
    mirror.write_text(repository % chart_repo.url)
    path = ("--path", str(root / "apps"))
    without, rendered = await asyncio.gather(
        weir("build", "hr", "lighthouse", "-n", "ethereum", *path, *OFFLINE),
        weir(
            "build", "hr", "lighthouse", "-n", "ethereum", *path,
            "--source-file", str(mirror), *OFFLINE,
        ),
    )  # fmt: skip
    assert without.code == 1, without
    assert "has no URL" in without.stderr
    assert "--source-file" in without.stderr
    objs = objects(rendered)
    assert objs["StatefulSet/lighthouse"]["metadata"]["labels"]["helm.sh/chart"] == (
        "lighthouse-0.2.0"
    )


async def test_build_hr_chart_refs(
    tmp_path: Path,
    chart_repo: ChartRepoServer,  # noqa: F811
    oci_registry: Registry,  # noqa: F811
) -> None:
    """spec.chartRef to an OCIRepository (pulled per its ref) and to a HelmChart (its spec)."""
    chart_repo.add_chart(CHARTS / "blockscout")
    data, meta = package_chart(CHARTS / "lighthouse")
    async with RegistryClient(insecure=True) as oci:
        await push_chart(oci, parse_url(f"oci://{oci_registry.host}/{tmp_path.name}"), data, meta)
    root = tmp_path / "fleet"
    (root / "apps").mkdir(parents=True)
    (root / "apps/refs.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
        "metadata: {name: lighthouse, namespace: ethereum}\n"
        f"spec: {{interval: 10m, insecure: true, url: 'oci://{oci_registry.host}/"
        f"{tmp_path.name}/lighthouse', ref: {{semver: '0.2.x'}}}}\n---\n"
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        f"metadata: {{name: charts, namespace: ethereum}}\nspec: {{url: '{chart_repo.url}'}}\n"
        "---\n"
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\n"
        "metadata: {name: blockscout, namespace: ethereum}\n"
        "spec: {chart: blockscout, version: '*', sourceRef: {kind: HelmRepository, name: charts}}\n"
        "---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata: {name: beacon, namespace: ethereum}\n"
        "spec:\n  interval: 1m\n  chartRef: {kind: OCIRepository, name: lighthouse}\n"
        "  values: {executionEndpoint: 'http://e:8551', jwt: {existingSecret: j}}\n---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata: {name: explorer, namespace: ethereum}\n"
        "spec:\n  interval: 1m\n  chartRef: {kind: HelmChart, name: blockscout}\n"
        "  values: {rpc: {httpUrl: 'http://e:8545'}}\n"
    )
    (root / ".git").mkdir()
    result = await weir("build", "hr", "-n", "ethereum", "--path", str(root / "apps"), *OFFLINE)
    objs = objects(result)
    assert objs["StatefulSet/beacon"]["metadata"]["labels"]["helm.sh/chart"] == ("lighthouse-0.2.0")
    assert objs["Deployment/explorer"]["metadata"]["labels"]["helm.sh/chart"] == (
        "blockscout-0.4.1"
    )
    assert "from OCIRepository ethereum/lighthouse" in result.stderr
    assert "from HelmRepository ethereum/charts" in result.stderr
