"""``diff_kustomization``: what reconciling a Kustomization now would change in the cluster.

The Kustomization is built exactly as the controller builds it, with the controller's own
pipeline (:mod:`weir.kustomize.render`), from what the controller would build: its source's
current artifact is downloaded (digest checked), ``kustomize build`` runs on ``spec.path`` with
the spec's build settings, post-build variables are substituted and ``commonMetadata`` and the
owner labels set. The comparison is the one ``weir diff ks`` makes (:mod:`weir.actions.diff`,
on the controller's planner :func:`weir.ssa.apply.plan`): a server-side dry-run apply as
``kustomize-controller`` per object, compared with the live object the way the controller
decides what to apply; ``created``/``configured`` (with the fields that change)/``unchanged``/
``skipped``, and ``deleted`` for inventory entries garbage collection would remove. Objects the
API server refuses are listed in ``errors`` with its reason (the apply would fail the same way).

Nothing is written. Secret values are masked by the comparison; values substituted from
``substituteFrom`` Secrets are scrubbed from the whole answer.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.build import BuiltKustomization
from weir.actions.diff import CHANGING, ObjectDiff, diff_one
from weir.actions.masking import scrub
from weir.actions.objects import find_object, get_object, meta, status
from weir.api import KINDS
from weir.api.kustomize import KustomizationSpec
from weir.artifact.errors import ArtifactError
from weir.artifact.fetch import fetch_artifact
from weir.errors import UsageError
from weir.kube import apply as kapi
from weir.kube.errors import ApiError
from weir.kube.resources import SECRETS
from weir.kustomize.errors import KustomizeError
from weir.kustomize.render import cluster_variables, prepare_objects, render
from weir.kustomize.variables import variables_from_object
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import clip, respond
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import Name, Namespace
from weir.runtime.durations import parse_duration
from weir.types import Obj

DEFAULT_TIMEOUT = 60.0
MAX_FIELD_CHANGES = 40
"""Field changes shown per object (the rest are counted)."""


def scrub_all(value: Any, secrets: set[str]) -> Any:
    """``value`` with every string scrubbed of the secret values (recursively)."""
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, Mapping):
        return {k: scrub_all(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_all(v, secrets) for v in value]
    return value


def object_row(diff: ObjectDiff) -> Obj:
    """One object of the answer: ``Kind/namespace/name``, the action, its note, and at most
    :data:`MAX_FIELD_CHANGES` field changes (``path``, ``before``, ``after``)."""
    row: Obj = {"object": str(diff.ref), "action": str(diff.action)}
    if diff.note:
        row["note"] = diff.note
    if diff.changes:
        row["changes"] = [c.to_dict() for c in diff.changes[:MAX_FIELD_CHANGES]]
        if len(diff.changes) > MAX_FIELD_CHANGES:
            row["moreChanges"] = len(diff.changes) - MAX_FIELD_CHANGES
    return row


async def secret_values(api: ApiClient, namespace: str, spec: KustomizationSpec) -> set[str]:
    """The values of the ``substituteFrom`` Secrets (to scrub them from the diff)."""
    out: set[str] = set()
    for ref in (spec.post_build.substitute_from or []) if spec.post_build else []:
        if ref.kind != "Secret":
            continue
        try:
            secret = await kapi.get(api, SECRETS, namespace, ref.name)
        except ApiError:
            continue
        out.update(variables_from_object(secret).values())
    return out


async def build_objects(
    api: ApiClient, ks: Obj, spec: KustomizationSpec, artifact: Mapping[str, Any], limit: float
) -> list[Obj]:
    """The Kustomization's objects as the controller would apply them (strict substitution,
    remote bases allowed: the controller's defaults)."""
    m = meta(ks)
    name, namespace = str(m["name"]), str(m["namespace"])
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-mcp-diff-"))
    try:
        root = work / "artifact"
        await fetch_artifact(str(artifact["url"]), str(artifact["digest"]), root, timeout=limit)
        rendered = await render(
            root, spec, variables=cluster_variables(api, namespace), timeout=limit
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    return prepare_objects(rendered.objects, spec, name=name, namespace=namespace)


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def diff_kustomization(
        *,
        name: Name,
        namespace: Namespace = None,
        show_unchanged: Annotated[
            bool, Field(description="Also list the objects that would not change or are skipped.")
        ] = False,
    ) -> CallToolResult:
        """What reconciling this Kustomization now would change: builds it with weir's
        pipeline from its source's current artifact (kustomize build, post-build
        substitution) and compares each object with the cluster by server-side dry-run.
        Returns per object created/configured/unchanged/skipped/deleted (pruned) with the
        fields that change, and the objects the API server would refuse. Writes nothing;
        Secret values are masked."""
        api = await env.api()
        ns = env.namespace(namespace)
        info = KINDS["Kustomization"]
        ks = await get_object(api, info, ns, name)
        spec = KustomizationSpec.model_validate(ks.get("spec") or {})
        if spec.kube_config is not None:
            raise UsageError(
                f"Kustomization {ns}/{name} applies to a remote cluster (spec.kubeConfig): "
                "diff against remote clusters is not supported"
            )
        src = spec.source_ref
        src_ns = src.namespace or ns
        source_info = KINDS.get(src.kind)
        source = await find_object(api, source_info, src_ns, src.name) if source_info else None
        artifact = status(source).get("artifact") if source else None
        what = kinds.display(src.kind, src_ns, src.name)
        if not artifact:
            raise UsageError(
                f"{what} has no artifact to build from: run explain_failure on it"
                if source
                else f"source {what} not found: check spec.sourceRef of Kustomization {ns}/{name}"
            )
        timeout = parse_duration(spec.timeout) if spec.timeout else DEFAULT_TIMEOUT
        data: Obj = {
            "kustomization": f"{ns}/{name}",
            "revision": artifact.get("revision"),
            "path": spec.path or "./",
        }
        secrets = await secret_values(api, ns, spec)
        try:
            objects = await build_objects(api, ks, spec, artifact, timeout)
        except (KustomizeError, ArtifactError) as e:
            data["build"] = "failed"
            data["error"] = clip(str(e), 2000)
            return respond(scrub_all(data, secrets), env.settings.max_output)
        found = await diff_one(api, BuiltKustomization(ks, spec, objects))
        counts: dict[str, int] = {}
        for one in found.objects:
            counts[str(one.action)] = counts.get(str(one.action), 0) + 1
        data["differs"] = bool(found.changed)
        data["summary"] = counts
        data["objects"] = [
            object_row(o) for o in found.objects if show_unchanged or o.action in CHANGING
        ]
        if found.errors:
            data["errors"] = found.errors
        if spec.service_account_name:
            data["note"] = (
                f"the controller applies as service account {spec.service_account_name}; "
                f"this diff was computed as {env.identity}"
            )
        return respond(scrub_all(data, secrets), env.settings.max_output)

    return [ToolSpec(diff_kustomization, "Diff a Kustomization against the cluster", READ)]
