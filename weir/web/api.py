"""The JSON API under ``<base>/api/v1``: one handler per endpoint, all listed in
:data:`ENDPOINTS` (from which both the routes and the OpenAPI document are made)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from weir.actions.errors import ObjectNotFoundError
from weir.actions.objects import get_object
from weir.api import KindInfo
from weir.auth import users as auth
from weir.errors import WeirError
from weir.log import kv
from weir.web import events as web_events
from weir.web.artifact import artifact_response
from weir.web.detail import flux_detail, suspendable
from weir.web.graph import pipeline_graph
from weir.web.health import controller_health
from weir.web.kinds import FLUX_KINDS, SOURCE_KINDS, WORKLOADS, flux_kind, workload_resource
from weir.web.operations import ACTIONS, http_status
from weir.web.query import SORTS, BadQueryError, paginate, parse_query
from weir.web.responses import JSON, error
from weir.web.sse import poll, stream
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


# ---------------------------------------------------------------------------- dashboard
def _counts(rows: Any) -> dict[str, int]:
    counts = Counter(r["status"] for r in rows)
    out = {s: counts.get(s, 0) for s in STATUSES}
    out["total"] = sum(counts.values())
    return out


async def overview(request: Request, st: WebState) -> Response:
    cache = st.cache
    kinds = [{"kind": info.kind, **_counts(cache.flux_rows([info.kind]))} for info in FLUX_KINDS]
    failing = sorted(
        (r for r in cache.flux_rows() if r["status"] == "failed"),
        key=lambda r: r["lastTransition"] or "",
        reverse=True,
    )
    synced = cache.synced()
    return JSON(
        {
            "mode": st.mode,
            "synced": all(synced.values()),
            "syncedKinds": synced,
            "kinds": kinds,
            "totals": _counts(cache.flux_rows()),
            "workloads": _counts(cache.workload_rows()),
            "failing": failing[:50],
            "failingTotal": len(failing),
            "controllers": controller_health(cache, st.metrics),
            "feed": web_events.feed(cache, limit=40),
            "head": st.changes.event_id(st.changes.head),
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
    found = {r["namespace"] for r in st.cache.flux_rows()}
    found.update(r["namespace"] for r in st.cache.workload_rows())
    return JSON({"items": sorted(found)})


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
    ordered = st.cache.sorted_rows("flux", kinds, SORTS[query.sort], query.sort)
    return JSON(paginate(ordered, query).to_dict())


async def _flux_object(request: Request, st: WebState) -> tuple[KindInfo, dict[str, Any]]:
    p = request.path_params
    info = _info(p["kind"])
    obj = st.cache.get(info.kind, p["namespace"], p["name"])
    if obj is None:
        inf = st.cache.flux.get(info.kind)
        if inf is not None and inf.synced:
            raise ObjectNotFoundError(f"{info.kind} {p['namespace']}/{p['name']} not found")
        obj = await get_object(st.api, info, p["namespace"], p["name"])  # cache not ready
    return info, obj


async def resource_detail(request: Request, st: WebState) -> Response:
    info, obj = await _flux_object(request, st)
    return JSON(await flux_detail(st.api, st.cache, info, obj))


async def resource_events(request: Request, st: WebState) -> Response:
    p = request.path_params
    info = _info(p["kind"])
    key = key_of(info.kind, p["namespace"], p["name"])
    return JSON({"items": web_events.object_events(st.cache, key)})


async def resource_artifact(request: Request, st: WebState) -> Response:
    info, obj = await _flux_object(request, st)
    if info.kind not in SOURCE_KINDS:
        return error(400, f"{info.kind} is not a source: it has no artifact")
    return await artifact_response(obj, st.local)


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
    body = await st.runner.run(p["action"], info, p["namespace"], p["name"], identity_of(request))
    return JSON(body, status_code=202 if body.get("actionId") else 200)


# ---------------------------------------------------------------------------- sign-in
def identity_of(request: Request) -> auth.Identity | None:
    """Who sent the request (set by :class:`~weir.web.app.AuthGate`)."""
    found = getattr(request.state, "identity", None)
    return found if isinstance(found, auth.Identity) else None


def _whoami(st: WebState, identity: auth.Identity | None) -> dict[str, Any]:
    mode = st.settings.auth.mode
    reason = auth.actions_refusal(st.settings.auth, st.settings.addr)
    signed_in = identity is not None
    if reason is None and mode != "none" and not signed_in:
        reason = "sign in to run actions"
    return {
        "mode": mode,
        "authenticated": signed_in or mode == "none",
        "user": identity.user if identity else None,
        "groups": list(identity.groups) if identity else [],
        "actions": reason is None,
        "actionsDisabledReason": reason,
    }


async def whoami(request: Request, st: WebState) -> Response:
    return JSON(_whoami(st, st.auth.identify(request.headers, request.cookies)))


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
    response = JSON(_whoami(st, identity))
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
    return JSON(
        pipeline_graph(st.cache, namespace=q.get("namespace") or None, focus=q.get("focus") or None)
    )


async def list_workloads(request: Request, st: WebState) -> Response:
    query = parse_query(request.query_params.getlist, _workload_kind_name)
    kinds = query.kinds or tuple(WORKLOADS)
    ordered = st.cache.sorted_rows("workload", kinds, SORTS[query.sort], query.sort)
    return JSON(paginate(ordered, query).to_dict())


async def workload(request: Request, st: WebState) -> Response:
    p = request.path_params
    kind = _workload_kind_name(p["kind"])
    if kind is None:
        return error(404, f"unknown workload kind {p['kind']!r}: use one of {', '.join(WORKLOADS)}")
    found = await workload_detail(st.api, st.cache, kind, p["namespace"], p["name"])
    if found is None:
        return error(404, f"{kind} {p['namespace']}/{p['name']} not found")
    return JSON(found)


# ---------------------------------------------------------------------------- events, live
async def event_feed(request: Request, st: WebState) -> Response:
    q = request.query_params
    limit = q.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise BadQueryError("limit: a number from 1 to 1000")
    return JSON(
        {"items": web_events.feed(st.cache, namespace=q.get("namespace") or None, limit=int(limit))}
    )


async def changes(request: Request, st: WebState) -> Response:
    return JSON(poll(st.changes, request.query_params.get("since")))


async def live(request: Request, st: WebState) -> Response:
    last = request.headers.get("last-event-id") or request.query_params.get("lastEventId")
    return StreamingResponse(
        stream(st.changes, last, st.settings.heartbeat),
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
        f"Run an action ({', '.join(ACTIONS)}); needs the {ACTION_HEADER} header",
        "ActionResult",
        (*_OBJ, Param("action", "path", "The action", required=True, enum=ACTIONS)),
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
        "/api/v1/events",
        event_feed,
        "Recent Events about Flux objects, newest first",
        "EventList",
        (Param("namespace"), Param("limit", type="integer")),
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
        except WeirError as e:
            return error(http_status(e), str(e))

    endpoint.__name__ = handler.__name__
    return endpoint
