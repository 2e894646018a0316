"""weir's controller logs, filtered by object (``weir logs``).

``weir run`` writes one JSON object per line (:mod:`weir.log`): ``ts``, ``level``,
``logger``, ``msg``, then fields -- ``kind``, ``namespace``, ``name`` for the object a line is
about, ``controller``, ``reconcileID``, ``revision``, ``result``, ``reason``, ``error``, ...
The lines of Flux's controllers (zap JSON: ``controllerKind``, the object under its kind's key)
are understood as well, so ``kubectl logs deploy/kustomize-controller`` output can be filtered.

Where lines come from:

- a file (``weir run 2> .weir/logs/weir.log``; ``make up`` writes that file), or standard input;
  :func:`read_file` and :func:`follow_file` (which survives truncation and rotation);
- the containers of the weir pods in a cluster, through the API server's ``pods/log``
  (:func:`find_pods`, :func:`pod_lines`, :func:`follow_pod`), with the kubelet's timestamps to
  merge several pods in order and to resume a follow where the first read ended.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.types import Obj

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient


DEFAULT_SELECTOR = "app.kubernetes.io/name=weir"
LOCAL_LOG_FILE = Path(".weir/logs/weir.log")
"""Where ``make up`` has ``weir run`` write its log (relative to the repository)."""
LEVELS = {
    "trace": 5,
    "debug": 10,
    "info": 20,
    "warning": 30,
    "warn": 30,
    "error": 40,
    "dpanic": 50,
    "panic": 50,
    "critical": 50,
    "fatal": 50,
}
LEVEL_NAMES = ("trace", "debug", "info", "warning", "error")
POLL_INTERVAL = 0.25
_OBJECT_KEYS = ("ts", "level", "logger", "msg", "kind", "namespace", "name")
_FLUX_KEYS = ("controllerKind", "controllerGroup")


@dataclass(frozen=True)
class LogEntry:
    """One log line: the raw text, and what its JSON says (``fields`` None: not JSON)."""

    raw: str
    fields: Obj | None
    ts: datetime | None = None
    level: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    msg: str = ""

    @property
    def object(self) -> str:
        """``Kustomization/apps/podinfo`` (``Kind/name`` without a namespace), or ""."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p) if self.kind else ""


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:  # Go writes up to 9 fractional digits; Python takes 6
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds allowed), or None."""
    return _time(value)


def parse_line(raw: str) -> LogEntry:
    """A line of weir's (or Flux's) JSON logs; any other text is kept with ``fields`` None."""
    text = raw.rstrip("\r\n")
    try:
        data = json.loads(text)
    except ValueError:
        return LogEntry(text, None)
    if not isinstance(data, dict):
        return LogEntry(text, None)
    kind = str(data.get("kind") or data.get("controllerKind") or "")
    nested = data.get(kind) if kind else None
    nested = nested if isinstance(nested, dict) else {}
    return LogEntry(
        raw=text,
        fields=data,
        ts=_time(data.get("ts") or data.get("time")),
        level=str(data.get("level") or "").lower(),
        kind=kind,
        namespace=str(data.get("namespace") or nested.get("namespace") or ""),
        name=str(data.get("name") or nested.get("name") or ""),
        msg=str(data.get("msg") or data.get("message") or ""),
    )


@dataclass(frozen=True)
class LogFilter:
    """Which lines to keep; unset fields keep everything."""

    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    level: str | None = None
    """The lowest level shown (``info`` shows info, warning and error)."""
    since: datetime | None = None

    @property
    def narrows(self) -> bool:
        return any(v is not None for v in (self.kind, self.namespace, self.name, self.level))

    def matches(self, entry: LogEntry) -> bool:
        if entry.fields is None:  # not JSON: nothing to filter on
            return not self.narrows and self.since is None
        if self.kind is not None and entry.kind.lower() != self.kind.lower():
            return False
        if self.namespace is not None and entry.namespace != self.namespace:
            return False
        if self.name is not None and entry.name != self.name:
            return False
        if self.level is not None and LEVELS.get(entry.level, 0) < LEVELS[self.level]:
            return False
        return self.since is None or (entry.ts is not None and entry.ts >= self.since)


def tail(entries: Iterable[LogEntry], count: int | None) -> list[LogEntry]:
    """The last ``count`` entries (all when None or negative)."""
    items = list(entries)
    if count is None or count < 0:
        return items
    return items[len(items) - count :] if count else []


# ----------------------------------------------------------------------------- formatting
def _value(value: Any) -> str:
    if isinstance(value, str):
        return (
            value
            if value and not any(c.isspace() or c in '"=' for c in value)
            else (json.dumps(value, ensure_ascii=False))
        )
    return json.dumps(value, ensure_ascii=False, default=str)


def format_entry(entry: LogEntry) -> str:
    """``ts level Kind/ns/name msg key=value ...`` (a multi-line ``error`` on indented lines
    after it); non-JSON lines as they are."""
    data = entry.fields
    if data is None:
        return entry.raw
    skip = {*_OBJECT_KEYS, *_FLUX_KEYS, entry.kind}
    if "msg" not in data:
        skip.add("message")  # the message under its other name
    if "ts" not in data:
        skip.add("time")
    error = data.get("error")
    multiline_error = isinstance(error, str) and "\n" in error
    if multiline_error:
        skip.add("error")
    where = entry.object or str(data.get("logger") or "")
    stamp = data.get("ts", data.get("time"))
    ts = stamp if isinstance(stamp, str) else (entry.ts.isoformat() if entry.ts else "-")
    head = f"{ts} {entry.level or '-':<7} {where} {entry.msg}".rstrip()
    rest = " ".join(f"{k}={_value(v)}" for k, v in data.items() if k not in skip)
    text = f"{head} {rest}" if rest else head
    if multiline_error:
        text += "".join(f"\n    {ln}" for ln in str(error).rstrip("\n").splitlines())
    return text


# ----------------------------------------------------------------------------- files
def read_file(path: Path) -> tuple[list[str], int]:
    """The complete lines of ``path`` and the offset after the last one."""
    with path.open("rb") as fh:
        data = fh.read()
    end = data.rfind(b"\n") + 1
    return data[:end].decode(errors="replace").splitlines(), end


async def follow_file(path: Path, offset: int) -> AsyncIterator[str]:
    """Lines appended to ``path`` after ``offset``, as they come, until cancelled. A truncated
    or replaced (rotated) file is read again from its start."""
    pending = b""
    fh = path.open("rb")
    try:
        fh.seek(offset)
        inode = os.fstat(fh.fileno()).st_ino
        while True:
            chunk = fh.read()
            if chunk:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    yield raw.decode(errors="replace")
                continue
            try:
                st = os.stat(path)
            except FileNotFoundError:
                st = None
            if st is not None and (st.st_ino != inode or st.st_size < fh.tell()):
                fh.close()
                fh = path.open("rb")
                inode, pending = os.fstat(fh.fileno()).st_ino, b""
                continue
            await asyncio.sleep(POLL_INTERVAL)
    finally:
        fh.close()


# ----------------------------------------------------------------------------- pods
@dataclass(frozen=True)
class Container:
    """One container of a weir pod whose log can be read."""

    namespace: str
    pod: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.pod}/{self.name}"

    @property
    def path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log"


async def find_pods(api: ApiClient, selector: str, namespace: str | None) -> list[Obj]:
    """The pods matching ``selector`` (in ``namespace``, else everywhere), by namespace and
    name."""
    from weir.kube.informer import list_all  # noqa: PLC0415
    from weir.kube.resources import ResourceRef  # noqa: PLC0415

    pods = ResourceRef("", "v1", "pods", True, "Pod")
    items, _ = await list_all(api, pods, namespace=namespace, label_selector=selector)
    return sorted(
        items, key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"].get("name", ""))
    )


def containers(pods: Iterable[Mapping[str, Any]]) -> tuple[list[Container], list[str]]:
    """The containers that have started (so have a log) and, for the others, why not."""
    found: list[Container] = []
    skipped: list[str] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        statuses = {
            s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []
        }
        for c in (pod.get("spec") or {}).get("containers") or []:
            state = (statuses.get(c.get("name")) or {}).get("state") or {}
            last = (statuses.get(c.get("name")) or {}).get("lastState") or {}
            if "running" in state or "terminated" in state or "terminated" in last:
                found.append(Container(ns, name, str(c.get("name"))))
            else:
                phase = (pod.get("status") or {}).get("phase") or "Unknown"
                skipped.append(f"{ns}/{name} ({phase}: container {c.get('name')} has not started)")
    return found, skipped


def _split_timestamp(raw: str) -> tuple[str, str]:
    stamp, _, text = raw.partition(" ")
    return stamp, text


def choose_container(pod: Mapping[str, Any], container: str | None) -> str:
    """The container to read: ``container`` when the pod has it (init containers too), else
    the only one; :class:`~weir.errors.UsageError` naming the choices otherwise."""
    from weir.errors import UsageError  # noqa: PLC0415

    meta = pod.get("metadata") or {}
    where = f"{meta.get('namespace')}/{meta.get('name')}"
    spec = pod.get("spec") or {}
    names = [str(c.get("name")) for c in spec.get("containers") or []]
    init = [str(c.get("name")) for c in spec.get("initContainers") or []]
    if container is None:
        if len(names) != 1:
            raise UsageError(
                f"pod {where} has containers {', '.join(names)}: choose one with container="
            )
        return names[0]
    if container not in names and container not in init:
        raise UsageError(
            f"pod {where} has no container {container!r}: choose one of {', '.join(names + init)}"
        )
    return container


async def container_log(
    api: ApiClient,
    container: Container,
    *,
    timestamps: bool = False,
    tail_lines: int | None = None,
    previous: bool = False,
    since_seconds: int | None = None,
    limit_bytes: int | None = None,
    node: str | None = None,
) -> bytes:
    """The log of one container as the kubelet returns it (the one read of a pod log that
    ``weir logs``, the web UI and the MCP server share). A kubelet that cannot be reached is a
    :class:`~weir.errors.KubeError` that says so."""
    from weir.errors import KubeError  # noqa: PLC0415
    from weir.kube import transport  # noqa: PLC0415
    from weir.kube.errors import ServerError  # noqa: PLC0415

    params: transport.Params = {
        "container": container.name,
        "timestamps": timestamps or None,
        "tailLines": tail_lines,
        "previous": previous or None,
        "sinceSeconds": since_seconds,
        "limitBytes": limit_bytes,
    }
    try:
        async with transport.open_response(
            api, "GET", container.path, params=params, request_timeout=120
        ) as resp:
            return bytes(await resp.read())
    except ServerError as e:
        raise KubeError(
            f"the API server could not get the log of {container.namespace}/{container.pod} "
            f"from the kubelet of node {node or '(unknown)'}: {e.message}; check that the node "
            "is up and reachable"
        ) from e


async def pod_lines(
    api: ApiClient, container: Container, since_seconds: int | None = None
) -> list[tuple[str, str]]:
    """(kubelet timestamp, line) of a container's log."""
    body = await container_log(api, container, timestamps=True, since_seconds=since_seconds)
    return [_split_timestamp(ln) for ln in body.decode(errors="replace").splitlines() if ln]


async def follow_pod(
    api: ApiClient, container: Container, after: str | None
) -> AsyncIterator[tuple[str, str]]:
    """(kubelet timestamp, line) of a container's log as it grows, from the first line after
    the kubelet timestamp ``after`` (None: from now)."""
    import aiohttp  # noqa: PLC0415

    from weir.kube import transport  # noqa: PLC0415

    start = parse_time(after) if after else None
    since_time = (start or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    params: transport.Params = {
        "container": container.name,
        "timestamps": True,
        "follow": True,
        "sinceTime": since_time,
    }
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with transport.open_response(
        api, "GET", container.path, params=params, request_timeout=timeout
    ) as resp:
        async for raw in transport.iter_lines(resp.content.iter_any()):
            stamp, text = _split_timestamp(raw.decode(errors="replace"))
            seen = parse_time(stamp)
            if start is not None and seen is not None and seen <= start:
                continue  # already printed by the first read
            yield stamp, text
