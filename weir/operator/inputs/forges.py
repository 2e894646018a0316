"""Change requests, branches and tags of a repository on GitHub, GitLab, Gitea (and Forgejo)
or Azure DevOps, read from each forge's REST API with a token.

- GitHub: ``https://github.com/OWNER/REPO`` (Enterprise: ``https://HOST/OWNER/REPO``); API
  ``https://api.github.com`` (``HOST/api/v3``) ``/repos/O/R/pulls?state=open``, ``/branches``,
  ``/tags``; ``Authorization: Bearer TOKEN``.
- GitLab: ``https://HOST/GROUP[/SUB...]/PROJECT``; API ``HOST/api/v4/projects/<path>``
  ``/merge_requests?state=opened``, ``/repository/branches``, ``/repository/tags``;
  ``PRIVATE-TOKEN: TOKEN``.
- Gitea and Forgejo: ``https://HOST/OWNER/REPO``; API ``HOST/api/v1/repos/O/R``
  ``/pulls?state=open``, ``/branches``, ``/tags``; ``Authorization: token TOKEN``.
- Azure DevOps: ``https://dev.azure.com/ORG/PROJECT/_git/REPO``; API
  ``.../_apis/git/repositories/R/pullrequests?searchCriteria.status=active`` and
  ``/refs?filter=heads/`` (``tags/``); Basic auth with the PAT as password.

Only Gitea runs here (the tests use a real one); the others are written from their public API
documentation and tested against recorded documented JSON (docs/resourcesets.md says so).

Bounds, as the Flux Operator's: pages of 100 (Gitea: 50), at most 1000 pages, a repeated page
stops the listing, a response body over 10 MiB is refused. A refused token is
:class:`ForgeAuthError`, an unreachable forge :class:`ForgeUnavailableError`; both keep the
provider's previous exported inputs.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urljoin, urlsplit

import httpx
import orjson

from weir.errors import WeirError
from weir.operator.inputs.filters import Filters, Item, checksum_id

PAGE_SIZE = 100
MAX_PAGES = 1000
MAX_BODY = 10 * 1024 * 1024

What = Literal["requests", "branches", "tags"]


class ForgeError(WeirError):
    """A forge call failed (``ReconciliationFailed``; previous inputs kept)."""


class ForgeAuthError(ForgeError):
    """The forge refused the credentials (401/403)."""


class ForgeUnavailableError(ForgeError):
    """The forge could not be reached or answered with a server error."""


class ForgeURLError(ForgeError):
    """``spec.url`` is not a repository address of that forge."""


@dataclass(frozen=True)
class Credentials:
    """What ``spec.secretRef`` gave: a token (the ``password`` key) and the user name."""

    token: str = ""
    username: str = ""

    def __repr__(self) -> str:  # never print secrets
        return f"Credentials(username={self.username!r}, token=***)"


class _Http:
    def __init__(
        self,
        timeout: float,
        verify: ssl.SSLContext | bool,
        headers: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client = httpx.AsyncClient(
            timeout=timeout,
            verify=verify,
            headers=dict(headers),
            follow_redirects=False,
            transport=transport,
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        what = urlsplit(url)._replace(query="").geturl()
        try:
            async with self.client.stream("GET", url, params=params) as resp:
                body = bytearray()
                async for chunk in resp.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_BODY:
                        raise ForgeError(
                            f"GET {what}: response body exceeds the maximum allowed size of "
                            f"{MAX_BODY} bytes"
                        )
                resp._content = bytes(body)
        except httpx.TransportError as e:
            raise ForgeUnavailableError(
                f"GET {what} failed: {type(e).__name__}: {e or 'no answer'}; is the forge up "
                "and spec.url right?"
            ) from e
        if resp.status_code in (401, 403):
            raise ForgeAuthError(
                f"GET {what}: the forge refused the credentials ({resp.status_code}); check the "
                "token in spec.secretRef (key 'password') and its scopes"
            )
        if resp.status_code == 404:
            raise ForgeError(
                f"GET {what}: not found (404); check spec.url (and that the token can see the "
                "repository)"
            )
        if resp.status_code >= 500:
            raise ForgeUnavailableError(f"GET {what}: the forge answered {resp.status_code}")
        if resp.status_code >= 400:
            raise ForgeError(f"GET {what}: {resp.status_code} {resp.text[:200]}")
        return resp


def _json(resp: httpx.Response) -> Any:
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError as e:
        raise ForgeError(f"GET {resp.request.url.path}: the answer is not JSON: {e}") from e


def _next_link(resp: httpx.Response) -> str | None:
    for part in resp.headers.get("link", "").split(","):
        target, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return str(urljoin(str(resp.request.url), target.strip().strip("<>")))
    return None


class _Guard:
    def __init__(self, what: str) -> None:
        self.what = what
        self.seen: set[str] = set()

    def visit(self, key: str) -> None:
        if len(self.seen) >= MAX_PAGES:
            raise ForgeError(f"{self.what} pagination exceeds maximum of {MAX_PAGES} pages")
        if key in self.seen:
            raise ForgeError(f"{self.what} pagination returned a repeated page")
        self.seen.add(key)


def _split_path(url: str, parts: int | None) -> tuple[str, list[str]]:
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise ForgeURLError(f"invalid URL {url!r}: expected https://HOST/...")
    segments = [s for s in u.path.strip("/").removesuffix(".git").split("/") if s]
    if parts is not None and len(segments) != parts:
        raise ForgeURLError(f"invalid URL {url!r}: can't find owner and repository")
    return f"{u.scheme}://{u.netloc}", segments


class Forge:
    """One repository on one forge; subclasses say how to list."""

    name = "forge"

    def __init__(self, url: str, http: _Http) -> None:
        self.url = url
        self.http = http

    async def close(self) -> None:
        await self.http.close()

    async def fetch(self, what: What, filters: Filters) -> list[Item]:
        if what == "requests":
            return await self.requests(filters)
        if what == "branches":
            return await self.branches(filters)
        return await self.tags(filters)

    async def requests(self, filters: Filters) -> list[Item]:
        out: list[Item] = []
        async for item in self._requests():
            if filters.matches(item.branch) and filters.has_labels(item.labels):
                out.append(item)
                if len(out) >= filters.limit:
                    break
        return out

    async def branches(self, filters: Filters) -> list[Item]:
        out: list[Item] = []
        async for item in self._branches():
            if filters.matches(item.branch):
                out.append(item)
                if len(out) >= filters.limit:
                    break
        return out

    async def tags(self, filters: Filters) -> list[Item]:
        return filters.tags([i async for i in self._tags()])

    def _requests(self) -> AsyncIterator[Item]:
        raise NotImplementedError

    def _branches(self) -> AsyncIterator[Item]:
        raise NotImplementedError

    def _tags(self) -> AsyncIterator[Item]:
        raise NotImplementedError

    async def _pages_by_link(
        self, url: str, params: Mapping[str, str], what: str
    ) -> AsyncIterator[list[Any]]:
        guard = _Guard(what)
        next_url: str | None = url
        next_params: Mapping[str, str] | None = params
        while next_url:
            guard.visit(next_url + str(sorted((next_params or {}).items())))
            resp = await self.http.get(next_url, next_params)
            page = _json(resp)
            if not isinstance(page, list):
                raise ForgeError(f"{what}: expected a JSON list")
            yield page
            next_url, next_params = _next_link(resp), None


def _labels(raw: Any) -> tuple[str, ...]:
    out = []
    for label in raw or []:
        name = label.get("name") if isinstance(label, dict) else label
        if name:
            out.append(str(name))
    return tuple(out)


# ------------------------------------------------------------------------------------ GitHub
class GitHub(Forge):
    name = "GitHub"

    def __init__(self, url: str, http: _Http) -> None:
        super().__init__(url, http)
        host, (owner, repo) = _split_path(url, 2)
        api = (
            "https://api.github.com" if urlsplit(host).netloc == "github.com" else f"{host}/api/v3"
        )
        self.base = f"{api}/repos/{owner}/{repo}"

    async def _requests(self) -> AsyncIterator[Item]:
        params = {"state": "open", "per_page": str(PAGE_SIZE)}
        async for page in self._pages_by_link(f"{self.base}/pulls", params, "GitHub pull requests"):
            for pr in page:
                head = pr.get("head") or {}
                yield Item(
                    id=str(pr.get("number")),
                    sha=str(head.get("sha") or ""),
                    branch=str(head.get("ref") or ""),
                    author=str((pr.get("user") or {}).get("login") or ""),
                    title=str(pr.get("title") or ""),
                    labels=_labels(pr.get("labels")),
                )

    async def _refs(self, kind: str) -> AsyncIterator[tuple[str, str]]:
        params = {"per_page": str(PAGE_SIZE)}
        async for page in self._pages_by_link(f"{self.base}/{kind}", params, f"GitHub {kind}"):
            for ref in page:
                yield str(ref.get("name")), str((ref.get("commit") or {}).get("sha") or "")

    async def _branches(self) -> AsyncIterator[Item]:
        async for name, sha in self._refs("branches"):
            yield Item(id=checksum_id(name), sha=sha, branch=name)

    async def _tags(self) -> AsyncIterator[Item]:
        async for name, sha in self._refs("tags"):
            yield Item(id=checksum_id(name), sha=sha, tag=name)


# ------------------------------------------------------------------------------------ GitLab
class GitLab(Forge):
    name = "GitLab"

    def __init__(self, url: str, http: _Http) -> None:
        super().__init__(url, http)
        host, segments = _split_path(url, None)
        if len(segments) < 2:
            raise ForgeURLError(f"invalid URL {url!r}: can't find the project path")
        self.base = f"{host}/api/v4/projects/{quote('/'.join(segments), safe='')}"

    async def _pages(self, path: str, params: Mapping[str, str], what: str) -> AsyncIterator[Any]:
        guard = _Guard(what)
        page = "1"
        while page:
            guard.visit(page)
            resp = await self.http.get(
                f"{self.base}/{path}", {**params, "per_page": str(PAGE_SIZE), "page": page}
            )
            body = _json(resp)
            if not isinstance(body, list):
                raise ForgeError(f"{what}: expected a JSON list")
            for entry in body:
                yield entry
            page = resp.headers.get("x-next-page", "").strip()

    async def _requests(self) -> AsyncIterator[Item]:
        async for mr in self._pages("merge_requests", {"state": "opened"}, "GitLab merge requests"):
            yield Item(
                id=str(mr.get("iid")),
                sha=str(mr.get("sha") or ""),
                branch=str(mr.get("source_branch") or ""),
                author=str((mr.get("author") or {}).get("username") or ""),
                title=str(mr.get("title") or ""),
                labels=_labels(mr.get("labels")),
            )

    async def _branches(self) -> AsyncIterator[Item]:
        async for b in self._pages("repository/branches", {}, "GitLab branches"):
            name = str(b.get("name"))
            sha = str((b.get("commit") or {}).get("id") or "")
            yield Item(id=checksum_id(name), sha=sha, branch=name)

    async def _tags(self) -> AsyncIterator[Item]:
        async for t in self._pages("repository/tags", {}, "GitLab tags"):
            name = str(t.get("name"))
            sha = str((t.get("commit") or {}).get("id") or "")
            yield Item(id=checksum_id(name), sha=sha, tag=name)


# ------------------------------------------------------------------------------------- Gitea
class Gitea(Forge):
    name = "Gitea"
    page_size = 50

    def __init__(self, url: str, http: _Http) -> None:
        super().__init__(url, http)
        host, (owner, repo) = _split_path(url, 2)
        self.base = f"{host}/api/v1/repos/{owner}/{repo}"

    async def _pages(self, path: str, params: Mapping[str, str], what: str) -> AsyncIterator[Any]:
        guard = _Guard(what)
        page = 1
        while True:
            guard.visit(str(page))
            resp = await self.http.get(
                f"{self.base}/{path}", {**params, "limit": str(self.page_size), "page": str(page)}
            )
            body = _json(resp)
            if not isinstance(body, list):
                raise ForgeError(f"{what}: expected a JSON list")
            for entry in body:
                yield entry
            if len(body) < self.page_size or (_next_link(resp) is None and len(body) == 0):
                return
            page += 1

    async def _requests(self) -> AsyncIterator[Item]:
        async for pr in self._pages("pulls", {"state": "open"}, "Gitea pull requests"):
            head = pr.get("head") or {}
            yield Item(
                id=str(pr.get("number")),
                sha=str(head.get("sha") or ""),
                branch=str(head.get("ref") or ""),
                author=str((pr.get("user") or {}).get("login") or ""),
                title=str(pr.get("title") or ""),
                labels=_labels(pr.get("labels")),
            )

    async def _branches(self) -> AsyncIterator[Item]:
        async for b in self._pages("branches", {}, "Gitea branches"):
            name = str(b.get("name"))
            yield Item(
                id=checksum_id(name), sha=str((b.get("commit") or {}).get("id") or ""), branch=name
            )

    async def _tags(self) -> AsyncIterator[Item]:
        async for t in self._pages("tags", {}, "Gitea tags"):
            name = str(t.get("name"))
            yield Item(
                id=checksum_id(name), sha=str((t.get("commit") or {}).get("sha") or ""), tag=name
            )


# ------------------------------------------------------------------------------ Azure DevOps
class AzureDevOps(Forge):
    name = "Azure DevOps"
    api_version = "7.1"

    def __init__(self, url: str, http: _Http) -> None:
        super().__init__(url, http)
        host, segments = _split_path(url, None)
        if len(segments) == 4 and segments[2] == "_git":
            org, project, repo = segments[0], segments[1], segments[3]
            root = f"{host}/{org}"
        elif len(segments) == 3 and segments[1] == "_git":  # https://ORG.visualstudio.com/P/_git/R
            project, repo = segments[0], segments[2]
            root = host
        else:
            raise ForgeURLError(
                f"invalid URL {url!r}: expected https://dev.azure.com/ORG/PROJECT/_git/REPO"
            )
        self.base = f"{root}/{quote(project)}/_apis/git/repositories/{quote(repo)}"

    async def _requests(self) -> AsyncIterator[Item]:
        guard = _Guard("Azure DevOps pull requests")
        skip = 0
        while True:
            guard.visit(str(skip))
            resp = await self.http.get(
                f"{self.base}/pullrequests",
                {
                    "searchCriteria.status": "active",
                    "$top": str(PAGE_SIZE),
                    "$skip": str(skip),
                    "api-version": self.api_version,
                },
            )
            values = (_json(resp) or {}).get("value") or []
            for pr in values:
                yield Item(
                    id=str(pr.get("pullRequestId")),
                    sha=str((pr.get("lastMergeSourceCommit") or {}).get("commitId") or ""),
                    branch=str(pr.get("sourceRefName") or "").removeprefix("refs/heads/"),
                    author=str((pr.get("createdBy") or {}).get("uniqueName") or ""),
                    title=str(pr.get("title") or ""),
                    labels=_labels(pr.get("labels")),
                )
            if len(values) < PAGE_SIZE:
                return
            skip += len(values)

    async def _refs(self, prefix: str) -> AsyncIterator[tuple[str, str]]:
        guard = _Guard(f"Azure DevOps {prefix}")
        token = ""
        while True:
            guard.visit(token)
            params = {
                "filter": prefix,
                "peelTags": "true",
                "$top": str(PAGE_SIZE),
                "api-version": self.api_version,
            }
            if token:
                params["continuationToken"] = token
            resp = await self.http.get(f"{self.base}/refs", params)
            for ref in (_json(resp) or {}).get("value") or []:
                name = str(ref.get("name") or "").removeprefix(f"refs/{prefix}")
                sha = str(ref.get("peeledObjectId") or ref.get("objectId") or "")
                yield name, sha
            token = resp.headers.get("x-ms-continuationtoken", "")
            if not token:
                return

    async def _branches(self) -> AsyncIterator[Item]:
        async for name, sha in self._refs("heads/"):
            yield Item(id=checksum_id(name), sha=sha, branch=name)

    async def _tags(self) -> AsyncIterator[Item]:
        async for name, sha in self._refs("tags/"):
            yield Item(id=checksum_id(name), sha=sha, tag=name)


# ---------------------------------------------------------------------------------- factory
def _headers(forge: str, creds: Credentials) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "weir-operator/1"}
    if not creds.token:
        return headers
    if forge == "GitHub":
        headers["Authorization"] = f"Bearer {creds.token}"
        headers["Accept"] = "application/vnd.github+json"
    elif forge == "GitLab":
        headers["PRIVATE-TOKEN"] = creds.token
    elif forge == "Gitea":
        headers["Authorization"] = f"token {creds.token}"
    else:
        basic = base64.b64encode(f":{creds.token}".encode()).decode()
        headers["Authorization"] = f"Basic {basic}"
    return headers


FORGES: dict[str, Callable[[str, _Http], Forge]] = {
    "GitHub": GitHub,
    "GitLab": GitLab,
    "Gitea": Gitea,
    "AzureDevOps": AzureDevOps,
}


def kind_of(provider_type: str) -> tuple[str, What] | None:
    """(forge, what) of a provider type such as ``GiteaPullRequest``; None for others."""
    for prefix in FORGES:
        if provider_type.startswith(prefix):
            rest = provider_type[len(prefix) :]
            if rest in ("PullRequest", "MergeRequest"):
                return prefix, "requests"
            if rest == "Branch":
                return prefix, "branches"
            if rest == "Tag":
                return prefix, "tags"
    return None


def open_forge(
    forge: str,
    url: str,
    creds: Credentials,
    *,
    timeout: float,
    verify: ssl.SSLContext | bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Forge:
    """A client for one repository (close it with :meth:`Forge.close`); ``transport``
    replaces the network (unit tests replay recorded answers)."""
    return FORGES[forge](url, _Http(timeout, verify, _headers(forge, creds), transport))
