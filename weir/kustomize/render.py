"""What a Kustomization applies, rendered from a source artifact: the one pipeline the controller
(:mod:`weir.kustomize.reconciler`), ``weir build ks``/``weir diff ks``
(:mod:`weir.actions.build`) and the MCP server's ``diff_kustomization`` share.

1. :func:`render`: :func:`~weir.kustomize.build.build` (generate or load the kustomization,
   merge the spec's ``patches``, ``images``, ``components``, ``targetNamespace``,
   ``namePrefix``/``nameSuffix``, run the real kustomize), then the caller's
   :data:`Decryptor` (SOPS, see :mod:`weir.kustomize.sops`), then, with ``spec.postBuild``, the
   variables (from the caller's :data:`VariablesLoader`) and
   :func:`~weir.kustomize.substitute.substitute_all`. The result carries the digest the
   controller records in ``status.history``.
2. :func:`prepare_objects`: :func:`~weir.kustomize.metadata.prepare` with the spec's
   ``commonMetadata`` (normalized objects, commonMetadata, then the owner labels). Flux sets
   commonMetadata after substitution, so ``${...}`` in it is never substituted.

Callers differ only in what they hand in: where the artifact is, where the variables come from
(the cluster, or only the inline ones), strictness, remote bases and the timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from weir import yamlio
from weir.kustomize import metadata, sops
from weir.kustomize.build import Manifest, build_output, objects_digest
from weir.kustomize.generate import BuildSpec
from weir.kustomize.pool import BuildPool, default_pool
from weir.kustomize.sandbox import Limits
from weir.kustomize.substitute import substitute_job
from weir.kustomize.variables import load_variables
from weir.types import Obj

if TYPE_CHECKING:
    from pathlib import Path

    from kubernetes_asyncio.client import ApiClient

    from weir.api.kustomize import KustomizationSpec, PostBuild


VariablesLoader = Callable[["PostBuild"], Awaitable[Mapping[str, str]]]
"""``spec.postBuild`` -> the variables to substitute; only called when the spec has one, and
only after the build succeeded."""


Decryptor = Callable[[list[Obj]], Awaitable[list[Obj | None]]]
"""The built objects -> each one decrypted, or None when it needed no decryption (see
:func:`cluster_decryptor`); raises :class:`~weir.kustomize.errors.DecryptionError`."""


def cluster_decryptor(
    api: ApiClient,
    namespace: str,
    spec: KustomizationSpec,
    *,
    fallback: tuple[str, str] | None = None,
) -> Decryptor:
    """The controller's decryption: with ``spec.decryption``, the keys of its ``secretRef``
    (in ``namespace``) and of the controller-level ``fallback`` Secret (``--sops-age-secret``),
    read only when an object is encrypted; without it, an encrypted object is an error, as in
    Flux."""

    async def decrypt(objects: list[Obj]) -> list[Obj | None]:
        wanted = [o for o in objects if sops.is_encrypted(o) and not sops.decryption_disabled(o)]
        if not wanted:
            return [None] * len(objects)
        decryption = spec.decryption
        if decryption is None:
            sops.require_decryption(wanted)
            return [None] * len(objects)
        keyring = sops.Keyring()
        if decryption.secret_ref is not None:
            keyring = await _keyring(api, namespace, decryption.secret_ref.name)
        if fallback is not None:
            keyring = keyring.merged(await _keyring(api, *fallback))
        return sops.decrypt_objects(objects, keyring)

    return decrypt


async def _keyring(api: ApiClient, namespace: str, name: str) -> sops.Keyring:
    from weir.kube.apply import get  # noqa: PLC0415 -- weir.kube is big
    from weir.kube.errors import NotFoundError  # noqa: PLC0415
    from weir.kube.resources import SECRETS  # noqa: PLC0415
    from weir.kustomize.errors import DecryptionError  # noqa: PLC0415

    try:
        secret = await get(api, SECRETS, namespace, name)
    except NotFoundError as e:
        raise DecryptionError(
            f"decryption secret '{namespace}/{name}' not found: create it with the age key "
            "in an entry named '<anything>.agekey'"
        ) from e
    return sops.Keyring.from_secret_data(
        secret.get("data") or {}, source=f"decryption secret '{namespace}/{name}'"
    )


def cluster_variables(api: ApiClient, namespace: str) -> VariablesLoader:
    """The controller's variables: ``substituteFrom`` read from the cluster in ``namespace``,
    then the inline ``substitute`` map (:func:`~weir.kustomize.variables.load_variables`)."""

    async def load(post_build: PostBuild) -> Mapping[str, str]:
        return await load_variables(api, namespace, post_build)

    return load


def default_timeout(interval: float) -> float:
    """Flux: ``spec.timeout`` defaults to the interval minus 30s, at least 30s."""
    return max(interval - 30.0, 30.0)


def spec_timeout(spec: KustomizationSpec) -> float:
    """``spec.timeout`` in seconds, else :func:`default_timeout` of the interval."""
    from weir.runtime.durations import parse_duration  # noqa: PLC0415 -- weir.runtime is big

    if spec.timeout:
        return parse_duration(spec.timeout)
    return default_timeout(parse_duration(spec.interval))


@dataclass(frozen=True)
class Rendered:
    """The objects a Kustomization builds, after substitution (not yet prepared)."""

    objects: list[Obj]
    known_digest: str | None = None
    """The digest, when a build worker computed it already."""

    @cached_property
    def digest(self) -> str:
        """``sha256:<hex>`` of the objects as sorted YAML: the ``digest`` of Flux's
        ``status.history`` entries."""
        return self.known_digest or objects_digest(self.objects)


async def render(
    root: Path,
    spec: KustomizationSpec,
    *,
    variables: VariablesLoader,
    decrypt: Decryptor | None = None,
    strict: bool = True,
    allow_remote: bool = True,
    timeout: float,  # noqa: ASYNC109 - kustomize runs in a subprocess killed at the deadline
    limits: Limits | None = None,
    pool: BuildPool | None = None,
) -> Rendered:
    """Build ``spec.path`` of the artifact at ``root`` and substitute ``spec.postBuild`` (see
    the module docstring). ``strict``: an undefined variable without a default fails (the
    controller's default) instead of becoming empty (the flux CLI's); ``allow_remote=False`` is
    ``--no-remote-bases``. Raises :class:`~weir.kustomize.errors.KustomizeError` (and whatever
    ``variables`` raises). Without ``decrypt`` encrypted objects stay as they are (``weir
    build`` masks them)."""
    out = await build_output(
        root,
        BuildSpec.from_spec(spec),
        timeout=timeout,
        allow_remote=allow_remote,
        limits=limits,
        pool=pool,
    )
    return await post_build(
        out.manifests,
        out.digest,
        spec,
        variables=variables,
        decrypt=decrypt,
        strict=strict,
        timeout=timeout,
        pool=pool,
    )


async def post_build(
    manifests: list[Manifest],
    built_digest: str | None,
    spec: KustomizationSpec,
    *,
    variables: VariablesLoader,
    decrypt: Decryptor | None = None,
    strict: bool = True,
    timeout: float,  # noqa: ASYNC109 - enforced by the worker
    pool: BuildPool | None = None,
) -> Rendered:
    """The steps of :func:`render` after the build: decryption, then substitution (in a build
    worker, off the event loop)."""
    digest = built_digest
    if decrypt is not None:
        decrypted = await decrypt([m.object for m in manifests])
        if any(plain is not None for plain in decrypted):
            digest = None
        manifests = [
            m if plain is None else Manifest(yamlio.dump(plain), plain)
            for m, plain in zip(manifests, decrypted, strict=True)
        ]
    if spec.post_build is not None:
        values = await variables(spec.post_build)
        objects, digest = await (pool or default_pool()).call(
            substitute_job,
            manifests,
            dict(values),
            strict,
            spec.post_build.substitute_strategy,
            timeout=timeout,
        )
        return Rendered(objects, digest)
    objects = [m.object for m in manifests]
    if digest is None:
        digest = await (pool or default_pool()).call(objects_digest, objects, timeout=timeout)
    return Rendered(objects, digest)


def prepare_objects(
    objects: Iterable[Mapping[str, Any]], spec: KustomizationSpec, *, name: str, namespace: str
) -> list[Obj]:
    """The objects as the Kustomization ``namespace/name`` applies them:
    :func:`~weir.kustomize.metadata.prepare` with ``spec.commonMetadata``. The input objects
    are not modified."""
    cm = spec.common_metadata
    return metadata.prepare(
        objects,
        name=name,
        namespace=namespace,
        labels=cm.labels if cm else None,
        annotations=cm.annotations if cm else None,
    )
