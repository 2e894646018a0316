"""Git forges: commit statuses (GitHub, GitLab, Gitea, Bitbucket Cloud, Azure DevOps) and
GitHub's ``repository_dispatch``.

A commit status is set on the commit of the event's revision — the ``originRevision`` when it
names a commit (an OCI artifact's source commit, a HelmChart's Git source), else the
``revision`` (``main@sha1:<hex>``). ``info`` events give success, ``error`` events failure;
``Progressing`` events are skipped. The status id (GitHub's ``context``, GitLab's ``name``) is
:mod:`~weir.notification.commitstatus`'s; the description is the reason in words
(``reconciliation succeeded``). GitHub, GitLab and Gitea are asked first whether the commit
already has that status, so a repeat is not posted twice (Flux does the same).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

from weir.errors import ConfigError
from weir.notification.event import (
    ERROR,
    META_ORIGIN_REVISION,
    META_REVISION,
    FluxEvent,
)
from weir.notification.gitaddr import GitAddress, commit_sha, parse_git_address
from weir.notification.http import DeliveryError, Http
from weir.notification.notifiers.base import Delivery, Notifier, name_and_description

Payload = dict[str, Any]


def event_commit(event: FluxEvent) -> str:
    """The commit the event is about; raises :class:`DeliveryError` when it names none."""
    candidates = [event.metadata.get(META_ORIGIN_REVISION), event.metadata.get(META_REVISION)]
    for revision in candidates:
        if revision:
            try:
                return commit_sha(revision)
            except ConfigError:
                continue
    if not any(candidates):
        raise DeliveryError("missing revision metadata", retryable=False)
    raise DeliveryError(
        f"revision {candidates[1] or candidates[0]!r} does not name a Git commit", retryable=False
    )


def github_api(address: GitAddress) -> str:
    if address.host == "github.com":
        return "https://api.github.com"
    return f"{address.base_url}/api/v3"


class _CommitStatus(Notifier):
    """The shared shape: skip Progressing, find the commit, post the status."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address = parse_git_address(self.config.address)

    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if event.reason == "Progressing":
            return
        if not delivery.commit_status:
            raise DeliveryError("no commit status id", retryable=False)
        await self.set_status(http, event_commit(event), delivery)

    async def set_status(self, http: Http, sha: str, delivery: Delivery) -> None:
        raise NotImplementedError


# -------------------------------------------------------------------------------- GitHub
def github_status(event: FluxEvent, context: str) -> Payload:
    """``POST /repos/{owner}/{repo}/statuses/{sha}``."""
    _, description = name_and_description(event)
    state = "failure" if event.severity == ERROR else "success"
    return {"state": state, "context": context, "description": description}


class GitHub(_CommitStatus):
    async def set_status(self, http: Http, sha: str, delivery: Delivery) -> None:
        a, token = self.address, self.config.token
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        status = github_status(delivery.event, delivery.commit_status)
        repo = f"{github_api(a)}/repos/{a.owner}/{a.repo}"
        existing = await http.get_json(
            f"{repo}/commits/{sha}/statuses?per_page=50", headers=headers
        )
        if _same_status(existing, "context", status["context"], status, "state"):
            return
        await http.post(f"{repo}/statuses/{sha}", status, headers=headers)


def _same_status(
    existing: Any, id_key: str, id_value: str, wanted: Payload, state_key: str
) -> bool:
    """Whether the newest status with that id already says what ``wanted`` says."""
    if not isinstance(existing, list):
        return False
    mine = [s for s in existing if isinstance(s, dict) and s.get(id_key) == id_value]
    if not mine:
        return False
    newest = max(mine, key=lambda s: (str(s.get("updated_at") or ""), s.get("id") or 0))
    return bool(
        newest.get(state_key) == wanted["state"]
        and newest.get("description") == wanted["description"]
    )


# --------------------------------------------------------------------------------- Gitea
def gitea_status(event: FluxEvent, context: str) -> Payload:
    """``POST /api/v1/repos/{owner}/{repo}/statuses/{sha}``."""
    _, description = name_and_description(event)
    state = "failure" if event.severity == ERROR else "success"
    return {"state": state, "context": context, "description": description, "target_url": ""}


class Gitea(_CommitStatus):
    async def set_status(self, http: Http, sha: str, delivery: Delivery) -> None:
        a = self.address
        headers = {"Authorization": f"token {self.config.token}"}
        status = gitea_status(delivery.event, delivery.commit_status)
        repo = f"{a.base_url}/api/v1/repos/{a.owner}/{a.repo}"
        existing = await http.get_json(f"{repo}/commits/{sha}/statuses", headers=headers)
        if _same_status(existing, "context", status["context"], status, "status"):
            return
        await http.post(f"{repo}/statuses/{sha}", status, headers=headers)


# -------------------------------------------------------------------------------- GitLab
def gitlab_status(event: FluxEvent, name: str) -> Payload:
    """``POST /api/v4/projects/{id}/statuses/{sha}``."""
    _, description = name_and_description(event)
    state = "failed" if event.severity == ERROR else "success"
    return {"state": state, "name": name, "description": description}


class GitLab(_CommitStatus):
    async def set_status(self, http: Http, sha: str, delivery: Delivery) -> None:
        a = self.address
        headers = {"PRIVATE-TOKEN": self.config.token}
        status = gitlab_status(delivery.event, delivery.commit_status)
        project = f"{a.base_url}/api/v4/projects/{quote(a.repo_id, safe='')}"
        existing = await http.get_json(
            f"{project}/repository/commits/{sha}/statuses", headers=headers
        )
        if _same_status(existing, "name", status["name"], status, "status"):
            return
        await http.post(f"{project}/statuses/{sha}", status, headers=headers)


# ----------------------------------------------------------------------------- Bitbucket
def bitbucket_status(event: FluxEvent, status_id: str, url: str) -> Payload:
    """``POST /2.0/repositories/{owner}/{repo}/commit/{sha}/statuses/build``; the key is the
    sha1 of the id (Bitbucket allows 40 characters)."""
    _, description = name_and_description(event)
    return {
        "state": "FAILED" if event.severity == ERROR else "SUCCESSFUL",
        "key": hashlib.sha1(status_id.encode(), usedforsecurity=False).hexdigest(),
        "name": status_id,
        "description": description,
        "url": url,
    }


def bitbucket_api(address: GitAddress) -> str:
    """Bitbucket Cloud's API (``api.bitbucket.org``); another host is taken as a stand-in
    serving the same API under ``/2.0`` (tests)."""
    if address.host == "bitbucket.org":
        return "https://api.bitbucket.org/2.0"
    return f"{address.base_url}/2.0"


class Bitbucket(_CommitStatus):
    async def set_status(self, http: Http, sha: str, delivery: Delivery) -> None:
        a = self.address
        basic = base64.b64encode(self.config.token.encode()).decode()
        headers = {"Authorization": f"Basic {basic}"}
        status = bitbucket_status(delivery.event, delivery.commit_status, self.config.address)
        url = f"{bitbucket_api(a)}/repositories/{a.owner}/{a.repo}/commit/{sha}/statuses/build"
        await http.post(url, status, headers=headers)


# -------------------------------------------------------------------------- Azure DevOps
def azuredevops_status(event: FluxEvent, name: str) -> Payload:
    """``POST {org}/{project}/_apis/git/repositories/{repo}/commits/{sha}/statuses``."""
    _, description = name_and_description(event)
    return {
        "state": "failed" if event.severity == ERROR else "succeeded",
        "description": description,
        "context": {"name": name, "genre": "fluxcd"},
    }


class AzureDevOps(_CommitStatus):
    async def set_status(self, http: Http, sha: str, delivery: Delivery) -> None:
        a = self.address
        org_project, _, repo = a.repo_id.partition("/_git/")
        basic = base64.b64encode(f":{self.config.token}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}"}
        status = azuredevops_status(delivery.event, delivery.commit_status)
        url = (
            f"{a.base_url}/{org_project}/_apis/git/repositories/{repo}/commits/{sha}/statuses"
            "?api-version=6.0"
        )
        await http.post(url, status, headers=headers)


# -------------------------------------------------------------------------- GitHub dispatch
def github_dispatch_payload(event: FluxEvent) -> Payload:
    """``repository_dispatch``: ``event_type`` ``<Kind>/<name>.<namespace>`` (what a workflow's
    ``on.repository_dispatch.types`` lists) and the event as ``client_payload``."""
    return {
        "event_type": f"{event.kind}/{event.name}.{event.namespace}",
        "client_payload": event.to_json(),
    }


class GitHubDispatch(Notifier):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address = parse_git_address(self.config.address)

    async def post(self, http: Http, delivery: Delivery) -> None:
        a = self.address
        headers = {
            "Authorization": f"Bearer {self.config.token}",
            "Accept": "application/vnd.github+json",
        }
        url = f"{github_api(a)}/repos/{a.owner}/{a.repo}/dispatches"
        await http.post(url, github_dispatch_payload(delivery.event), headers=headers)
