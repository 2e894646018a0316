"""The JSON API under ``<base>/api/v1``: one handler per endpoint, all listed in
:data:`ENDPOINTS` (from which both the routes and the OpenAPI document are made)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from weir.actions.errors import ObjectNotFoundError
from weir.actions.helmrevisions import release_history, storage_namespace
from weir.actions.objects import get_object
from weir.api import KindInfo
from weir.auth import users as auth
from weir.auth.rbac import Resource
from weir.auth.signin import Caller
from weir.errors import WeirError
from weir.helmengine.engine import ClusterAccess
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.log import kv
from weir.web import events as web_events
from weir.web import podlogs
from weir.web.access import ForbiddenReadError, Scope, scope_of
from weir.web.artifact import artifact_response
from weir.web.changes import Change
from weir.web.detail import flux_detail, suspendable
from weir.web.graph import pipeline_graph
from weir.web.health import controller_health
from weir.web.kinds import FLUX_KINDS, SOURCE_KINDS, WORKLOADS, flux_kind, workload_resource
from weir.web.operations import ACTIONS, http_status, resource_ref
from weir.web.query import SORTS, BadQueryError, paginate, parse_query
from weir.web.responses import JSON, error
from weir.web.sse import ChangeFilter, poll, stream
from weir.web.state import WebState
from weir.web.status import STATUSES, key_of
from weir.web.workloads import workload_detail

log = logging.getLogger("weir.web")
Handler = Callable[[Request, WebState], Awaitable[Response]]
ACTION_HEADER = "X-Weir-Request"


@dataclass(frozen=True)
class Param:
    name: str
    where: str = "query"
    description: str = ""
    type: str = "string"
    required: bool = False
    repeated: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """Relative to the base path; ``{name}`` for path parameters."""
    handler: Handler
    summary: str
    response: str
    """Name of the response schema (see :mod:`weir.web.openapi`)."""
    params: tuple[Param, ...] = field(default_factory=tuple)
    media_type: str = "application/json"
    status: int = 200


def state_of(request: Request) -> WebState:
    found: WebState = request.app.state.web
    return found


def _info(kind: str) -> KindInfo:
    info = flux_kind(kind)
    if info is None:
        raise BadQueryError(f"unknown Flux kind {kind!r}")
    return info


def _listed(request: Request, name: str) -> list[str]:
    """A repeated or comma-separated query parameter."""
    return [
        v.strip()
        for value in request.query_params.getlist(name)
        for v in value.split(",")
        if v.strip()
    ]


# ---------------------------------------------------------------------------- dashboard
def _counts(rows: Any) -> dict[str, int]:
    counts = Counter(r["status"] for r in rows)
    out = {s: counts.get(s, 0) for s in STATUSES}
    out["total"] = sum(counts.values())
    return out


async def scope(request: Request, st: WebState) -> Scope:
    """What the caller may see (everything without sign-in)."""
    return await scope_of(request, st.reviewer, st.cache)


def _scoped_counts(st: WebState, sc: Scope, kinds: Iterable[str]) -> dict[str, int]:
    """Rows of ``kinds`` the scope sees, by status word (a sum of the cache's counts)."""
    wanted = set(kinds)
    total: Counter[str] = Counter()
    for (kind, namespace), counter in st.cache.counts.items():
        if kind in wanted and sc.allows(kind, namespace):
            total.update(counter)
    out = {s: total.get(s, 0) for s in STATUSES}
    out["total"] = sum(total.values())
    return out


async def overview(request: Request, st: WebState) -> Response:
    cache = st.cache
    sc = await scope(request, st)
    kinds = [{"kind": info.kind, **_scoped_counts(st, sc, [info.kind])} for info in FLUX_KINDS]
    failing = sorted(
        sc.rows(cache.failing.values()),
        key=lambda r: r["lastTransition"] or "",
        reverse=True,
    )
    synced = cache.synced()
    visible = sc.namespaces(cache.namespaces())
    return JSON(
        {
            "mode": st.mode,
            "synced": all(synced.values()),
            "syncedKinds": synced,
            "kinds": kinds,
            "totals": _scoped_counts(st, sc, [k.kind for k in FLUX_KINDS]),
            "workloads": _scoped_counts(st, sc, WORKLOADS),
            "failing": failing[:50],
            "failingTotal": len(failing),
            "controllers": controller_health(
                cache, st.metrics, visible=sc.allows if sc.filtered else None
            ),
            "feed": web_events.recent(cache, limit=40, scope=sc),
            "head": st.changes.event_id(st.changes.head),
            "access": {
                "filtered": sc.filtered,
                "limited": sc.filtered and not visible,
                "namespaces": visible if sc.filtered else None,
            },
        }
    )


async def kinds(request: Request, st: WebState) -> Response:
    out = []
    for info in FLUX_KINDS:
        category = next((c for c in info.categories if c.startswith("fluxcd-")), "")
        out.append(
            {
                "kind": info.kind,
                "apiVersion": info.api_version,
                "plural": info.plural,
                "shortNames": list(info.short_names),
                "category": category.removeprefix("fluxcd-"),
                "controller": info.controller,
                "hasStatus": info.has_status,
                "suspendable": suspendable(info),
                "hasArtifact": info.kind in SOURCE_KINDS,
            }
        )
    workloads = [
        {"kind": k, "apiVersion": r.api_version, "plural": r.plural} for k, r in WORKLOADS.items()
    ]
    return JSON({"flux": out, "workloads": workloads, "statuses": list(STATUSES)})


async def namespaces(request: Request, st: WebState) -> Response:
    sc = await scope(request, st)
    return JSON({"items": sc.namespaces(st.cache.namespaces())})


# ---------------------------------------------------------------------------- resources
def _flux_kind_name(name: str) -> str | None:
    info = flux_kind(name)
    return info.kind if info is not None else None


def _workload_kind_name(name: str) -> str | None:
    ref = workload_resource(name)
    return ref.kind if ref is not None else None


async def list_resources(request: Request, st: WebState) -> Response:
    query = parse_query(request.query_params.getlist, _flux_kind_name)
    kinds = query.kinds or tuple(k.kind for k in FLUX_KINDS)
    sc = await scope(request, st)
    sc.require_namespaces(_listed(request, "namespace"), kinds)
    ordered = st.filtered.get(
        sc, cache=st.cache, group="flux", kinds=kinds, sort_key=SORTS[query.sort], sort=query.sort
    )
    return JSON(paginate(ordered, query).to_dict())


async def _flux_object(request: Request, st: WebState) -> tuple[KindInfo, dict[str, Any], Scope]:
    p = request.path_params
    info = _info(p["kind"])
    sc = await scope(request, st)
    sc.require(info.kind, p["namespace"], "get")
    obj = st.cache.get(info.kind, p["namespace"], p["name"])
    if obj is None:
        inf = st.cache.flux.get(info.kind)
        if inf is not None and inf.synced:
            raise ObjectNotFoundError(f"{info.kind} {p['namespace']}/{p['name']} not found")
        api = st.runner.reader_for(identity_of(request))
        obj = await get_object(api, info, p["namespace"], p["name"])  # cache not ready
    return info, obj, sc


async def resource_detail(request: Request, st: WebState) -> Response:
    info, obj, sc = await _flux_object(request, st)
    detail = await flux_detail(st.api, st.cache, info, obj, visible=sc.allows)
    detail["allowed"] = await st.runner.allowed_actions(
        identity_of(request), info, detail["actions"], obj
    )
    return JSON(detail)


async def resource_events(request: Request, st: WebState) -> Response:
    p = request.path_params
    info = _info(p["kind"])
    sc = await scope(request, st)
    sc.require(info.kind, p["namespace"])
    sc.require("Event", p["namespace"])
    key = key_of(info.kind, p["namespace"], p["name"])
    return JSON({"items": web_events.object_events(st.cache, key)})


async def resource_artifact(request: Request, st: WebState) -> Response:
    info, obj, _ = await _flux_object(request, st)
    if info.kind not in SOURCE_KINDS:
        return error(400, f"{info.kind} is not a source: it has no artifact")
    p = request.path_params
    identity = identity_of(request)
    await st.runner.authorize(identity, "download", resource_ref(info), p["namespace"], p["name"])
    response = await artifact_response(obj, st.local)
    if identity is not None:
        st.runner.record(obj, "download", identity)
    return response


def _cross_site(request: Request) -> Response | None:
    if request.headers.get(ACTION_HEADER):
        return None
    return error(
        403, f"this request needs the {ACTION_HEADER} header (cross-site requests are refused)"
    )


async def resource_action(request: Request, st: WebState) -> Response:
    refused = _cross_site(request)
    if refused is not None:
        return refused
    reason = auth.actions_refusal(st.settings.auth, st.settings.addr)
    if reason is not None:
        return error(403, reason)
    p = request.path_params
    info = _info(p["kind"])
    if p["action"] == "rollback":
        return await _rollback(request, st, info)
    body = await st.runner.run(p["action"], info, p["namespace"], p["name"], identity_of(request))
    return JSON(body, status_code=202 if body.get("actionId") else 200)


async def _rollback(request: Request, st: WebState, info: KindInfo) -> Response:
    p = request.path_params
    revision = request.query_params.get("revision", "")
    if not revision.isdigit():
        raise BadQueryError("revision: the release revision to roll back to (a number)")
    sc = await scope(request, st)
    sc.require(info.kind, p["namespace"], "get")
    access = ClusterAccess(kubeconfig=st.settings.kubeconfig, context=st.settings.context)
    body = await st.runner.rollback(
        info,
        p["namespace"],
        p["name"],
        revision=int(revision),
        identity=identity_of(request),
        access=access,
    )
    return JSON(body)


async def resource_revisions(request: Request, st: WebState) -> Response:
    info, obj, _ = await _flux_object(request, st)
    if info.kind != "HelmRelease":
        return error(400, f"{info.kind} has no Helm release revisions")
    identity = identity_of(request)
    show = True
    if identity is not None and st.reviewer is not None:
        secrets = Resource("", "secrets")
        show = await st.reviewer.allowed(identity, "get", secrets, storage_namespace(obj))
    body = await release_history(st.api, obj, show_values=show)
    body["allowed"] = (await st.runner.allowed_actions(identity, info, ["rollback"], obj))[
        "rollback"
    ]
    return JSON(body)


# ---------------------------------------------------------------------------- sign-in
def identity_of(request: Request) -> auth.Identity | None:
    """Who sent the request (set by :class:`~weir.web.app.AuthGate`)."""
    found = getattr(request.state, "identity", None)
    return found if isinstance(found, auth.Identity) else None


def _whoami(st: WebState, caller: Caller | None) -> dict[str, Any]:
    mode = st.settings.auth.mode
    reason = auth.actions_refusal(st.settings.auth, st.settings.addr)
    signed_in = caller is not None
    if reason is None and mode != "none" and not signed_in:
        reason = "sign in to run actions"
    oidc = st.signin.oidc
    base = st.settings.base_path
    return {
        "mode": mode,
        "authenticated": signed_in or mode == "none",
        "user": caller.identity.user if caller else None,
        "groups": list(caller.identity.groups) if caller else [],
        "name": (caller.profile_name or caller.identity.user) if caller else None,
        "provider": caller.provider if caller else None,
        "sessionStart": caller.session_start if caller else None,
        "actions": reason is None,
        "actionsDisabledReason": reason,
        "signInURL": f"{base}/oauth2/authorize" if oidc is not None else None,
        "autoLogin": bool(oidc is not None and oidc.auto_login),
    }


async def whoami(request: Request, st: WebState) -> Response:
    caller = getattr(request.state, "caller", None)
    return JSON(_whoami(st, caller if isinstance(caller, Caller) else None))


async def login(request: Request, st: WebState) -> Response:
    refused = _cross_site(request)
    if refused is not None:
        return refused
    if st.settings.auth.mode != "token":
        return error(
            400, f"this UI does not sign in with tokens (authentication: {st.settings.auth.mode})"
        )
    try:
        body = await request.json()
    except ValueError:
        body = None
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip():
        return error(400, 'send {"token": "..."} as JSON')
    identity = st.auth.login(token.strip())
    if identity is None:
        log.warning("web sign-in refused: unknown token")
        return error(401, "unknown token")
    log.info("web sign-in", extra=kv(user=identity.user))
    response = JSON(_whoami(st, Caller(identity, "token")))
    response.set_cookie(
        auth.COOKIE,
        st.auth.session(identity),
        max_age=int(st.settings.auth.session_ttl),
        path=st.settings.base_path or "/",
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )
    return response


async def logout(request: Request, st: WebState) -> Response:
    refused = _cross_site(request)
    if refused is not None:
        return refused
    response = JSON(_whoami(st, None))
    response.delete_cookie(auth.COOKIE, path=st.settings.base_path or "/")
    return response


def _https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    return request.url.scheme == "https" or forwarded == "https"


# ---------------------------------------------------------------------------- graph, workloads
async def graph(request: Request, st: WebState) -> Response:
    q = request.query_params
    sc = await scope(request, st)
    namespace, focus = q.get("namespace") or None, q.get("focus") or None
    if namespace:
        sc.require_namespaces([namespace], [k.kind for k in FLUX_KINDS] + list(WORKLOADS))
    if focus and focus.count("/") >= 2:
        kind, ns, _ = focus.split("/", 2)
        sc.require(kind, ns, "get")
    group = q.get("group") or None
    if group not in (None, "namespace", "kustomization"):
        raise BadQueryError("group: namespace or kustomization")
    return JSON(
        pipeline_graph(
            st.cache,
            namespace=namespace,
            focus=focus,
            visible=sc.allows_key if sc.filtered else None,
            group=group,
        )
    )


async def list_workloads(request: Request, st: WebState) -> Response:
    query = parse_query(request.query_params.getlist, _workload_kind_name)
    kinds = query.kinds or tuple(WORKLOADS)
    sc = await scope(request, st)
    sc.require_namespaces(_listed(request, "namespace"), kinds)
    ordered = st.filtered.get(
        sc,
        cache=st.cache,
        group="workload",
        kinds=kinds,
        sort_key=SORTS[query.sort],
        sort=query.sort,
    )
    return JSON(paginate(ordered, query).to_dict())


async def workload(request: Request, st: WebState) -> Response:
    p = request.path_params
    kind = _workload_kind_name(p["kind"])
    if kind is None:
        return error(404, f"unknown workload kind {p['kind']!r}: use one of {', '.join(WORKLOADS)}")
    sc = await scope(request, st)
    sc.require(kind, p["namespace"], "get")
    api = st.runner.reader_for(identity_of(request))
    found = await workload_detail(api, st.cache, kind, p["namespace"], p["name"], visible=sc.allows)
    if found is None:
        return error(404, f"{kind} {p['namespace']}/{p['name']} not found")
    found["allowed"] = await st.runner.allowed_workload_actions(
        identity_of(request), kind, p["namespace"], p["name"]
    )
    return JSON(found)


async def workload_action(request: Request, st: WebState) -> Response:
    refused = _cross_site(request)
    if refused is not None:
        return refused
    reason = auth.actions_refusal(st.settings.auth, st.settings.addr)
    if reason is not None:
        return error(403, reason)
    p = request.path_params
    kind = _workload_kind_name(p["kind"])
    if kind is None:
        return error(404, f"unknown workload kind {p['kind']!r}: use one of {', '.join(WORKLOADS)}")
    body = await st.runner.run_workload(
        p["action"], kind, p["namespace"], p["name"], identity_of(request)
    )
    return JSON(body)


async def workload_logs(request: Request, st: WebState) -> Response:
    p = request.path_params
    kind = _workload_kind_name(p["kind"])
    if kind is None:
        return error(404, f"unknown workload kind {p['kind']!r}: use one of {', '.join(WORKLOADS)}")
    sc = await scope(request, st)
    sc.require(kind, p["namespace"], "get")
    api = st.runner.reader_for(identity_of(request))
    try:
        obj = await apply.get(api, WORKLOADS[kind], p["namespace"], p["name"])
    except NotFoundError:
        return error(404, f"{kind} {p['namespace']}/{p['name']} not found")
    obj.setdefault("kind", kind)
    return JSON(await podlogs.workload_logs(api, st.cache, obj, request.query_params))


# ---------------------------------------------------------------------------- events, live
async def event_feed(request: Request, st: WebState) -> Response:
    q = request.query_params
    limit = q.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise BadQueryError("limit: a number from 1 to 1000")
    sc = await scope(request, st)
    namespaces = _listed(request, "namespace")
    sc.require_namespaces(namespaces, ["Event"])
    kinds = _listed(request, "kind")
    canonical = []
    for k in kinds:
        name = _flux_kind_name(k)
        if name is None:
            raise BadQueryError(f"unknown Flux kind {k!r}")
        canonical.append(name)
    severity = q.get("type") or q.get("severity") or None
    if severity is not None and severity not in ("Normal", "Warning"):
        raise BadQueryError("type: Normal or Warning")
    found = web_events.feed(
        st.cache,
        namespaces=namespaces,
        kinds=canonical,
        names=_listed(request, "name"),
        severity=severity,
        reasons=_listed(request, "reason"),
        limit=int(limit),
        scope=sc,
    )
    return JSON({"items": found})


async def changes(request: Request, st: WebState) -> Response:
    sc = await scope(request, st)
    return JSON(
        await poll(st.changes, request.query_params.get("since"), visible=_change_filter(st, sc))
    )


def _change_filter(st: WebState, sc: Scope) -> ChangeFilter | None:
    """What of the change log the caller may see (None: everything)."""
    reviewer, access = st.reviewer, sc.access
    if reviewer is None or access is None:
        return None

    async def visible(batch: list[Change]) -> list[Change]:
        namespaces = {c.key.split("/", 2)[1] for c in batch if c.key.count("/") >= 2}
        fresh = await reviewer.scope(access.identity, namespaces)
        now = Scope(fresh)
        return [c for c in batch if now.allows_key(c.key) or _own_action(c, access.identity)]

    return visible


def _own_action(change: Change, identity: auth.Identity) -> bool:
    return change.type == "ACTION" and change.data.get("user") == identity.user


async def live(request: Request, st: WebState) -> Response:
    last = request.headers.get("last-event-id") or request.query_params.get("lastEventId")
    sc = await scope(request, st)
    return StreamingResponse(
        stream(st.changes, last, st.settings.heartbeat, visible=_change_filter(st, sc)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def healthz(request: Request, st: WebState) -> Response:
    synced = st.cache.synced()
    return JSON({"ok": True, "synced": all(synced.values()), "mode": st.mode})


# ---------------------------------------------------------------------------- the table
_OBJ = (
    Param(
        "kind",
        "path",
        "Flux kind (any name kubectl accepts: Kustomization, ks, ...)",
        required=True,
    ),
    Param("namespace", "path", "Namespace", required=True),
    Param("name", "path", "Name", required=True),
)
_LIST = (
    Param("namespace", description="Namespaces (exact, or wildcards * ?)", repeated=True),
    Param(
        "name", description="Names (substring, or wildcards * ?), case-insensitive", repeated=True
    ),
    Param("status", description="Status words", repeated=True, enum=STATUSES),
    Param("key", description="Exact Kind/namespace/name ids (favorites)", repeated=True),
    Param("sort", description="Order of the rows", enum=tuple(SORTS)),
    Param("limit", description="Rows per page (1-1000, default 100)", type="integer"),
    Param("continue", description="Token of the next page, from the previous answer"),
)
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/api/v1/overview",
        overview,
        "Dashboard: counts, failing objects, controllers, feed",
        "Overview",
    ),
    Endpoint("GET", "/api/v1/kinds", kinds, "The kinds the UI knows", "Kinds"),
    Endpoint(
        "GET",
        "/api/v1/namespaces",
        namespaces,
        "Namespaces with Flux objects or workloads",
        "Names",
    ),
    Endpoint(
        "GET",
        "/api/v1/resources",
        list_resources,
        "Flux objects: filtered, sorted, paginated",
        "RowPage",
        (Param("kind", description="Flux kinds", repeated=True), *_LIST),
    ),
    Endpoint(
        "GET",
        "/api/v1/resources/{kind}/{namespace}/{name}",
        resource_detail,
        "One Flux object in detail",
        "Detail",
        _OBJ,
    ),
    Endpoint(
        "GET",
        "/api/v1/resources/{kind}/{namespace}/{name}/events",
        resource_events,
        "Events of one Flux object",
        "EventList",
        _OBJ,
    ),
    Endpoint(
        "GET",
        "/api/v1/resources/{kind}/{namespace}/{name}/artifact",
        resource_artifact,
        "Download the artifact of a source",
        "Binary",
        _OBJ,
        media_type="application/gzip",
    ),
    Endpoint(
        "POST",
        "/api/v1/resources/{kind}/{namespace}/{name}/{action}",
        resource_action,
        f"Run an action ({', '.join(ACTIONS)}, or rollback?revision=N for a HelmRelease); "
        f"needs the {ACTION_HEADER} header",
        "ActionResult",
        (
            *_OBJ,
            Param("action", "path", "The action", required=True, enum=(*ACTIONS, "rollback")),
            Param("revision", description="rollback: the release revision to go back to"),
        ),
    ),
    Endpoint(
        "GET",
        "/api/v1/resources/{kind}/{namespace}/{name}/revisions",
        resource_revisions,
        "A HelmRelease's release revisions and what each changed (chart, values)",
        "Revisions",
        _OBJ,
    ),
    Endpoint(
        "GET",
        "/api/v1/auth/whoami",
        whoami,
        "Who is signed in, and whether actions are on",
        "WhoAmI",
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/login",
        login,
        f'Sign in with a token (JSON {{"token": ...}}; needs the {ACTION_HEADER} header); '
        "sets the session cookie",
        "WhoAmI",
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/logout",
        logout,
        f"Sign out (clears the session cookie; needs the {ACTION_HEADER} header)",
        "WhoAmI",
    ),
    Endpoint(
        "GET",
        "/api/v1/graph",
        graph,
        "The pipeline graph (sources, appliers, workloads, dependsOn)",
        "Graph",
        (
            Param("namespace", description="Objects of this namespace and their neighbours"),
            Param("focus", description="Kind/namespace/name: that object, upstream and downstream"),
            Param(
                "group",
                description="Group the nodes (each gets a group)",
                enum=("namespace", "kustomization"),
            ),
        ),
    ),
    Endpoint(
        "GET",
        "/api/v1/workloads",
        list_workloads,
        "Workloads managed by Flux: filtered, sorted, paginated",
        "RowPage",
        (Param("kind", description="Workload kinds", repeated=True, enum=tuple(WORKLOADS)), *_LIST),
    ),
    Endpoint(
        "GET",
        "/api/v1/workloads/{kind}/{namespace}/{name}",
        workload,
        "One workload with its pods and Events",
        "WorkloadDetail",
        (
            Param("kind", "path", "Workload kind", required=True, enum=tuple(WORKLOADS)),
            *_OBJ[1:],
        ),
    ),
    Endpoint(
        "GET",
        "/api/v1/workloads/{kind}/{namespace}/{name}/logs",
        workload_logs,
        "Logs of a workload's pods, read as the signed-in user",
        "Logs",
        (
            Param("kind", "path", "Workload kind", required=True, enum=tuple(WORKLOADS)),
            *_OBJ[1:],
            Param("pod", description="A pod name (default: all pods)"),
            Param("container", description="A container name (default: all containers)"),
            Param(
                "tailLines", description="Lines per container (1-5000, default 500)", type="integer"
            ),
            Param(
                "previous", description="The previous (terminated) container's log", type="boolean"
            ),
            Param("since", description="Only lines after this kubelet timestamp (the cursor)"),
            Param("search", description="Keep lines containing it (! in front: without it)"),
        ),
    ),
    Endpoint(
        "POST",
        "/api/v1/workloads/{kind}/{namespace}/{name}/{action}",
        workload_action,
        f"Restart a Deployment/StatefulSet/DaemonSet or run a CronJob's job now; needs the "
        f"{ACTION_HEADER} header",
        "WorkloadActionResult",
        (
            Param("kind", "path", "Workload kind", required=True, enum=tuple(WORKLOADS)),
            *_OBJ[1:],
            Param("action", "path", "The action", required=True, enum=("restart", "run-job")),
        ),
    ),
    Endpoint(
        "GET",
        "/api/v1/events",
        event_feed,
        "Recent Events about Flux objects, newest first",
        "EventList",
        (
            Param(
                "namespace", description="Namespaces (exact, wildcards, ! excludes)", repeated=True
            ),
            Param("kind", description="Flux kinds of the objects", repeated=True),
            Param(
                "name", description="Object names (substring, wildcards, ! excludes)", repeated=True
            ),
            Param("type", description="Severity", enum=("Normal", "Warning")),
            Param("reason", description="Event reasons", repeated=True),
            Param("limit", type="integer"),
        ),
    ),
    Endpoint(
        "GET",
        "/api/v1/changes",
        changes,
        "Changes after an event id (the polling fallback of the stream)",
        "ChangePoll",
        (Param("since", description="Event id of the last change seen"),),
    ),
    Endpoint(
        "GET",
        "/api/v1/stream",
        live,
        "Live changes as Server-Sent Events (hello, reset, changes, heartbeat)",
        "EventStream",
        (Param("lastEventId", description="Resume after this id (or the Last-Event-ID header)"),),
        media_type="text/event-stream",
    ),
    Endpoint(
        "GET",
        "/api/healthz",
        healthz,
        "Whether the web server runs and its caches synced",
        "Health",
    ),
)


def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for ``handler``: the shared state, errors as JSON."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, state_of(request))
        except BadQueryError as e:
            return error(400, str(e))
        except ForbiddenReadError as e:
            return error(403, str(e))
        except WeirError as e:
            return error(http_status(e), str(e))

    endpoint.__name__ = handler.__name__
    return endpoint
