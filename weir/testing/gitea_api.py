"""Gitea's REST API for tests: a client acting as one user, and repositories pushed to over HTTP.

:class:`GiteaClient` covers what tests need: users, organisations, repositories, OAuth2
applications; :class:`GiteaRepo` adds commits, branches and tags (written into a local mirror
with :class:`~weir.testing.gitrepo.GitRepoFixture` and pushed with the owner's token), labels,
pull requests, webhooks and commit statuses. :class:`~weir.testing.gitea.GiteaServer` starts
the server and hands out clients.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from weir.errors import WeirError
from weir.testing.gitrepo import GitRepoFixture, run_git

DEFAULT_BRANCH = "main"


class GiteaAPIError(WeirError):
    """Gitea answered an API call with an error status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"Gitea {method} {path} answered {status}: {body[:500]}")
        self.status = status
        self.body = body


# --------------------------------------------------------------------------------- values
@dataclass(frozen=True)
class GiteaUser:
    """A Gitea account with an access token (scope ``all``)."""

    username: str
    password: str
    email: str
    token: str
    id: int = 0

    def basic_auth(self) -> tuple[str, str]:
        """Git-over-HTTP credentials: the username and the token (a Secret's
        ``username``/``password``)."""
        return (self.username, self.token)


@dataclass(frozen=True)
class OAuth2App:
    """An OAuth2 application registered in Gitea: the client of an OIDC sign-in."""

    id: int
    name: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    confidential: bool = True


@dataclass(frozen=True)
class PullRequest:
    """The parts of a Gitea pull request tests look at."""

    number: int
    title: str
    state: str
    """``open`` or ``closed``."""
    merged: bool
    head_branch: str
    head_sha: str
    base_branch: str
    labels: tuple[str, ...]
    html_url: str
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PullRequest:
        head, base = data.get("head") or {}, data.get("base") or {}
        return cls(
            number=int(data["number"]),
            title=str(data.get("title", "")),
            state=str(data.get("state", "")),
            merged=bool(data.get("merged")),
            head_branch=str(head.get("ref", "")),
            head_sha=str(head.get("sha", "")),
            base_branch=str(base.get("ref", "")),
            labels=tuple(str(label["name"]) for label in data.get("labels") or []),
            html_url=str(data.get("html_url", "")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class CommitStatus:
    """One commit status (``state`` is pending, success, error, failure or warning)."""

    state: str
    context: str
    description: str
    target_url: str
    creator: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CommitStatus:
        return cls(
            state=str(data.get("status") or data.get("state") or ""),
            context=str(data.get("context", "")),
            description=str(data.get("description", "")),
            target_url=str(data.get("target_url", "")),
            creator=str((data.get("creator") or {}).get("login", "")),
        )


# --------------------------------------------------------------------------------- client
class GiteaClient:
    """Gitea's REST API (``/api/v1``) as one user, with their token."""

    def __init__(self, base_url: str, user: GiteaUser, mirrors: Path) -> None:
        self.base_url = base_url
        """``http://127.0.0.1:<port>``: the server, not the API's root."""
        self.user = user
        self.mirrors = mirrors
        """Where :class:`GiteaRepo` keeps its local mirrors."""
        self.http = httpx.Client(
            base_url=base_url + "/api/v1",
            headers={"Authorization": f"token {user.token}", "Accept": "application/json"},
            timeout=30.0,
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """One API call; the decoded JSON (None for an empty body), or :class:`GiteaAPIError`."""
        response = self.http.request(method, path, json=json, params=params)
        if response.status_code >= 400:
            raise GiteaAPIError(method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    # ---------------------------------------------------------------- users and orgs
    def create_user(
        self, username: str | None = None, *, password: str | None = None, admin: bool = False
    ) -> GiteaUser:
        """A new account (needs an admin client) with a token of scope ``all``."""
        name = username or f"user-{uuid.uuid4().hex[:10]}"
        pw = password or secrets.token_urlsafe(18)
        email = f"{name}@weir.invalid"
        data = self.post(
            "/admin/users",
            {
                "username": name,
                "email": email,
                "password": pw,
                "must_change_password": False,
                "send_notify": False,
                "source_id": 0,
                "login_name": name,
            },
        )
        if admin:
            self.patch(f"/admin/users/{name}", {"admin": True, "login_name": name, "source_id": 0})
        token = create_token(self.base_url, name, pw)
        return GiteaUser(name, pw, email, token, int(data.get("id", 0)))

    def create_org(self, name: str | None = None) -> str:
        """A new organisation owned by this client's user; returns its name."""
        org = name or f"org-{uuid.uuid4().hex[:10]}"
        self.post("/orgs", {"username": org, "visibility": "public"})
        return org

    def add_org_member(self, org: str, username: str, team: str = "Owners") -> None:
        """Add ``username`` to a team of ``org`` (the Owners team by default)."""
        teams = self.get(f"/orgs/{org}/teams")
        team_id = next(t["id"] for t in teams if t["name"] == team)
        self.request("PUT", f"/teams/{team_id}/members/{username}")

    # ------------------------------------------------------------------ repositories
    def create_repo(
        self,
        name: str | None = None,
        *,
        org: str | None = None,
        private: bool = False,
        default_branch: str = DEFAULT_BRANCH,
    ) -> GiteaRepo:
        """An empty repository owned by this user (or by ``org``); push to it with
        :meth:`GiteaRepo.commit`."""
        repo = name or f"repo-{uuid.uuid4().hex[:10]}"
        body = {"name": repo, "private": private, "default_branch": default_branch}
        path = f"/orgs/{org}/repos" if org else "/user/repos"
        data = self.post(path, body)
        return GiteaRepo(self, str(data["owner"]["login"]), str(data["name"]), default_branch)

    def repo(self, owner: str, name: str) -> GiteaRepo:
        """A handle on an existing repository."""
        data = self.get(f"/repos/{owner}/{name}")
        return GiteaRepo(self, owner, name, str(data.get("default_branch") or DEFAULT_BRANCH))

    # ---------------------------------------------------------------------- OAuth2
    def create_oauth2_application(
        self,
        name: str,
        redirect_uris: Sequence[str],
        *,
        confidential: bool = True,
        skip_secondary_authorization: bool = False,
    ) -> OAuth2App:
        """Register an OAuth2 application owned by this user: Gitea is then its OpenID
        Connect provider (issuer :attr:`weir.testing.gitea.GiteaServer.issuer`).

        Gitea asks each user to authorize an application once; afterwards it redirects at
        once, for confidential clients and for public ones with
        ``skip_secondary_authorization``.
        """
        data = self.post(
            "/user/applications/oauth2",
            {
                "name": name,
                "redirect_uris": list(redirect_uris),
                "confidential_client": confidential,
                "skip_secondary_authorization": skip_secondary_authorization,
            },
        )
        return OAuth2App(
            id=int(data["id"]),
            name=str(data["name"]),
            client_id=str(data["client_id"]),
            client_secret=str(data.get("client_secret", "")),
            redirect_uris=tuple(data.get("redirect_uris") or ()),
            confidential=bool(data.get("confidential_client", confidential)),
        )


def create_token(
    base_url: str, username: str, password: str, scopes: Sequence[str] = ("all",)
) -> str:
    """A new access token for ``username`` (Gitea creates tokens only with Basic auth)."""
    response = httpx.post(
        f"{base_url}/api/v1/users/{username}/tokens",
        auth=(username, password),
        json={"name": f"weir-{uuid.uuid4().hex[:8]}", "scopes": list(scopes)},
        timeout=30.0,
    )
    if response.status_code >= 400:
        raise GiteaAPIError(
            "POST", f"/users/{username}/tokens", response.status_code, response.text
        )
    return str(response.json()["sha1"])


# ----------------------------------------------------------------------------- repository
class GiteaRepo:
    """A repository on Gitea, with a local bare mirror to write commits into.

    :meth:`commit`, :meth:`branch` and :meth:`tag` fetch the server's branches and tags into
    the mirror first (Gitea may have moved them: a merge), write there with
    :class:`~weir.testing.gitrepo.GitRepoFixture`, then push over HTTP with the owner's token.
    """

    def __init__(self, client: GiteaClient, owner: str, name: str, default_branch: str) -> None:
        self.client = client
        self.owner = owner
        self.name = name
        self.default_branch = default_branch
        mirror = client.mirrors / f"{owner}-{name}-{uuid.uuid4().hex[:8]}.git"
        self.local = GitRepoFixture.create(mirror, self.clone_url, default_branch)

    # -------------------------------------------------------------------- addresses
    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def clone_url(self) -> str:
        """``http://127.0.0.1:<port>/<owner>/<name>.git`` (a GitRepository's ``spec.url``)."""
        return f"{self.client.base_url}/{self.full_name}.git"

    @property
    def html_url(self) -> str:
        """The repository's page (what providers take as their ``url``)."""
        return f"{self.client.base_url}/{self.full_name}"

    @property
    def api_path(self) -> str:
        return f"/repos/{self.full_name}"

    # -------------------------------------------------------------------------- git
    def _git_env(self) -> dict[str, str]:
        user = self.client.user
        basic = base64.b64encode(f"{user.username}:{user.token}".encode()).decode()
        # The token goes in a header through the environment: never in a URL or argv.
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
            "GIT_TERMINAL_PROMPT": "0",
        }

    def sync(self) -> None:
        """Make the local mirror's branches and tags those on Gitea (forced, pruned)."""
        run_git(
            "fetch",
            "--quiet",
            "--update-head-ok",
            "--force",
            "--prune",
            self.clone_url,
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
            git_dir=self.local.path,
            env=self._git_env(),
        )

    def push(self, *refspecs: str, force: bool = False) -> None:
        """Push refspecs of the local mirror (``refs/heads/x``, ``:refs/heads/x`` deletes)."""
        args = ["push", "--quiet", *(["--force"] if force else []), self.clone_url, *refspecs]
        run_git(*args, git_dir=self.local.path, env=self._git_env())

    def commit(
        self,
        files: Mapping[str, str | bytes | None],
        message: str = "update",
        branch: str | None = None,
        *,
        replace: bool = False,
        base: str | None = None,
    ) -> str:
        """Commit ``files`` (path -> content, None deletes) on ``branch`` and push it; returns
        the commit's sha. A branch that does not exist yet starts from ``base`` (default: the
        default branch, when it exists)."""
        self.sync()
        target = branch or self.default_branch
        if not self.local.has_ref(f"refs/heads/{target}"):
            start = base or self.default_branch
            if start != target and self.local.has_ref(f"refs/heads/{start}"):
                self.local.branch(target, start)
        sha = self.local.commit(files, message, target, replace=replace)
        self.push(f"refs/heads/{target}:refs/heads/{target}")
        return sha

    def branch(self, name: str, ref: str | None = None) -> str:
        """Create (or move) branch ``name`` at ``ref`` (default: the default branch) on Gitea."""
        self.sync()
        sha = self.local.branch(name, ref or self.default_branch)
        self.push(f"+refs/heads/{name}:refs/heads/{name}")
        return sha

    def delete_branch(self, name: str) -> None:
        self.push(f":refs/heads/{name}")

    def tag(
        self, name: str, ref: str | None = None, *, annotated: bool = False, message: str = ""
    ) -> str:
        """Tag ``ref`` (default: the default branch) and push the tag; returns the commit."""
        self.sync()
        sha = self.local.tag(name, ref, annotated=annotated, message=message)
        self.push(f"refs/tags/{name}:refs/tags/{name}")
        return sha

    def rev(self, ref: str) -> str:
        """The commit a branch or tag points at on Gitea now."""
        self.sync()
        return self.local.rev(ref)

    # ----------------------------------------------------------------------- labels
    def create_label(self, name: str, color: str = "#0e8a16", description: str = "") -> int:
        """A repository label; returns its id."""
        data = self.client.post(
            f"{self.api_path}/labels", {"name": name, "color": color, "description": description}
        )
        return int(data["id"])

    def label_ids(self, names: Iterable[str], *, create: bool = True) -> list[int]:
        """The ids of labels by name, creating the missing ones (unless ``create`` is false)."""
        existing = {
            str(label["name"]): int(label["id"])
            for label in self.client.get(f"{self.api_path}/labels", limit=100)
        }
        ids: list[int] = []
        for name in names:
            if name not in existing:
                if not create:
                    raise KeyError(f"no label {name!r} in {self.full_name}")
                existing[name] = self.create_label(name)
            ids.append(existing[name])
        return ids

    # ---------------------------------------------------------------- pull requests
    def open_pull_request(
        self,
        head: str,
        base: str | None = None,
        *,
        title: str | None = None,
        body: str = "",
        labels: Sequence[str] = (),
    ) -> PullRequest:
        """Open a pull request from branch ``head`` into ``base`` (default branch), with
        ``labels`` (created when missing)."""
        data = self.client.post(
            f"{self.api_path}/pulls",
            {
                "head": head,
                "base": base or self.default_branch,
                "title": title or f"Merge {head}",
                "body": body,
                "labels": self.label_ids(labels),
            },
        )
        return PullRequest.from_api(data)

    def pull_request(self, number: int) -> PullRequest:
        return PullRequest.from_api(self.client.get(f"{self.api_path}/pulls/{number}"))

    def pull_requests(self, state: str = "open") -> list[PullRequest]:
        """Pull requests in ``state`` (open, closed, all), newest first."""
        data = self.client.get(f"{self.api_path}/pulls", state=state, limit=50)
        return [PullRequest.from_api(item) for item in data]

    def add_labels(self, number: int, labels: Sequence[str]) -> PullRequest:
        """Add labels (created when missing) to pull request (or issue) ``number``."""
        self.client.post(
            f"{self.api_path}/issues/{number}/labels", {"labels": self.label_ids(labels)}
        )
        return self.pull_request(number)

    def remove_label(self, number: int, label: str) -> PullRequest:
        (label_id,) = self.label_ids([label], create=False)
        self.client.delete(f"{self.api_path}/issues/{number}/labels/{label_id}")
        return self.pull_request(number)

    def close_pull_request(self, number: int) -> PullRequest:
        data = self.client.patch(f"{self.api_path}/pulls/{number}", {"state": "closed"})
        return PullRequest.from_api(data)

    def reopen_pull_request(self, number: int) -> PullRequest:
        data = self.client.patch(f"{self.api_path}/pulls/{number}", {"state": "open"})
        return PullRequest.from_api(data)

    def merge_pull_request(
        self, number: int, *, style: str = "merge", timeout: float = 30.0
    ) -> PullRequest:
        """Merge pull request ``number`` (``style``: merge, rebase, squash, ...). Gitea checks
        mergeability in the background after a push, so this retries until it may merge."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client.post(
                    f"{self.api_path}/pulls/{number}/merge",
                    {"Do": style, "delete_branch_after_merge": False},
                )
                break
            except GiteaAPIError as e:
                if e.status not in (405, 409) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self.pull_request(number)

    # --------------------------------------------------------------------- webhooks
    def create_webhook(
        self,
        url: str,
        *,
        events: Sequence[str] = ("push",),
        secret: str = "",
        hook_type: str = "gitea",
        content_type: str = "json",
        branch_filter: str = "*",
        authorization_header: str = "",
    ) -> int:
        """A webhook that posts ``events`` to ``url`` (Gitea's payload format by default);
        returns its id. Gitea may deliver to loopback addresses (``[webhook]
        ALLOWED_HOST_LIST = loopback``)."""
        data = self.client.post(
            f"{self.api_path}/hooks",
            {
                "type": hook_type,
                "config": {"url": url, "content_type": content_type, "secret": secret},
                "events": list(events),
                "active": True,
                "branch_filter": branch_filter,
                "authorization_header": authorization_header,
            },
        )
        return int(data["id"])

    def test_webhook(self, hook_id: int) -> None:
        """Ask Gitea to send a test push delivery of webhook ``hook_id`` now."""
        self.client.post(f"{self.api_path}/hooks/{hook_id}/tests")

    # -------------------------------------------------------------- commit statuses
    def create_commit_status(
        self,
        sha: str,
        state: str,
        *,
        context: str = "weir",
        description: str = "",
        target_url: str = "",
    ) -> CommitStatus:
        data = self.client.post(
            f"{self.api_path}/statuses/{sha}",
            {
                "state": state,
                "context": context,
                "description": description,
                "target_url": target_url,
            },
        )
        return CommitStatus.from_api(data)

    def commit_statuses(self, sha: str) -> list[CommitStatus]:
        """Every status reported for commit ``sha``, newest first."""
        # Gitea's "leastindex" orders by index DESC (newest first), whatever its name says;
        # the default (created time) ties within a second.
        data = self.client.get(
            f"{self.api_path}/commits/{sha}/statuses", sort="leastindex", limit=50
        )
        return [CommitStatus.from_api(item) for item in data]
