"""The GitRepository reconciler: a Git commit becomes a tar.gz artifact in the storage.

One run (the runtime owns Ready / Reconciling / Stalled, the status patch and requeues):

The run is the source skeleton (:mod:`weir.source.skeleton`) over the typed spec:

1. read the auth Secret (``spec.secretRef``) and resolve ``spec.ref`` on the remote with
   ``git ls-remote`` — nothing is downloaded yet;
2. if the artifact of that revision is already stored, with the same ``spec.ignore`` and the
   same included artifacts, stop here (the no-op check);
3. otherwise check out exactly that commit (shallow), copy the included repositories' artifacts
   into it, archive it with the ignore rules and garbage-collect older artifacts.

Without ``spec.include`` the checkout is kept between runs, one per GitRepository (in a private
temporary directory, removed on a URL change, a failed run, deletion and shutdown): a new
commit fetches only the objects the clone lacks and rewrites only the files that changed
(:func:`weir.source.git.checkout` with ``update``); the tree archived is exactly the commit's,
as from a new checkout. With includes, whose content is copied into the tree, every run checks
out afresh.

Conditions and messages follow source-controller: ``ArtifactInStorage``, ``FetchFailed``,
``IncludeUnavailable``, ``stored artifact for revision '<rev>'``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kubernetes_asyncio.client import ApiClient

from weir.api.source import GitRepositorySpec
from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.log import kv
from weir.runtime import conditions
from weir.runtime.durations import parse_duration
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.git import checkout, resolve_remote
from weir.source.gitauth import GitAuth, decode_secret_data
from weir.source.ignore import IgnoreRules
from weir.source.revision import Commit, GitRef, RemoteRevision
from weir.source.skeleton import SourceReconciler, SourceRun, read_secret_data
from weir.source.storage import Artifact, Storage, extract
from weir.source.verify import VerificationError, split_tag, verify_signature
from weir.types import Obj

log = logging.getLogger("weir.source.gitrepository")

KIND = "GitRepository"
STORAGE_KIND = "gitrepository"
DEFAULT_TIMEOUT = 60.0

INCLUDE_UNAVAILABLE = "IncludeUnavailable"
SOURCE_VERIFIED = "SourceVerified"
VERIFY_MODES = {"HEAD": "HEAD", "head": "HEAD", "Tag": "Tag", "TagAndHEAD": "TagAndHEAD"}

GetSource = Callable[[str | None, str], Obj | None]
"""Look up a GitRepository by (namespace, name) in the informer cache."""


@dataclass
class _Remote:
    """What :meth:`GitRepositoryReconciler.resolve` found."""

    url: str
    ref: GitRef
    auth: GitAuth | None
    timeout: float
    remote: RemoteRevision
    mode: str | None
    includes: list[Obj]


class GitRepositoryReconciler(SourceReconciler[GitRepositorySpec, _Remote]):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` GitRepositories into artifacts."""

    kind = KIND
    storage_kind = STORAGE_KIND
    spec_model = GitRepositorySpec

    def __init__(self, api: ApiClient, storage: Storage, get_source: GetSource) -> None:
        super().__init__(api, storage)
        self.get_source = get_source
        self._clones: dict[tuple[str, str], tuple[str, Path]] = {}
        """(namespace, name) -> (URL, work tree) of the kept clones."""
        self._clone_base: Path | None = None

    def precheck(self, spec: Obj) -> None:
        url = str(spec.get("url", ""))
        if not url.startswith(("http://", "https://", "ssh://")):
            raise Stalled("URLInvalid", f"invalid URL {url!r}: use http://, https:// or ssh://")

    async def resolve(self, run: SourceRun[GitRepositorySpec]) -> _Remote:
        mode = _verify_mode(run.raw_spec)
        if mode is None:
            conditions.delete(run.obj, SOURCE_VERIFIED)
            run.status.pop("sourceVerificationMode", None)
        timeout = parse_duration(run.spec.timeout or "60s")
        ref = GitRef.from_spec(run.raw_spec.get("ref"))
        auth = await self._auth(run.namespace, run.spec, run.spec.url)
        remote = await resolve_remote(run.spec.url, ref, auth, timeout=timeout)
        includes = await self._includes(run)
        return _Remote(run.spec.url, ref, auth, timeout, remote, mode, includes)

    def revision_of(self, fetched: _Remote) -> str:
        return fetched.remote.revision

    def up_to_date(self, run: SourceRun[GitRepositorySpec], fetched: _Remote) -> bool:
        return (
            run.status.get("observedIgnore") == run.spec.ignore
            and _digests(run.status.get("includedArtifacts")) == _digests(fetched.includes)
            and (fetched.mode is None or _verified(run.obj, fetched.mode))
        )

    async def store(self, run: SourceRun[GitRepositorySpec], fetched: _Remote) -> Artifact:
        if fetched.includes:  # the includes are copied into the tree: a new checkout each time
            work = Path(tempfile.mkdtemp(prefix="weir-git-"))
            try:
                return await self._store(run, fetched, work / "src", work, update=False)
            finally:
                await asyncio.to_thread(shutil.rmtree, work, True)
        src = await self._clone_dir(run.namespace, run.name, fetched.url)
        try:
            return await self._store(run, fetched, src, src.parent, update=True)
        except BaseException:
            await self.forget_clone(run.namespace, run.name)  # the next run starts afresh
            raise

    async def _store(
        self,
        run: SourceRun[GitRepositorySpec],
        fetched: _Remote,
        src: Path,
        work: Path,
        *,
        update: bool,
    ) -> Artifact:
        started = time.monotonic()
        commit = await checkout(
            fetched.url,
            fetched.ref,
            fetched.auth,
            src,
            timeout=fetched.timeout,
            remote=fetched.remote,
            tag_object=fetched.mode in ("Tag", "TagAndHEAD"),
            update=update,
        )
        if fetched.mode is not None:
            await self._verify(run.obj, fetched.mode, commit)
        await self._copy_includes(run.obj, fetched.includes, src, work)
        rules = IgnoreRules.for_directory(src, run.spec.ignore)
        fetched_at = time.monotonic()
        artifact = await self.storage.archive(
            src,
            kind=STORAGE_KIND,
            namespace=run.namespace,
            name=run.name,
            revision=commit.revision,
            ignore=rules,
            filename=f"{commit.hash}.tar.gz",
        )
        log.info(
            "checked out and archived",
            extra=kv(
                namespace=run.namespace,
                name=run.name,
                revision=commit.revision,
                kept_clone=update,
                checkout_seconds=round(fetched_at - started, 3),
                archive_seconds=round(time.monotonic() - fetched_at, 3),
            ),
        )
        return artifact

    # -- kept clones --------------------------------------------------------------------------

    async def _clone_dir(self, namespace: str, name: str, url: str) -> Path:
        """The kept clone of a GitRepository (a new one when its URL changed)."""
        key = (namespace, name)
        kept = self._clones.get(key)
        if kept is not None and kept[0] != url:
            await self.forget_clone(namespace, name)
            kept = None
        if kept is None:
            path = Path(tempfile.mkdtemp(prefix="clone-", dir=self._clone_root())) / "src"
            kept = self._clones[key] = (url, path)
        return kept[1]

    def _clone_root(self) -> Path:
        if self._clone_base is None:
            self._clone_base = Path(tempfile.mkdtemp(prefix="weir-git-clones-"))
        return self._clone_base

    async def forget_clone(self, namespace: str, name: str) -> None:
        """Remove the kept clone of a GitRepository (on failure, URL change and deletion)."""
        kept = self._clones.pop((namespace, name), None)
        if kept is not None:
            await asyncio.to_thread(shutil.rmtree, kept[1].parent, True)

    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj["metadata"]
        await self.forget_clone(meta["namespace"], meta["name"])
        return await super().finalize(obj)

    async def close(self) -> None:
        self._clones.clear()
        if self._clone_base is not None:
            await asyncio.to_thread(shutil.rmtree, self._clone_base, True)
            self._clone_base = None

    def observe(self, run: SourceRun[GitRepositorySpec], fetched: _Remote) -> None:
        status = run.status
        if run.spec.ignore is None:
            status.pop("observedIgnore", None)
        else:
            status["observedIgnore"] = run.spec.ignore
        if fetched.includes:
            status["includedArtifacts"] = fetched.includes
            status["observedInclude"] = run.raw_spec.get("include")
        else:
            status.pop("includedArtifacts", None)
            status.pop("observedInclude", None)

    def stored(self, run: SourceRun[GitRepositorySpec], revision: str) -> Result:
        conditions.delete(run.obj, INCLUDE_UNAVAILABLE)
        return super().stored(run, revision)

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

    async def _auth(self, namespace: str, spec: GitRepositorySpec, url: str) -> GitAuth | None:
        if spec.secret_ref is None:
            return None
        data = await read_secret_data(self.api, namespace, spec.secret_ref.name)
        return GitAuth.from_secret_data(data, url)

    async def _includes(self, run: SourceRun[GitRepositorySpec]) -> list[Obj]:
        """The artifacts of ``spec.include`` repositories (same namespace), in spec order."""
        ns = run.namespace
        out: list[Obj] = []
        for inc in run.spec.include or []:
            name = inc.repository.name
            other = self.get_source(ns, name)
            artifact = ((other or {}).get("status") or {}).get("artifact")
            if not artifact:
                message = f"could not get included artifact of GitRepository '{ns}/{name}'"
                conditions.mark_true(run.obj, INCLUDE_UNAVAILABLE, "NotFound", message)
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
