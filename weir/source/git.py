"""Fetching Git repositories with the git CLI.

- :func:`resolve_remote` answers "which commit does ``spec.ref`` point at now?" with
  ``git ls-remote``: it downloads no objects, so comparing its revision with
  ``status.artifact.revision`` is the cheap no-op check of every reconciliation.
- :func:`checkout` fetches exactly that commit (shallow, ``--depth 1`` by default) into an empty
  directory and checks it out.

Both take the URL (``http://``, ``https://`` or ``ssh://``), a :class:`~weir.source.revision.GitRef`
and optional :class:`~weir.source.gitauth.GitAuth`; credentials never appear in argv.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from weir.artifact.errors import InvalidVersionError
from weir.artifact.semver import Constraint, select_highest
from weir.source.errors import (
    EmptyRepositoryError,
    GitError,
    GitNotFoundError,
    InvalidRefError,
)
from weir.source.gitauth import GitAuth, GitEnvironment, git_environment, split_url_credentials
from weir.source.gitcmd import run_git
from weir.source.revision import (
    Commit,
    GitRef,
    RemoteRevision,
    Signature,
    format_revision,
)

DEFAULT_TIMEOUT = 60.0
"""Flux's default ``spec.timeout`` for GitRepository."""

_REF_TEXT = re.compile(r"^[^\s\x00-\x1f\x7f~^:?*\[\\]+$")
_PEELED = "^{}"


def _check_ref_text(field: str, value: str | None) -> None:
    if value is None:
        return
    if not value or value.startswith(("-", "/")) or ".." in value or not _REF_TEXT.match(value):
        raise InvalidRefError(f"spec.ref.{field} {value!r} is not a valid git reference name")


def _validate(ref: GitRef) -> None:
    ref.validate()
    _check_ref_text("branch", ref.branch)
    _check_ref_text("tag", ref.tag)
    _check_ref_text("name", ref.name)
    if ref.semver is not None:
        try:
            Constraint(ref.semver)
        except InvalidVersionError as e:
            raise InvalidRefError(str(e)) from e


def _prepare(url: str, auth: GitAuth | None) -> tuple[str, GitAuth | None]:
    clean, url_auth = split_url_credentials(url)
    if url_auth is not None and (auth is None or auth.authorization is None):
        base = auth or GitAuth()
        auth = GitAuth(
            **{**base.__dict__, "username": url_auth.username, "password": url_auth.password}
        )
    if auth is not None:
        auth.validate(clean)
    return clean, auth


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._end = asyncio.get_running_loop().time() + timeout

    def left(self) -> float:
        return self._end - asyncio.get_running_loop().time()


async def ls_remote(
    url: str,
    auth: GitAuth | None = None,
    patterns: Sequence[str] = (),
    *,
    tags_only: bool = False,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the git process is killed at the deadline
) -> dict[str, str]:
    """``git ls-remote``: ref name -> object id. Peeled tags appear as ``refs/tags/x^{}``."""
    clean, auth = _prepare(url, auth)
    deadline = _Deadline(timeout)
    with git_environment(clean, auth) as genv:
        return await _ls_remote(clean, genv, patterns, deadline, tags_only=tags_only)


async def _ls_remote(
    url: str,
    genv: GitEnvironment,
    patterns: Sequence[str],
    deadline: _Deadline,
    *,
    tags_only: bool = False,
) -> dict[str, str]:
    args = ["ls-remote"]
    if tags_only:
        args.append("--tags")
    args += [url, *patterns]
    result = await run_git(
        args,
        env=genv.env,
        timeout=deadline.left(),
        budget=deadline.timeout,
        what=f"list references of {url}",
        redact=genv.redact,
    )
    refs: dict[str, str] = {}
    for line in result.stdout.decode(errors="replace").splitlines():
        sha, _, name = line.partition("\t")
        if name:
            refs[name] = sha
    return refs


def _peeled(refs: dict[str, str], name: str) -> str | None:
    return refs.get(name + _PEELED) or refs.get(name)


async def _not_found(
    url: str, genv: GitEnvironment, deadline: _Deadline, what: str, hint: str
) -> GitNotFoundError:
    """A not-found error, or :class:`EmptyRepositoryError` when the remote has no refs at all."""
    everything = await _ls_remote(url, genv, (), deadline)
    if not everything:
        return EmptyRepositoryError(
            f"git repository {url} is empty: push a first commit to it, then reconcile again"
        )
    return GitNotFoundError(f"{what} not found in {url}: {hint}")


async def _resolve(
    url: str, ref: GitRef, genv: GitEnvironment, deadline: _Deadline
) -> RemoteRevision:
    kind = ref.kind
    if kind == "commit":
        assert ref.commit is not None
        if ref.branch:
            name = f"refs/heads/{ref.branch}"
            refs = await _ls_remote(url, genv, [name], deadline)
            if name not in refs:
                raise await _not_found(
                    url, genv, deadline, f"branch '{ref.branch}'", "check spec.ref.branch"
                )
            return RemoteRevision(name, ref.commit, format_revision(name, ref.commit))
        # Nothing to resolve, but prove that the repository is reachable with these credentials.
        await _ls_remote(url, genv, ["HEAD"], deadline)
        return RemoteRevision("", ref.commit, format_revision("", ref.commit))

    if kind == "name":
        assert ref.name is not None
        refs = await _ls_remote(url, genv, [ref.name, ref.name + _PEELED], deadline)
        sha = _peeled(refs, ref.name)
        if sha is None:
            raise await _not_found(
                url, genv, deadline, f"reference '{ref.name}'", "check spec.ref.name"
            )
        return RemoteRevision(ref.name, sha, format_revision(ref.name, sha, absolute=True))

    if kind == "semver":
        assert ref.semver is not None
        refs = await _ls_remote(url, genv, [], deadline, tags_only=True)
        tags = {
            n.removeprefix("refs/tags/").removesuffix(_PEELED)
            for n in refs
            if n.startswith("refs/tags/")
        }
        chosen = select_highest(sorted(tags), ref.semver)
        if chosen is None:
            raise GitNotFoundError(
                f"no tag in {url} matches semver range '{ref.semver}' "
                f"({len(tags)} tags found): push a matching tag or widen spec.ref.semver"
            )
        name = f"refs/tags/{chosen}"
        sha = _peeled(refs, name)
        assert sha is not None
        return RemoteRevision(name, sha, format_revision(name, sha))

    if kind == "tag":
        name = f"refs/tags/{ref.tag}"
        refs = await _ls_remote(url, genv, [name, name + _PEELED], deadline)
        sha = _peeled(refs, name)
        if sha is None:
            raise await _not_found(url, genv, deadline, f"tag '{ref.tag}'", "check spec.ref.tag")
        return RemoteRevision(name, sha, format_revision(name, sha))

    branch = ref.effective_branch
    name = f"refs/heads/{branch}"
    refs = await _ls_remote(url, genv, [name], deadline)
    if name not in refs:
        hint = "check spec.ref.branch"
        if not ref.branch:
            hint = (
                "no spec.ref was given, so Flux's default branch 'master' was used; "
                "set spec.ref.branch"
            )
        raise await _not_found(url, genv, deadline, f"branch '{branch}'", hint)
    sha = refs[name]
    return RemoteRevision(name, sha, format_revision(name, sha))


async def resolve_remote(
    url: str,
    ref: GitRef | None = None,
    auth: GitAuth | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - spec.timeout, enforced by killing git
) -> RemoteRevision:
    """The commit ``ref`` points at on the remote, without downloading any objects."""
    ref = ref or GitRef()
    _validate(ref)
    clean, auth = _prepare(url, auth)
    deadline = _Deadline(timeout)
    with git_environment(clean, auth) as genv:
        return await _resolve(clean, ref, genv, deadline)


async def checkout(
    url: str,
    ref: GitRef | None,
    auth: GitAuth | None,
    dest: str | os.PathLike[str],
    depth: int = 1,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - spec.timeout, enforced by killing git
    remote: RemoteRevision | None = None,
    recurse_submodules: bool = False,
    sparse_checkout: Sequence[str] | None = None,
    tag_object: bool = False,
    update: bool = False,
) -> Commit:
    """Fetch the commit ``ref`` resolves to and check it out into ``dest`` (created if missing,
    must be empty). ``depth=0`` fetches full history.

    With ``update``, ``dest`` may hold an earlier checkout made by this function (of the same
    URL: the caller keeps track): only the objects it lacks are fetched, and the checkout
    rewrites only the files that differ (``checkout --force``, then ``clean -ffdx``: the tree
    is exactly the commit's, as in a new checkout).

    Pass the :class:`RemoteRevision` from a preceding :func:`resolve_remote` as ``remote`` to
    check out exactly that commit without listing the remote again.
    """
    ref = ref or GitRef()
    _validate(ref)
    clean, auth = _prepare(url, auth)
    reuse = (
        update and not (sparse_checkout or recurse_submodules) and (Path(dest) / ".git").is_dir()
    )
    target = Path(dest) if reuse else _empty_dir(dest)
    deadline = _Deadline(timeout)
    with git_environment(clean, auth) as genv:
        if remote is None:
            remote = await _resolve(clean, ref, genv, deadline)

        async def git(*args: str, what: str) -> bytes:
            res = await run_git(
                list(args),
                env=genv.env,
                timeout=deadline.left(),
                budget=deadline.timeout,
                what=what,
                cwd=str(target),
                redact=genv.redact,
            )
            return res.stdout

        if not reuse:
            await git(
                "init", "--quiet", "--template=", ".", what="initialise the checkout directory"
            )
        await _fetch(git, clean, remote, depth)
        if reuse:
            await git(
                "checkout",
                "--quiet",
                "--force",
                "--detach",
                remote.hash,
                what=f"check out {remote.hash}",
            )
            await git("clean", "-ffdxq", what="remove files the commit does not have")
        else:
            await git(
                "checkout", "--quiet", "--detach", remote.hash, what=f"check out {remote.hash}"
            )
        if update:
            # A ref to what is checked out: the next fetch offers it to the server, which then
            # sends only the objects it lacks (without a ref, git offers nothing).
            await git("update-ref", KEPT_REF, remote.hash, what="remember the checked-out commit")
        if sparse_checkout:
            dirs = [d.removeprefix("./").strip("/") for d in sparse_checkout]
            await git("sparse-checkout", "set", "--", *dirs, what="apply sparse checkout")
        if recurse_submodules:
            args = ["submodule", "update", "--init", "--recursive"]
            if depth > 0:
                args.append(f"--depth={depth}")
            await git(*args, what="update submodules")
        raw = await git("cat-file", "commit", remote.hash, what="read the commit")
        tag = b""
        if tag_object and remote.reference.startswith("refs/tags/"):
            local = remote.reference
            await git(
                "fetch",
                "--quiet",
                "--no-tags",
                "--depth=1",
                clean,
                f"+{local}:{local}",
                what=f"fetch the tag object of {remote.reference}",
            )
            kind = (await git("cat-file", "-t", local, what="read the tag")).decode().strip()
            if kind == "tag":
                tag = await git("cat-file", "tag", local, what="read the tag object")
    commit = parse_commit(raw, remote.hash, remote.reference, remote.revision)
    return dataclasses.replace(commit, tag_object=tag) if tag else commit


KEPT_REF = "refs/weir/kept"
"""The ref an updatable checkout (``checkout(update=True)``) keeps at its commit."""


def _empty_dir(dest: str | os.PathLike[str]) -> Path:
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise GitError(f"checkout directory {target} is not empty; give an empty directory")
    return target


async def _fetch(git: _GitFn, url: str, remote: RemoteRevision, depth: int) -> None:
    depth_args = [f"--depth={depth}"] if depth > 0 else []
    what = f"fetch {remote.revision} from {url}"
    try:
        await git("fetch", "--quiet", "--no-tags", *depth_args, url, remote.hash, what=what)
        return
    except GitNotFoundError:
        if not remote.reference:
            raise
    # The server does not let clients ask for a commit by id (protocol v0 without
    # uploadpack.allowReachableSHA1InWant): fetch the reference and check where it points.
    await git("fetch", "--quiet", "--no-tags", *depth_args, url, remote.reference, what=what)
    head = (await git("rev-parse", "FETCH_HEAD^{commit}", what="read FETCH_HEAD")).decode().strip()
    if head == remote.hash:
        return
    if depth > 0:  # a commit below the tip (commit + branch): fetch the whole branch
        await git("fetch", "--quiet", "--no-tags", url, remote.reference, what=what)
    try:
        await git("cat-file", "-e", f"{remote.hash}^{{commit}}", what="find the commit")
    except GitError as exc:
        raise GitNotFoundError(
            f"commit {remote.hash} is not on {remote.reference} in {url} (the reference moved "
            "while fetching, or the commit is not on that branch); reconcile again"
        ) from exc


class _GitFn(Protocol):
    async def __call__(self, *args: str, what: str) -> bytes: ...


_SIG_LINE = re.compile(rb"^(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)$")


def _signature(value: bytes) -> Signature | None:
    m = _SIG_LINE.match(value)
    if m is None:
        return None
    offset = timedelta(hours=int(m[5]), minutes=int(m[6]))
    tz = timezone(-offset if m[4] == b"-" else offset)
    return Signature(
        name=m[1].decode(errors="replace"),
        email=m[2].decode(errors="replace"),
        when=datetime.fromtimestamp(int(m[3]), tz),
    )


def parse_commit(raw: bytes, sha: str, reference: str, revision: str) -> Commit:
    """Build a :class:`Commit` from ``git cat-file commit`` output."""
    header, _, message = raw.partition(b"\n\n")
    encoded_lines: list[bytes] = []
    signature_lines: list[bytes] = []
    author = committer = None
    in_sig = False
    for line in header.split(b"\n"):
        if in_sig and line.startswith(b" "):
            signature_lines.append(line[1:])
            continue
        in_sig = False
        key, _, value = line.partition(b" ")
        if key in (b"gpgsig", b"gpgsig-sha256"):
            in_sig = True
            signature_lines.append(value)
            continue
        encoded_lines.append(line)
        if key == b"author":
            author = _signature(value)
        elif key == b"committer":
            committer = _signature(value)
    encoded = b"\n".join(encoded_lines) + b"\n\n" + message
    signature = b"\n".join(signature_lines).decode(errors="replace")
    if signature:
        signature += "\n"
    return Commit(
        hash=sha,
        reference=reference,
        revision=revision,
        message=message.decode(errors="replace"),
        author=author,
        committer=committer,
        signature=signature,
        encoded=encoded,
    )
