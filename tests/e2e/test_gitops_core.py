"""GitOps core end to end: a real Git server on loopback, weir's source and kustomize controllers
in-process, the real API server with kwok nodes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.runtime import conditions
from weir.runtime.manager import Manager
from weir.testing.certs import make_ssh_keypair
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gitssh import GitSshServer
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

GIT = lookup("GitRepository").resource
KS = lookup("Kustomization").resource
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
MANAGER = "weir-e2e"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def configmap(name: str, **data: str) -> str:
    lines = "\n".join(f"  {k}: {v!r}" for k, v in data.items())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{lines}\n"


def deployment(name: str, replicas: int = 1, node_selector: str | None = None) -> str:
    selector = f"\n      nodeSelector: {{weir.test/pool: {node_selector}}}" if node_selector else ""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:{selector}
      containers:
      - name: main
        image: example.invalid/{name}:1
"""


async def create_git(api: ApiClient, ns: str, repo: GitRepoFixture, name: str = "fleet") -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"url": repo.url, "interval": "1m", "ref": {"branch": "master"}},
        },
        MANAGER,
    )


async def create_ks(api: ApiClient, ns: str, name: str, **spec: Any) -> None:
    body = {
        "interval": "10m",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
        "targetNamespace": ns,
        **spec,
    }
    await kapi.apply(
        api,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": body,
        },
        MANAGER,
    )


def applied(revision_sha: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        ready = conditions.get(obj, "Ready") or {}
        return ready.get("status") == "True" and revision_sha in str(
            (obj.get("status") or {}).get("lastAppliedRevision")
        )

    return check


def ready_reason(reason: str) -> Callable[[Obj], bool]:
    return lambda o: (conditions.get(o, "Ready") or {}).get("reason") == reason


async def cm_data(api: ApiClient, ns: str, name: str) -> dict[str, str] | None:
    try:
        return dict((await kapi.get(api, CONFIG_MAPS, ns, name)).get("data") or {})
    except NotFoundError:
        return None


async def test_push_change_prune_broken_commit(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    api, ns = kube, namespace
    sha1 = git_repo.commit(
        {"apps/a.yaml": configmap("a", v="1"), "apps/b.yaml": configmap("b", v="1")}, "first"
    )
    await create_git(api, ns, git_repo)
    await create_ks(api, ns, "apps", path="./apps")
    ks = await wait_for(api, KS, ns, "apps", applied(sha1), "first revision applied")
    ready = conditions.get(ks, "Ready") or {}
    assert ready["reason"] == "ReconciliationSucceeded"
    assert ready["message"] == f"Applied revision: master@sha1:{sha1}"
    assert await cm_data(api, ns, "a") == {"v": "1"}
    ids = sorted(e["id"] for e in ks["status"]["inventory"]["entries"])
    assert ids == [f"{ns}_a__ConfigMap", f"{ns}_b__ConfigMap"]
    live = await kapi.get(api, CONFIG_MAPS, ns, "a")
    assert live["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "apps"
    git = await kapi.get(api, GIT, ns, "fleet")
    assert git["status"]["artifact"]["revision"] == f"master@sha1:{sha1}"

    # A change reaches the cluster (the new artifact queues the Kustomization at once).
    sha2 = git_repo.commit({"apps/a.yaml": configmap("a", v="2")}, "change")
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}},
    )
    await wait_for(api, KS, ns, "apps", applied(sha2), "second revision applied")
    assert await cm_data(api, ns, "a") == {"v": "2"}

    # A deleted file is pruned.
    sha3 = git_repo.commit({"apps/b.yaml": None}, "delete b")
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t2"}}},
    )
    ks = await wait_for(api, KS, ns, "apps", applied(sha3), "deletion applied")
    assert await cm_data(api, ns, "b") is None
    assert [e["id"] for e in ks["status"]["inventory"]["entries"]] == [f"{ns}_a__ConfigMap"]

    # A broken commit keeps the cluster as it was and says why.
    sha4 = git_repo.commit(
        {"apps/a.yaml": configmap("a", v="3"), "apps/broken.yaml": "kind: [unclosed\n"}, "broken"
    )
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t3"}}},
    )
    ks = await wait_for(api, KS, ns, "apps", ready_reason("BuildFailed"), "BuildFailed")
    ready = conditions.get(ks, "Ready") or {}
    assert ready["status"] == "False"
    assert "broken.yaml" in ready["message"]
    assert ks["status"]["lastAttemptedRevision"] == f"master@sha1:{sha4}"
    assert ks["status"]["lastAppliedRevision"] == f"master@sha1:{sha3}"
    assert await cm_data(api, ns, "a") == {"v": "2"}  # untouched

    # Reverting the breakage recovers.
    sha5 = git_repo.commit({"apps/broken.yaml": None}, "revert")
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t4"}}},
    )
    await wait_for(api, KS, ns, "apps", applied(sha5), "fix applied")
    assert await cm_data(api, ns, "a") == {"v": "3"}


async def test_depends_on_orders_three_kustomizations(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    api, ns = kube, namespace
    sha = git_repo.commit(
        {
            "infra/cm.yaml": configmap("infra", v="1"),
            "config/cm.yaml": configmap("config", v="1"),
            "apps/cm.yaml": configmap("apps", v="1"),
        },
        "layers",
    )
    await create_git(api, ns, git_repo)
    # Created in reverse order: apps waits for config, which waits for infra.
    await create_ks(api, ns, "apps", path="./apps", dependsOn=[{"name": "config"}])
    await create_ks(api, ns, "config", path="./config", dependsOn=[{"name": "infra"}])
    ks = await wait_for(
        api, KS, ns, "apps", ready_reason("DependencyNotReady"), "apps waiting on config"
    )
    assert "dependency" in (conditions.get(ks, "Ready") or {})["message"]
    assert await cm_data(api, ns, "apps") is None
    await create_ks(api, ns, "infra", path="./infra")
    done = {}
    for name in ("infra", "config", "apps"):
        obj = await wait_for(api, KS, ns, name, applied(sha), f"{name} applied")
        done[name] = (conditions.get(obj, "Ready") or {})["lastTransitionTime"]
    assert done["infra"] <= done["config"] <= done["apps"]


async def test_health_wait_succeeds_and_times_out(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    api, ns = kube, namespace
    sha = git_repo.commit(
        {
            "good/d.yaml": deployment("good", replicas=2),
            "bad/d.yaml": deployment("bad", node_selector="nowhere"),
        },
        "workloads",
    )
    await create_git(api, ns, git_repo)
    await create_ks(api, ns, "good", path="./good", wait=True, timeout="60s")
    await create_ks(api, ns, "bad", path="./bad", wait=True, timeout="2s", retryInterval="1h")
    ks = await wait_for(api, KS, ns, "good", applied(sha), "good healthy", timeout=90)
    healthy = conditions.get(ks, "Healthy") or {}
    assert healthy.get("status") == "True"
    assert healthy["message"].startswith("Health check passed in ")
    dep = await kapi.get(api, DEPLOYMENTS, ns, "good")
    assert dep["status"]["availableReplicas"] == 2

    ks = await wait_for(api, KS, ns, "bad", ready_reason("HealthCheckFailed"), "bad times out")
    ready = conditions.get(ks, "Ready") or {}
    assert f"Deployment/{ns}/bad" in ready["message"]
    assert (conditions.get(ks, "Healthy") or {}).get("status") == "False"
    assert "lastAppliedRevision" not in ks["status"]


async def test_substitution_from_configmap(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    api, ns = kube, namespace
    sha = git_repo.commit(
        {"apps/cm.yaml": configmap("net", chain="${CHAIN}", rpc="${RPC:=http://erigon:8545}")},
        "vars",
    )
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cluster-vars", "namespace": ns},
            "data": {"CHAIN": "mainnet"},
        },
        MANAGER,
    )
    await create_git(api, ns, git_repo)
    await create_ks(
        api,
        ns,
        "apps",
        path="./apps",
        postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars"}]},
    )
    await wait_for(api, KS, ns, "apps", applied(sha), "substituted")
    assert await cm_data(api, ns, "net") == {"chain": "mainnet", "rpc": "http://erigon:8545"}

    # Strict: an undefined variable fails the build and names it.
    git_repo.commit({"apps/more.yaml": configmap("more", x="${UNDEFINED_VAR}")}, "undefined")
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}},
    )
    ks = await wait_for(api, KS, ns, "apps", ready_reason("BuildFailed"), "strict substitution")
    assert "UNDEFINED_VAR" in (conditions.get(ks, "Ready") or {})["message"]


async def test_suspend_resume_and_requested_at(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture, controllers: Manager
) -> None:
    api, ns = kube, namespace
    sha1 = git_repo.commit({"apps/cm.yaml": configmap("s", v="1")}, "first")
    await create_git(api, ns, git_repo)
    await create_ks(api, ns, "apps", path="./apps")
    await wait_for(api, KS, ns, "apps", applied(sha1), "applied")

    await kapi.patch(api, KS, ns, "apps", {"spec": {"suspend": True}})
    await asyncio.sleep(0.5)
    sha2 = git_repo.commit({"apps/cm.yaml": configmap("s", v="2")}, "while suspended")
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}},
    )
    await wait_for(
        api,
        GIT,
        ns,
        "fleet",
        lambda o: sha2 in str(o["status"].get("artifact", {}).get("revision")),
        "new artifact",
    )
    await asyncio.sleep(1.0)
    assert await cm_data(api, ns, "s") == {"v": "1"}  # suspended: not applied

    await kapi.patch(api, KS, ns, "apps", {"spec": {"suspend": False}})
    await wait_for(api, KS, ns, "apps", applied(sha2), "applied after resume")
    assert await cm_data(api, ns, "s") == {"v": "2"}

    # requestedAt forces an immediate run and is acknowledged in status.
    await kapi.patch(
        api, CONFIG_MAPS, ns, "s", {"data": {"v": "drifted"}}
    )  # drift, corrected by the forced run
    await kapi.patch(
        api,
        KS,
        ns,
        "apps",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now-1"}}},
    )
    await wait_for(
        api,
        KS,
        ns,
        "apps",
        lambda o: o["status"].get("lastHandledReconcileAt") == "now-1",
        "requestedAt handled",
        timeout=20,
    )
    assert await cm_data(api, ns, "s") == {"v": "2"}


async def test_wrong_ssh_host_key_is_refused(
    kube: ApiClient, namespace: str, tmp_path: Path
) -> None:
    """A GitRepository over SSH whose known_hosts does not match the server is refused."""
    api, ns = kube, namespace
    keys = make_ssh_keypair()
    with GitSshServer(tmp_path / "ssh", authorized_keys=[keys.public_openssh]) as server:
        GitRepoFixture.create(tmp_path / "ssh" / "fleet.git").commit({"a": "ssh"})
        impostor = make_ssh_keypair().public_openssh
        await kapi.apply(
            api,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "ssh", "namespace": ns},
                "stringData": {
                    "identity": keys.private_openssh.decode(),
                    "known_hosts": f"[127.0.0.1]:{server.port} {impostor}\n",
                },
            },
            MANAGER,
        )
        await kapi.apply(
            api,
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "ssh", "namespace": ns},
                "spec": {
                    "url": server.url("fleet.git"),
                    "interval": "1m",
                    "secretRef": {"name": "ssh"},
                },
            },
            MANAGER,
        )
        git = await wait_for(
            api,
            GIT,
            ns,
            "ssh",
            lambda o: (conditions.get(o, "Ready") or {}).get("status") == "False",
            "refused",
        )
    ready = conditions.get(git, "Ready") or {}
    assert "known_hosts" in ready["message"]
    assert (conditions.get(git, "FetchFailed") or {}).get("status") == "True"
    assert "artifact" not in git["status"]


async def test_service_account_without_rights_is_refused(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    """``serviceAccountName`` impersonates the account: what it may not create is refused with
    the cluster's answer, and what was applied before stays as it was."""
    api, ns = kube, namespace
    for obj in (
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "deployer"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "configmaps-only"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "deployer"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "configmaps-only",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}],
        },
    ):
        obj["metadata"]["namespace"] = ns  # type: ignore[index]
        await kapi.apply(api, obj, MANAGER)
    sha1 = git_repo.commit({"apps/cm.yaml": configmap("allowed", v="1")}, "first")
    await create_git(api, ns, git_repo)
    await create_ks(api, ns, "apps", path="./apps", serviceAccountName="deployer")
    await wait_for(api, KS, ns, "apps", applied(sha1), "allowed objects applied")

    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: forbidden\nstringData:\n  k: v\n"
    git_repo.commit(
        {"apps/cm.yaml": configmap("allowed", v="2"), "apps/secret.yaml": secret}, "forbidden"
    )
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}},
    )
    ks = await wait_for(
        api, KS, ns, "apps", ready_reason("ReconciliationFailed"), "refused by RBAC"
    )
    message = (conditions.get(ks, "Ready") or {})["message"]
    assert "forbidden" in message.lower()
    assert f"system:serviceaccount:{ns}:deployer" in message
    assert await cm_data(api, ns, "allowed") == {"v": "1"}


def service(name: str, port: int) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n"
        f"spec:\n  ports:\n  - port: {port}\n"
    )


async def test_history_after_a_refused_commit_and_its_revert(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    """Flux's history (issue 12.4): one entry per (build digest, outcome), newest first. A
    commit the API server refuses gets a ReconciliationFailed entry; its `git revert` brings
    back the earlier manifests, so the earlier good entry moves to the front with the revert's
    revision, one more reconciliation and its old firstReconciled (no new entry)."""
    api, ns = kube, namespace
    good = git_repo.commit({"apps/svc.yaml": service("web", 80)}, "good")
    await create_git(api, ns, git_repo)
    await create_ks(api, ns, "apps", path="./apps")
    ks = await wait_for(api, KS, ns, "apps", applied(good), "the good commit applied")
    [first] = ks["status"]["history"]
    assert first["lastReconciledStatus"] == "ReconciliationSucceeded"
    assert first["metadata"]["revision"] == f"master@sha1:{good}"

    bad = git_repo.commit({"apps/svc.yaml": service("web", 99999)}, "refused")
    await kapi.patch(
        api, GIT, ns, "fleet", {"metadata": {"annotations": {REQUESTED_AT: "refused"}}}
    )

    def refused(obj: Obj) -> bool:
        entries = (obj.get("status") or {}).get("history") or []
        return bool(entries) and entries[0]["metadata"]["revision"] == f"master@sha1:{bad}"

    ks = await wait_for(api, KS, ns, "apps", refused, "the refused commit in the history")
    assert (conditions.get(ks, "Ready") or {}).get("reason") == "ReconciliationFailed"
    failed = ks["status"]["history"][0]
    assert failed["lastReconciledStatus"] == "ReconciliationFailed"
    assert failed["digest"] != first["digest"]

    revert = git_repo.commit({"apps/svc.yaml": service("web", 80)}, "Revert refused")
    await kapi.patch(api, GIT, ns, "fleet", {"metadata": {"annotations": {REQUESTED_AT: "revert"}}})
    ks = await wait_for(api, KS, ns, "apps", applied(revert), "the revert applied")
    history = ks["status"]["history"]
    assert [(h["metadata"]["revision"], h["lastReconciledStatus"]) for h in history] == [
        (f"master@sha1:{revert}", "ReconciliationSucceeded"),
        (f"master@sha1:{bad}", "ReconciliationFailed"),
    ]
    assert history[0]["digest"] == first["digest"]
    assert history[0]["firstReconciled"] == first["firstReconciled"]
    assert history[0]["totalReconciliations"] >= 2
    assert history[1]["digest"] == failed["digest"]
