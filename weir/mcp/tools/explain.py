"""``explain_failure``: everything that tells why an object is not ready, in one answer.

For a Flux object: its conditions, the phase that failed and the error it reported (with the
files it names), the revisions attempted and applied, the state of its sources and of its
dependencies (``dependsOn``), Helm's release state and failure counters for a HelmRelease, and
its newest warning Events. For any other object: its kstatus health, the Kustomization or
HelmRelease that manages it (and their state), the pods of a workload, and its Events. Findings
come first, most important first, followed by suggested next steps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult

from weir.actions.errors import ObjectNotFoundError
from weir.actions.objects import (
    condition,
    find_object,
    is_suspended,
    kind_of,
    meta,
    revision,
    status,
)
from weir.actions.reconcile import source_chain
from weir.actions.trace import manager_of
from weir.api import KINDS, KindInfo
from weir.kube import apply as kapi
from weir.kube import kstatus
from weir.kube.errors import ApiError, NotFoundError
from weir.kube.informer import list_all
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import clip, respond
from weir.mcp.summaries import age, summary
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.events import PODS, events_for
from weir.mcp.tools.params import ApiVersion, Kind, Name, Namespace
from weir.types import Obj

MESSAGE = 1500
"""Characters kept of the main error message (build and apply errors can be long)."""

PHASES: dict[str, str] = {
    "ArtifactFailed": "fetching the source artifact",
    "BuildFailed": "building the manifests (kustomize build, post-build substitution)",
    "ReconciliationFailed": "applying the manifests (server-side apply)",
    "PruneFailed": "pruning objects removed from the source",
    "HealthCheckFailed": "waiting for the applied objects to become healthy",
    "DependencyNotReady": "waiting for dependencies",
    "InstallFailed": "helm install",
    "UpgradeFailed": "helm upgrade",
    "TestFailed": "helm test",
    "RollbackFailed": "helm rollback",
    "UninstallFailed": "helm uninstall",
    "InitFailed": "preparing the Helm release",
    "GitOperationFailed": "fetching from Git",
    "AuthenticationFailed": "authenticating to the source",
    "StorageOperationFailed": "storing the artifact",
    "IndexationFailed": "reading the Helm repository index",
    "ChartPullFailed": "pulling the chart",
    "InvalidSpec": "validating the spec",
    "InvalidCELExpression": "compiling the CEL expressions",
    "AccessDenied": "checking cross-namespace access",
}

NEXT_STEPS: dict[str, str] = {
    "BuildFailed": (
        "Fix the file named in the error in the source repository and commit; then call "
        "reconcile with with_source=true (or wait for the source's interval). "
        "diff_kustomization shows what the fixed build would change."
    ),
    "ReconciliationFailed": (
        "The API server refused an object: fix it in the source (the message names it and "
        "the reason), commit, and reconcile with with_source=true."
    ),
    "HealthCheckFailed": (
        "Inspect the objects named in the message with explain_failure, get_events and "
        "get_pod_logs; the revision was applied but is not healthy."
    ),
    "ArtifactFailed": "Run explain_failure on the source (see `sources`).",
    "DependencyNotReady": "Run explain_failure on the dependency that is not ready.",
    "PruneFailed": "Check the objects named in the message (finalizers, RBAC).",
    "InstallFailed": (
        "Check the chart's values (get_helmrelease_values), the Events and the pods of the "
        "release; compare with a working release (compare_helmrelease_values)."
    ),
    "UpgradeFailed": (
        "Compare the values with the previous release (get_history shows the config "
        "digests), check the Events and pod logs of the release's workloads."
    ),
}

_FILE = re.compile(r"(?<![\w/.-])(?:\./)?((?:[\w@+-]+/)*[\w@+.-]+\.(?:ya?ml|json))\b")
_LINE = re.compile(r"\bline (\d+)")


def files_in(message: str) -> list[str]:
    """The file names an error message mentions (``apps/broken.yaml``), in order. weir's
    messages end with hints after ``; `` (which may name files as advice): the error part is
    read first, the hints only when it names none."""
    error_part = message.split("; ", 1)[0]
    found = _files(error_part)
    return found or _files(message)


def _files(message: str) -> list[str]:
    seen: list[str] = []
    for match in _FILE.finditer(message):
        name = match.group(1)
        if name not in seen:
            seen.append(name)
    return seen


def last_error(cond: Mapping[str, Any]) -> Obj:
    """The failing condition as ``phase``, ``reason``, ``message``, and the ``files`` and
    ``line`` it names."""
    reason = str(cond.get("reason", ""))
    message = str(cond.get("message", ""))
    out: Obj = {
        "reason": reason,
        "phase": PHASES.get(reason, "reconciling"),
        "message": clip(message, MESSAGE),
        "since": cond.get("lastTransitionTime"),
    }
    files = files_in(message)
    if files:
        out["files"] = files
    line = _LINE.search(message)
    if line:
        out["line"] = int(line.group(1))
    return out


@dataclass
class Report:
    """What ``explain_failure`` returns, built step by step."""

    target: str
    state: str = "unknown"
    findings: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    details: Obj = field(default_factory=dict)

    def to_dict(self) -> Obj:
        out: Obj = {
            "object": self.target,
            "state": self.state,
            "findings": self.findings or ["nothing wrong found"],
            **self.details,
        }
        if self.next_steps:
            out["nextSteps"] = self.next_steps
        return out

    def step(self, text: str | None) -> None:
        if text and text not in self.next_steps:
            self.next_steps.append(text)


def conditions_of(obj: Mapping[str, Any]) -> list[Obj]:
    return [
        {
            "type": c.get("type"),
            "status": c.get("status"),
            "reason": c.get("reason"),
            "message": clip(str(c.get("message", "")), MESSAGE),
            "since": age(c.get("lastTransitionTime")),
        }
        for c in status(obj).get("conditions") or []
        if isinstance(c, Mapping)
    ]


def _source_state(obj: Mapping[str, Any] | None, what: str) -> Obj:
    if obj is None:
        return {"source": what, "found": False}
    ready = condition(obj, "Ready") or {}
    out: Obj = {
        "source": what,
        "ready": ready.get("status", "Unknown"),
        "revision": revision(obj) or None,
        "url": (obj.get("spec") or {}).get("url"),
    }
    if ready.get("status") != "True":
        out["reason"] = ready.get("reason")
        out["message"] = clip(str(ready.get("message", "")), 600)
    if is_suspended(obj):
        out["suspended"] = True
    return {k: v for k, v in out.items() if v is not None}


async def explain_sources(api: ApiClient, info: KindInfo, obj: Obj, report: Report) -> None:
    states = []
    for key in source_chain(info, obj):
        found = await find_object(api, key.info, key.namespace, key.name)
        what = kinds.display(key.info.kind, key.namespace, key.name)
        state = _source_state(found, what)
        states.append(state)
        if found is None:
            report.findings.append(f"source {what} does not exist")
            report.step(f"Create {what} or fix the source reference of {report.target}.")
        elif state.get("ready") != "True":
            report.findings.append(
                f"source {what} is not ready: {state.get('reason')}: {state.get('message', '')}"
            )
            report.step(f"Run explain_failure on {what}.")
        elif not (status(found).get("artifact") or key.info.kind == "HelmRepository"):
            report.findings.append(f"source {what} has no artifact yet")
    if states:
        report.details["sources"] = states


async def explain_dependencies(api: ApiClient, info: KindInfo, obj: Obj, report: Report) -> None:
    spec = obj.get("spec") or {}
    namespace = str(meta(obj).get("namespace", ""))
    rows = []
    for dep in spec.get("dependsOn") or []:
        if not isinstance(dep, Mapping) or not dep.get("name"):
            continue
        dep_ns = str(dep.get("namespace") or namespace)
        what = kinds.display(info.kind, dep_ns, str(dep["name"]))
        found = await find_object(api, info, dep_ns, str(dep["name"]))
        if found is None:
            rows.append({"dependency": what, "found": False})
            report.findings.append(f"dependency {what} does not exist")
            continue
        ready = condition(found, "Ready") or {}
        row: Obj = {
            "dependency": what,
            "ready": ready.get("status", "Unknown"),
            "revision": revision(found) or None,
        }
        if ready.get("status") != "True":
            row["message"] = clip(str(ready.get("message", "")), 600)
            report.findings.append(
                f"dependency {what} is not ready: {ready.get('reason', 'no status yet')}"
            )
            report.step(f"Run explain_failure on {what}.")
        rows.append({k: v for k, v in row.items() if v is not None})
    if rows:
        report.details["dependencies"] = rows


def explain_helm(obj: Mapping[str, Any], report: Report) -> None:
    st = status(obj)
    history = [h for h in st.get("history") or [] if isinstance(h, Mapping)]
    helm_state: Obj = {
        "lastAttemptedReleaseAction": st.get("lastAttemptedReleaseAction"),
        "failures": st.get("failures"),
        "installFailures": st.get("installFailures"),
        "upgradeFailures": st.get("upgradeFailures"),
    }
    if history:
        latest = history[0]
        helm_state["latestRelease"] = {
            k: latest.get(k)
            for k in ("version", "status", "chartName", "chartVersion", "appVersion")
            if latest.get(k) is not None
        }
        if str(latest.get("status", "")).lower() not in ("deployed", "superseded"):
            report.findings.append(
                f"the latest Helm release (v{latest.get('version')}) is {latest.get('status')}"
            )
    helm_state = {k: v for k, v in helm_state.items() if v not in (None, 0)}
    if helm_state:
        report.details["helm"] = helm_state
    released = condition(obj, "Released")
    if released and released.get("status") == "False":
        report.findings.append(
            f"Helm release failed: {released.get('reason')}: "
            f"{clip(str(released.get('message', '')), 600)}"
        )


async def explain_flux(api: ApiClient, info: KindInfo, obj: Obj, report: Report) -> None:
    m, st = meta(obj), status(obj)
    ready = condition(obj, "Ready")
    stalled = condition(obj, "Stalled")
    report.details["conditions"] = conditions_of(obj)
    if is_suspended(obj):
        report.state = "suspended"
        report.findings.append("reconciliation is suspended (spec.suspend: true)")
        report.step(f"Resume it with resume kind={info.kind} to reconcile again.")
    if ready is None:
        if report.state != "suspended":
            report.state = "not reconciled"
        report.findings.append(
            f"no controller has reported on it yet (no Ready condition): check that the "
            f"{info.controller} runs (`weir run` or Flux; get_overview lists controllers)"
        )
    elif ready.get("observedGeneration", st.get("observedGeneration")) != m.get("generation"):
        report.findings.append(
            f"the controller has not reported on the latest spec yet (generation "
            f"{m.get('generation')}, Ready is about {ready.get('observedGeneration')})"
        )
    failing = stalled if stalled and stalled.get("status") == "True" else None
    if failing is None and ready is not None and ready.get("status") == "False":
        failing = ready
    if failing is not None:
        error = last_error(failing)
        report.details["lastError"] = error
        terminal = " (stalled: it will not retry until the spec changes)" if stalled else ""
        where = f" in {', '.join(error['files'])}" if error.get("files") else ""
        report.findings.insert(
            0, f"{error['phase']} failed{where}{terminal}: {error['reason']}: {error['message']}"
        )
        report.step(NEXT_STEPS.get(str(error["reason"])))
        if report.state == "unknown":
            report.state = "failing"
    elif ready is not None and ready.get("status") == "Unknown" and report.state == "unknown":
        report.state = "progressing"
        report.findings.append(f"reconciliation in progress: {ready.get('message', '')}")
    elif ready is not None and ready.get("status") == "True" and report.state == "unknown":
        report.state = "ready"
    attempted, applied = st.get("lastAttemptedRevision"), st.get("lastAppliedRevision")
    if attempted or applied:
        report.details["revisions"] = {"attempted": attempted, "applied": applied}
        if attempted and applied and attempted != applied:
            report.findings.append(
                f"the cluster still runs revision {applied}; revision {attempted} was not applied"
            )
    healthy = condition(obj, "Healthy")
    if healthy and healthy.get("status") == "False":
        report.findings.append(f"health check failed: {clip(str(healthy.get('message')), 600)}")
    await explain_sources(api, info, obj, report)
    if info.kind in ("Kustomization", "HelmRelease"):
        await explain_dependencies(api, info, obj, report)
    if info.kind == "HelmRelease":
        explain_helm(obj, report)


async def _pods(api: ApiClient, obj: Mapping[str, Any]) -> list[Obj]:
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        return []
    label_selector = ",".join(f"{k}={v}" for k, v in selector.items())
    pods, _ = await list_all(
        api, PODS, namespace=str(meta(obj).get("namespace")), label_selector=label_selector
    )
    rows = []
    for pod in pods:
        row = summary(pod)
        if kstatus.compute(pod).status is not kstatus.Status.CURRENT:
            rows.append(row)
    return rows[:10]


async def explain_other(api: ApiClient, obj: Obj, report: Report) -> None:
    result = kstatus.compute(obj)
    report.details["health"] = {"status": str(result.status), "message": result.message}
    report.state = {
        kstatus.Status.CURRENT: "ready",
        kstatus.Status.FAILED: "failing",
        kstatus.Status.IN_PROGRESS: "progressing",
    }.get(result.status, str(result.status).lower())
    if result.status is not kstatus.Status.CURRENT:
        report.findings.append(f"kstatus says {result.status}: {result.message}")
    if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        pods = await _pods(api, obj)
        if pods:
            report.details["unreadyPods"] = pods
            report.findings.append(f"{len(pods)} pod(s) not ready (see unreadyPods)")
            report.step(
                "Read the logs of an unready pod with get_pod_logs (previous=true after a crash)."
            )
    owner = manager_of(obj)
    if owner is not None:
        info, ns, name = owner
        manager = await find_object(api, info, ns, name)
        what = kinds.display(info.kind, ns, name)
        if manager is None:
            report.details["managedBy"] = {"object": what, "found": False}
        else:
            ready = condition(manager, "Ready") or {}
            report.details["managedBy"] = {
                "object": what,
                "ready": ready.get("status", "Unknown"),
                "revision": revision(manager) or None,
                "message": clip(str(ready.get("message", "")), 600),
            }
            if ready.get("status") != "True":
                report.findings.append(f"its manager {what} is not ready")
                report.step(f"Run explain_failure on {what}.")


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def explain_failure(
        *,
        kind: Kind,
        name: Name,
        namespace: Namespace = None,
        api_version: ApiVersion = None,
    ) -> CallToolResult:
        """Why is this object failing (or not ready)? One answer with the findings first
        (most important first), the last build/apply/Helm error with the files it names,
        conditions, attempted vs applied revision, the state of its sources and
        dependencies, Helm release state, unready pods of workloads, the Kustomization or
        HelmRelease managing a plain object, warning Events, and next steps."""
        api = await env.api()
        ref = await kinds.resource(api, kind, api_version)
        ns = kinds.scope(ref, env.namespace(namespace))
        try:
            obj = await kapi.get(api, ref, ns, name)
        except NotFoundError as e:
            raise ObjectNotFoundError(
                f"{kinds.display(ref.kind, ns, name)} not found: check kind, name and namespace"
            ) from e
        obj.setdefault("apiVersion", ref.api_version)
        obj.setdefault("kind", ref.kind)
        report = Report(kinds.display(ref.kind, ns, name))
        if meta(obj).get("deletionTimestamp"):
            finalizers = ", ".join(meta(obj).get("finalizers") or []) or "none"
            report.findings.append(f"it is being deleted (finalizers: {finalizers})")
        info = kind_of(obj)
        if info is not None and info.kind in KINDS:
            await explain_flux(api, info, obj, report)
        else:
            await explain_other(api, obj, report)
        try:
            events = await events_for(api, ref.kind, ns, name, limit=10)
        except ApiError as e:
            events = [{"error": f"Events not readable: {e.reason or e.code}"}]
        warnings = [e for e in events if e.get("type") == "Warning"]
        if warnings:
            report.details["warningEvents"] = warnings
        elif events:
            report.details["recentEvents"] = events[:3]
        return respond(report.to_dict(), env.settings.max_output)

    return [ToolSpec(explain_failure, "Explain a failure", READ)]
