"""`weir get` as a user runs it (a subprocess) against the real API server: tables like
`flux get`, `-o json|yaml`, kinds by any name, `sources`/`all`, `-A`, `--status-selector`,
`-w`, and one-line errors for bad input."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest
import yaml
from kubernetes_asyncio.client import ApiClient

from tests.support import flux
from tests.support.cli import Result, Watcher, weir


@pytest.fixture
async def fleet(kube: ApiClient, namespace: str) -> str:
    await flux.install_crds(kube)
    await flux.populate(kube, namespace)
    return namespace


def table(result: Result) -> list[list[str]]:
    """Rows of a table (header included), split on runs of 3+ spaces."""
    assert result.code == 0, result
    return [re.split(r"\s{3,}", line.strip()) for line in result.stdout.splitlines() if line]


def one_error_line(result: Result) -> str:
    assert "Traceback" not in result.stderr, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("error: "), result
    return lines[0]


async def test_get_tables_and_formats(kubeconfig: str, fleet: str) -> None:
    ns = fleet
    ks, one, all_, sources_yaml, failing = await asyncio.gather(
        weir("get", "ks", "-n", ns, kubeconfig=kubeconfig),
        weir("get", "Kustomization", "apps", "-n", ns, "-o", "json", kubeconfig=kubeconfig),
        weir("get", "all", "-A", kubeconfig=kubeconfig),
        weir("get", "sources", "-n", ns, "-o", "yaml", kubeconfig=kubeconfig),
        weir(
            "get",
            "kustomizations",
            "-n",
            ns,
            "--status-selector",
            "ready=false",
            "-o",
            "json",
            kubeconfig=kubeconfig,
        ),
    )

    rows = table(ks)
    assert rows[0] == ["NAME", "REVISION", "SUSPENDED", "READY", "AGE", "MESSAGE"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["apps"][1:4] == [flux.REVISION, "False", "True"]
    assert by_name["apps"][-1] == f"Applied revision: {flux.REVISION}"
    assert by_name["infra"][-1] == "kustomize build failed: accumulating resources"

    obj = one.json()
    assert obj["kind"] == "Kustomization"
    assert obj["status"]["lastAppliedRevision"] == flux.REVISION
    assert "managedFields" not in obj["metadata"]

    rows = [r for r in table(all_) if r[0] == ns]
    assert table(all_)[0][:2] == ["NAMESPACE", "NAME"]
    assert {r[1] for r in rows} == {
        "gitrepository/fleet",
        "helmrepository/charts",
        f"helmchart/{ns}-podinfo",
        "kustomization/apps",
        "kustomization/infra",
        "helmrelease/podinfo",
    }
    assert [ns, "gitrepository/fleet", flux.REVISION, "False", "True"] in [r[:5] for r in rows]

    docs = yaml.safe_load(sources_yaml.stdout)
    assert {o["kind"] for o in docs["items"]} == {"GitRepository", "HelmRepository", "HelmChart"}

    listed = failing.json()
    assert listed["kind"] == "List"
    assert [o["metadata"]["name"] for o in listed["items"]] == ["infra"]


async def test_get_bad_input(kubeconfig: str, fleet: str, tmp_path: Path) -> None:
    ns = fleet
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    config = yaml.safe_load(await asyncio.to_thread(Path(kubeconfig).read_text))
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{closed_port}"
    unreachable = tmp_path / "unreachable.yaml"
    await asyncio.to_thread(unreachable.write_text, yaml.safe_dump(config))

    unknown, missing, bad_flag, down, no_file, empty = await asyncio.gather(
        weir("get", "widgets", kubeconfig=kubeconfig),
        weir("get", "ks", "nope", "-n", ns, kubeconfig=kubeconfig),
        weir("get", "ks", "--bogus", kubeconfig=kubeconfig),
        weir("get", "ks", kubeconfig=str(unreachable)),
        weir("get", "ks", kubeconfig=str(tmp_path / "missing.yaml")),
        weir("get", "hr", "-n", "default", kubeconfig=kubeconfig),
    )
    line = one_error_line(unknown)
    assert unknown.code == 2
    assert "unknown kind 'widgets'" in line
    assert "kustomizations (ks)" in line
    assert "gitrepositories (gitrepo)" in line

    assert missing.code == 1
    assert f"Kustomization {ns}/nope not found" in one_error_line(missing)

    assert bad_flag.code == 2
    assert "--bogus" in one_error_line(bad_flag)
    assert "weir get --help" in bad_flag.stderr

    assert down.code == 1
    line = one_error_line(down)
    assert f"https://127.0.0.1:{closed_port}" in line
    assert "--kubeconfig" in line
    assert "weir cluster up" in line

    assert no_file.code == 1
    assert "missing.yaml does not exist" in one_error_line(no_file)

    assert empty.code == 0
    assert empty.stdout == ""
    assert "no helmreleases found in namespace default" in empty.stderr


async def test_get_watch_prints_changes(kube: ApiClient, kubeconfig: str, fleet: str) -> None:
    ns = fleet
    async with Watcher("get", "ks", "-n", ns, "-w", kubeconfig=kubeconfig) as w:
        await w.wait_for("infra")
        infra = flux.kustomization(ns, "infra", "fleet")
        await flux.set_status(
            kube, infra, {"conditions": [flux.ready("True", "Applied revision: main@sha1:feed")]}
        )
        changed = await w.wait_for("Applied revision: main@sha1:feed")
        assert changed.split()[0] == "infra"
        await flux.create(kube, flux.kustomization(ns, "late", "fleet"))
        await w.wait_for("late")
        assert await w.interrupt() == 0
