"""The GitRepository reconciler: a Git commit becomes a tar.gz artifact in the storage.

One run (the runtime owns Ready / Reconciling / Stalled, the status patch and requeues):

1. read the auth Secret (``spec.secretRef``) and resolve ``spec.ref`` on the remote with
   ``git ls-remote`` — nothing is downloaded yet;
2. if the artifact of that revision is already stored, with the same ``spec.ignore`` and the
   same included artifacts, stop here (the no-op check);
3. otherwise check out exactly that commit (shallow), copy the included repositories' artifacts
   into it, archive it with the ignore rules and garbage-collect older artifacts.

Conditions and messages follow source-controller: ``ArtifactInStorage``, ``FetchFailed``,
``IncludeUnavailable``, ``stored artifact for revision '<rev>'``.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.log import kv
from weir.runtime import conditions
from weir.runtime.durations import parse_duration
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.errors import SourceError
from weir.source.git import checkout, resolve_remote
from weir.source.gitauth import GitAuth, decode_secret_data
from weir.source.ignore import IgnoreRules
from weir.source.revision import Commit, GitRef
from weir.source.storage import Storage, extract
from weir.source.verify import VerificationError, split_tag, verify_signature
from weir.types import Obj

log = logging.getLogger("weir.source.gitrepository")

KIND = "GitRepository"
STORAGE_KIND = "gitrepository"
DEFAULT_TIMEOUT = 60.0

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
FETCH_FAILED = "FetchFailed"
INCLUDE_UNAVAILABLE = "IncludeUnavailable"
ARTIFACT_OUTDATED = "ArtifactOutdated"
SOURCE_VERIFIED = "SourceVerified"
VERIFY_MODES = {"HEAD": "HEAD", "head": "HEAD", "Tag": "Tag", "TagAndHEAD": "TagAndHEAD"}

GetSource = Callable[[str | None, str], Obj | None]
"""Look up a GitRepository by (namespace, name) in the informer cache."""


class GitRepositoryReconciler(Reconciler):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` GitRepositories into artifacts."""

    def __init__(self, api: ApiClient, storage: Storage, get_source: GetSource) -> None:
        self.api = api
        self.storage = storage
        self.get_source = get_source

    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj["metadata"]
        await self.storage.remove_all(STORAGE_KIND, meta["namespace"], meta["name"])
        return None

    async def reconcile(self, obj: Obj) -> Result:
        spec = obj.get("spec") or {}
        status = obj.setdefault("status", {})
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        url = str(spec.get("url", ""))
        if not url.startswith(("http://", "https://", "ssh://")):
            raise Stalled("URLInvalid", f"invalid URL {url!r}: use http://, https:// or ssh://")
        mode = _verify_mode(spec)
        if mode is None:
            conditions.delete(obj, SOURCE_VERIFIED)
            status.pop("sourceVerificationMode", None)
        timeout = parse_duration(str(spec.get("timeout") or "60s"))
        try:
            ref = GitRef.from_spec(spec.get("ref"))
            auth = await self._auth(ns, spec, url)
            remote = await resolve_remote(url, ref, auth, timeout=timeout)
        except SourceError as e:
            raise self._fetch_failed(obj, e) from e

        includes = await self._includes(obj)
        ignore = spec.get("ignore")
        current = status.get("artifact") or {}
        if (
            current.get("revision") == remote.revision
            and status.get("observedIgnore") == ignore
            and _digests(status.get("includedArtifacts")) == _digests(includes)
            and self.storage.exists(current)
            and (mode is None or _verified(obj, mode))
        ):
            self.storage.set_artifact_url(current)  # follows a changed --storage-adv-addr
            self._stored(obj, remote.revision)
            return Result.success(
                f"stored artifact for revision '{remote.revision}'", revision=remote.revision
            )

        conditions.mark_true(
            obj, ARTIFACT_OUTDATED, "NewRevision", f"new upstream revision '{remote.revision}'"
        )
        work = Path(tempfile.mkdtemp(prefix="weir-git-"))
        try:
            try:
                commit = await checkout(
                    url,
                    ref,
                    auth,
                    work / "src",
                    timeout=timeout,
                    remote=remote,
                    tag_object=mode in ("Tag", "TagAndHEAD"),
                )
            except SourceError as e:
                raise self._fetch_failed(obj, e) from e
            if mode is not None:
                await self._verify(obj, mode, commit)
            await self._copy_includes(obj, includes, work / "src", work)
            rules = IgnoreRules.for_directory(work / "src", ignore)
            artifact = await self.storage.archive(
                work / "src",
                kind=STORAGE_KIND,
                namespace=ns,
                name=name,
                revision=commit.revision,
                ignore=rules,
                filename=f"{commit.hash}.tar.gz",
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        status["artifact"] = artifact
        if ignore is None:
            status.pop("observedIgnore", None)
        else:
            status["observedIgnore"] = ignore
        if includes:
            status["includedArtifacts"] = includes
            status["observedInclude"] = spec.get("include")
        else:
            status.pop("includedArtifacts", None)
            status.pop("observedInclude", None)
        self._stored(obj, commit.revision)
        with contextlib.suppress(OSError):
            await self.storage.garbage_collect(STORAGE_KIND, ns, name, artifact)
        log.info(
            "stored artifact",
            extra=kv(kind=KIND, namespace=ns, name=name, revision=commit.revision),
        )
        return Result.success(
            f"stored artifact for revision '{commit.revision}'", revision=commit.revision
        )

    # -- steps --------------------------------------------------------------------------------

    async def _verify(self, obj: Obj, mode: str, commit: Commit) -> None:
        """Check the signatures ``mode`` asks for; on failure nothing is stored (the artifact
        of the last verified revision stays) and SourceVerified says why."""
        spec = obj.get("spec") or {}
        ns = obj["metadata"]["namespace"]
        verified: list[str] = []
        try:
            keys = await self._verification_keys(ns, spec["verify"])
            if mode in ("Tag", "TagAndHEAD"):
                tag = commit.reference.removeprefix("refs/tags/")
                payload, signature = split_tag(commit.tag_object, tag)
                found = await verify_signature(payload, signature, keys, what=f"tag '{tag}'")
                verified.append(f"tag '{tag}' with key '{found.key}'")
            if mode in ("HEAD", "TagAndHEAD"):
                what = f"commit '{commit.hash}'"
                found = await verify_signature(commit.encoded, commit.signature, keys, what=what)
                verified.append(f"{what} with key '{found.key}'")
        except VerificationError as e:
            message = str(e)
            conditions.mark_false(obj, SOURCE_VERIFIED, e.reason, message)
            raise ReconcileError(e.reason, message) from e
        conditions.mark_true(
            obj, SOURCE_VERIFIED, "Succeeded", "verified signature of " + " and ".join(verified)
        )
        obj["status"]["sourceVerificationMode"] = mode

    async def _verification_keys(self, namespace: str, verify: Obj) -> list[str]:
        name = (verify.get("secretRef") or {}).get("name")
        if not name:
            raise VerificationError("spec.verify.secretRef is required: name a Secret of keys")
        try:
            secret = await kube.get(self.api, SECRETS, namespace, name)
        except NotFoundError as e:
            raise VerificationError(
                f"verification Secret '{namespace}/{name}' not found: create it with the "
                "ASCII-armoured public keys of the signers"
            ) from e
        data = decode_secret_data(secret.get("data"))
        # Every entry is an armoured OpenPGP key or keyring, except SSH keys (*.sshpub).
        return [v.decode(errors="replace") for k, v in data.items() if not k.endswith(".sshpub")]

    async def _auth(self, namespace: str, spec: Obj, url: str) -> GitAuth | None:
        ref = spec.get("secretRef")
        if not ref:
            return None
        try:
            secret = await kube.get(self.api, SECRETS, namespace, ref["name"])
        except NotFoundError as e:
            raise ReconcileError(
                "AuthenticationFailed",
                f"failed to get secret '{namespace}/{ref['name']}': secret not found; "
                "create it or fix spec.secretRef",
            ) from e
        return GitAuth.from_secret_data(decode_secret_data(secret.get("data")), url)

    def _fetch_failed(self, obj: Obj, err: SourceError) -> Exception:
        reason = getattr(err, "reason", "GitOperationFailed")
        message = str(err)
        conditions.mark_true(obj, FETCH_FAILED, reason, message)
        if getattr(err, "retryable", True):
            return ReconcileError(reason, message)
        return Stalled(reason, message)

    def _stored(self, obj: Obj, revision: str) -> None:
        message = f"stored artifact for revision '{revision}'"
        conditions.delete(obj, FETCH_FAILED)
        conditions.delete(obj, ARTIFACT_OUTDATED)
        conditions.delete(obj, INCLUDE_UNAVAILABLE)
        conditions.mark_true(obj, ARTIFACT_IN_STORAGE, "Succeeded", message)

    async def _includes(self, obj: Obj) -> list[Obj]:
        """The artifacts of ``spec.include`` repositories (same namespace), in spec order."""
        ns = obj["metadata"]["namespace"]
        out: list[Obj] = []
        for inc in (obj.get("spec") or {}).get("include") or []:
            name = (inc.get("repository") or {}).get("name", "")
            other = self.get_source(ns, name)
            artifact = ((other or {}).get("status") or {}).get("artifact")
            if not artifact:
                message = f"could not get included artifact of GitRepository '{ns}/{name}'"
                conditions.mark_true(obj, INCLUDE_UNAVAILABLE, "NotFound", message)
                raise ReconcileError("IncludeUnavailable", message)
            out.append(dict(artifact))
        return out

    async def _copy_includes(self, obj: Obj, includes: list[Obj], src: Path, work: Path) -> None:
        specs = (obj.get("spec") or {}).get("include") or []
        for i, (inc, artifact) in enumerate(zip(specs, includes, strict=True)):
            name = (inc.get("repository") or {}).get("name", "")
            tarball = self.storage.local_path(artifact)
            unpacked = work / f"include-{i}"
            extract(tarball, unpacked, artifact["digest"])
            from_dir = _inside(unpacked, inc.get("fromPath") or "")
            to_dir = _inside(src, inc.get("toPath") or name)
            if to_dir.exists():
                shutil.rmtree(to_dir)
            shutil.copytree(from_dir, to_dir, symlinks=True)


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise Stalled("IncludeUnavailable", f"include path {rel!r} points outside the repository")
    return target


def _verify_mode(spec: Obj) -> str | None:
    """``spec.verify.mode`` as Flux reads it (``head`` is ``HEAD``, the default); None when
    nothing is to be verified."""
    verify = spec.get("verify")
    if not verify:
        return None
    mode = VERIFY_MODES.get(str(verify.get("mode") or "HEAD"))
    if mode is None:
        raise Stalled(
            "InvalidVerificationMode",
            f"spec.verify.mode {verify.get('mode')!r}: use HEAD, Tag or TagAndHEAD",
        )
    if mode != "HEAD" and not (spec.get("ref") or {}).get("tag"):
        raise Stalled(
            "InvalidVerificationMode",
            f"spec.verify.mode {mode} verifies a tag: set spec.ref.tag, or use mode HEAD",
        )
    return mode


def _verified(obj: Obj, mode: str) -> bool:
    """The stored artifact was verified in this mode."""
    status = obj.get("status") or {}
    return conditions.is_true(obj, SOURCE_VERIFIED) and status.get("sourceVerificationMode") == mode


def _digests(artifacts: list[Obj] | None) -> list[str]:
    return [str(a.get("digest")) for a in artifacts or []]
