"""What a valid webhook call does: annotate the Receiver's ``spec.resources`` with
``reconcile.fluxcd.io/requestedAt`` so that their controllers reconcile them at once.

Each entry names a kind (``apiVersion`` optional: the version weir serves, or Flux's current
one for the image and Flux Operator kinds), a namespace (the Receiver's when empty) and a name,
or ``*`` with ``matchLabels`` for every object carrying those labels. ``spec.resourceFilter``
and an entry's ``filter`` are CEL expressions over ``res`` (the object) and ``req`` (the
webhook's JSON body, ``{}`` when there is none); an object is annotated only when they are
true, e.g. ``res.metadata.name in req.commits.map(c, c.id)`` or
``req.ref == 'refs/heads/' + res.spec.ref.branch``.

The value is Go's ``metav1.Now().String()`` (``2024-05-01 12:00:00.123456789 +0000 UTC``),
as notification-controller writes it; any new value asks for a run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cel
from cel import stdlib
from kubernetes_asyncio.client import ApiClient

from weir.api.kinds import KINDS
from weir.errors import ConfigError, WeirError
from weir.kube import apply
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef, mapper_for
from weir.log import kv

log = logging.getLogger("weir.notification")

Obj = dict[str, Any]
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FIELD_MANAGER = "notification-controller"
DEFAULT_API_VERSIONS = {
    "ImageRepository": "image.toolkit.fluxcd.io/v1",
    "ImagePolicy": "image.toolkit.fluxcd.io/v1",
    "ImageUpdateAutomation": "image.toolkit.fluxcd.io/v1",
    "ArtifactGenerator": "source.extensions.fluxcd.io/v1beta1",
    "ExternalArtifact": "source.toolkit.fluxcd.io/v1",
    "FluxInstance": "fluxcd.controlplane.io/v1",
    "ResourceSet": "fluxcd.controlplane.io/v1",
    "ResourceSetInputProvider": "fluxcd.controlplane.io/v1",
}


class ResourceFilterError(ConfigError):
    """A ``resourceFilter`` or ``filter`` that does not compile or does not give a boolean."""


def requested_at_value(now_ns: int | None = None) -> str:
    """Go's ``time.Time.String()`` of now in UTC (trailing zeros of the fraction dropped)."""
    ns = time.time_ns() if now_ns is None else now_ns
    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
    fraction = f"{frac:09d}".rstrip("0")
    return f"{stamp}{'.' + fraction if fraction else ''} +0000 UTC"


def compile_filter(expression: str, where: str) -> cel.Program:
    try:
        return cel.compile(expression)
    except (ValueError, RuntimeError) as e:
        raise ResourceFilterError(
            f"{where} {expression!r} does not compile: {e}; fix the expression"
        ) from e


def _evaluate(program: cel.Program, expression: str, obj: Obj, request: Any) -> bool:
    context = cel.Context({"res": obj, "req": request if request is not None else {}})
    stdlib.add_stdlib_to_context(context)
    try:
        value = program.execute(context)
    except Exception as e:  # the library raises several types for evaluation errors
        raise ResourceFilterError(f"filter {expression!r} failed: {e}") from e
    if not isinstance(value, bool):
        raise ResourceFilterError(f"filter {expression!r} gave {value!r}, not a boolean")
    return value


def _passes(checks: list[tuple[cel.Program, str]], obj: Obj, request: Any) -> bool:
    """All filters true (run in a thread: a large webhook body must not hold the event loop)."""
    return all(_evaluate(p, expr, obj, request) for p, expr in checks)


@dataclass
class Outcome:
    """What one webhook call annotated, and what went wrong."""

    annotated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class ResourceRequester:
    """Annotates the resources of a Receiver (see the module docstring)."""

    def __init__(self, api: ApiClient, *, no_cross_namespace_refs: bool = False) -> None:
        self.api = api
        self.no_cross_namespace_refs = no_cross_namespace_refs

    async def resource_of(self, entry: Mapping[str, Any]) -> ResourceRef:
        kind = str(entry.get("kind") or "")
        api_version = str(entry.get("apiVersion") or "")
        served = KINDS.get(kind)
        if served is not None and api_version in ("", served.api_version):
            return served.resource
        api_version = api_version or DEFAULT_API_VERSIONS.get(kind, "")
        if not api_version:
            raise ConfigError(f"apiVersion must be specified for kind '{kind}'")
        return await mapper_for(self.api).resolve(api_version, kind)

    async def request(self, receiver: Mapping[str, Any], payload: Any) -> Outcome:
        meta, spec = receiver.get("metadata") or {}, receiver.get("spec") or {}
        namespace = str(meta.get("namespace") or "")
        outcome = Outcome()
        global_filter = spec.get("resourceFilter")
        programs = []
        if global_filter:
            programs.append(
                (compile_filter(str(global_filter), "spec.resourceFilter"), str(global_filter))
            )
        for entry in spec.get("resources") or []:
            label = _label(entry, namespace)
            error = await self._try_one(entry, namespace, programs, payload, outcome)
            if error is not None:
                outcome.errors.append(f"{label}: {error}")
                log.error(
                    "unable to request reconciliation",
                    extra=kv(
                        receiver=f"{namespace}/{meta.get('name')}", resource=label, error=error
                    ),
                )
        return outcome

    async def _try_one(
        self,
        entry: Mapping[str, Any],
        receiver_ns: str,
        programs: list[tuple[cel.Program, str]],
        payload: Any,
        outcome: Outcome,
    ) -> str | None:
        try:
            await self._request_one(entry, receiver_ns, programs, payload, outcome)
        except WeirError as e:
            return str(e)
        return None

    async def _request_one(
        self,
        entry: Mapping[str, Any],
        receiver_ns: str,
        programs: list[tuple[cel.Program, str]],
        payload: Any,
        outcome: Outcome,
    ) -> None:
        ns = str(entry.get("namespace") or receiver_ns)
        if self.no_cross_namespace_refs and ns != receiver_ns:
            raise ConfigError(
                f"cannot reconcile objects in namespace '{ns}': cross-namespace references "
                "have been blocked"
            )
        checks = list(programs)
        if entry.get("filter"):
            expr = str(entry["filter"])
            checks.append((compile_filter(expr, "resources[].filter"), expr))
        resource = await self.resource_of(entry)
        name = str(entry.get("name") or "")
        if name == "*":
            labels = entry.get("matchLabels") or {}
            if not labels:
                raise ConfigError("matchLabels field not set when using wildcard '*' as name")
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            objects, _ = await list_all(self.api, resource, namespace=ns, label_selector=selector)
        else:
            objects = [await apply.get(self.api, resource, ns, name)]
        for obj in objects:
            ref = f"{resource.kind or entry.get('kind')}/{ns}/{obj['metadata']['name']}"
            if checks and not await asyncio.to_thread(_passes, checks, obj, payload):
                outcome.skipped.append(ref)
                continue
            body = {"metadata": {"annotations": {REQUESTED_AT: requested_at_value()}}}
            await apply.patch(
                self.api, resource, ns, obj["metadata"]["name"], body, field_manager=FIELD_MANAGER
            )
            outcome.annotated.append(ref)


def _label(entry: Mapping[str, Any], namespace: str) -> str:
    return f"{entry.get('kind')}/{entry.get('namespace') or namespace}/{entry.get('name')}"
