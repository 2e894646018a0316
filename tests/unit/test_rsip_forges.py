"""The GitHub, GitLab and Azure DevOps clients of the input providers, replaying recorded
answers in the shapes those forges document (tests/unit/fixtures/forges/README.md) through
the real HTTP client; a fake transport stands in for the forge (no such server runs here)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from weir.api.resourceset import ProviderFilter
from weir.operator.inputs.filters import Filters
from weir.operator.inputs.forges import (
    Credentials,
    ForgeAuthError,
    ForgeError,
    ForgeUnavailableError,
    kind_of,
    open_forge,
)

FIXTURES = Path(__file__).parent / "fixtures" / "forges"
Handler = Callable[[httpx.Request], httpx.Response]


def recorded(name: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, content=(FIXTURES / name).read_bytes(), headers=headers)


class FakeForge:
    """Answers by path (and records the requests)."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.raw_path.decode().split("?")[0])
        if handler is None:
            return httpx.Response(404, json={"message": "Not Found"})
        return handler(request)


def client(kind: str, url: str, fake: FakeForge, token: str = "t0ken"):  # type: ignore[no-untyped-def]
    return open_forge(
        kind, url, Credentials(token=token), timeout=5, transport=httpx.MockTransport(fake)
    )


def test_provider_types_map_to_forges() -> None:
    assert kind_of("GitHubPullRequest") == ("GitHub", "requests")
    assert kind_of("GitLabMergeRequest") == ("GitLab", "requests")
    assert kind_of("AzureDevOpsBranch") == ("AzureDevOps", "branches")
    assert kind_of("GiteaTag") == ("Gitea", "tags")
    assert kind_of("GitLabEnvironment") is None
    assert kind_of("OCIArtifactTag") is None


async def test_github_pull_requests_follow_pages_and_filter() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return recorded("github_pulls_page2.json")
        nxt = "<https://api.github.com/repos/etherwurst/analytics/pulls?state=open&page=2>"
        return recorded("github_pulls_page1.json", link=f'{nxt}; rel="next"')

    fake = FakeForge({"/repos/etherwurst/analytics/pulls": page})
    forge = client("GitHub", "https://github.com/etherwurst/analytics", fake)
    try:
        items = await forge.fetch("requests", Filters(labels=("preview",)))
    finally:
        await forge.close()
    assert [i.to_input() for i in items] == [
        {
            "id": "42",
            "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "branch": "feat/gas",
            "author": "alice",
            "title": "feat(dbt): daily gas model",
            "labels": ["preview"],
        },
        {
            "id": "39",
            "sha": "b3cbd5bbd7e81436d2eee04537ea2b4c0cad4cdf",
            "branch": "feat/blocks",
            "author": "bob",
            "title": "feat(ui): blocks panel",
            "labels": ["preview", "hold"],
        },
    ]
    first = fake.requests[0]
    assert first.headers["authorization"] == "Bearer t0ken"
    assert first.url.params["state"] == "open"
    assert first.url.host == "api.github.com"


async def test_github_enterprise_branches_and_tags() -> None:
    fake = FakeForge(
        {
            "/api/v3/repos/o/r/branches": lambda r: recorded("github_branches.json"),
            "/api/v3/repos/o/r/tags": lambda r: recorded("github_tags.json"),
        }
    )
    forge = client("GitHub", "https://ghe.example.com/o/r", fake)
    try:
        branches = await forge.fetch("branches", Filters(include=None, limit=1))
        tags = await forge.fetch("tags", Filters.of(None))
    finally:
        await forge.close()
    assert [b.to_input() for b in branches] == [
        {
            "id": str(zlib.adler32(b"main")),
            "branch": "main",
            "sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc",
        }
    ]
    assert [t.tag for t in tags] == ["v2.0.0-rc.1", "v1.2.0", "v1.10.0", "latest"]


async def test_gitlab_merge_requests_branches_and_tags_with_semver() -> None:
    project = "/api/v4/projects/group%2Fsub%2Fanalytics"
    fake = FakeForge(
        {
            f"{project}/merge_requests": lambda r: recorded("gitlab_merge_requests.json"),
            f"{project}/repository/branches": lambda r: recorded("gitlab_branches.json"),
            f"{project}/repository/tags": lambda r: recorded("gitlab_tags.json"),
        }
    )
    forge = client("GitLab", "https://gitlab.example.com/group/sub/analytics", fake)
    try:
        mrs = await forge.fetch("requests", Filters.of(ProviderFilter(include_branch="^feat/")))
        branches = await forge.fetch("branches", Filters.of(None))
        tags = await forge.fetch("tags", Filters.of(ProviderFilter(semver="~1.0")))
    finally:
        await forge.close()
    assert [m.to_input() for m in mrs] == [
        {
            "id": "7",
            "sha": "8888888888888888888888888888888888888888",
            "branch": "feat/gas",
            "author": "alice",
            "title": "Add daily gas model",
            "labels": ["preview", "dbt"],
        }
    ]
    assert fake.requests[0].headers["private-token"] == "t0ken"
    assert fake.requests[0].url.params["state"] == "opened"
    assert [b.branch for b in branches] == ["main", "feat/gas"]
    assert [t.to_input() for t in tags] == [
        {
            "id": str(zlib.adler32(b"v1.0.0")),
            "tag": "v1.0.0",
            "sha": "2695effb5807a22ff3d138d593fd856244e155e7",
        }
    ]


async def test_azure_devops_pull_requests_and_refs() -> None:
    base = "/etherwurst/data/_apis/git/repositories/analytics"

    def refs(request: httpx.Request) -> httpx.Response:
        if request.url.params["filter"] == "heads/":
            return recorded("azuredevops_refs_heads.json")
        return recorded("azuredevops_refs_tags.json")

    fake = FakeForge(
        {
            f"{base}/pullrequests": lambda r: recorded("azuredevops_pullrequests.json"),
            f"{base}/refs": refs,
        }
    )
    forge = client("AzureDevOps", "https://dev.azure.com/etherwurst/data/_git/analytics", fake)
    try:
        prs = await forge.fetch("requests", Filters(labels=("preview",)))
        branches = await forge.fetch("branches", Filters.of(None))
        tags = await forge.fetch("tags", Filters.of(None))
    finally:
        await forge.close()
    assert [p.to_input() for p in prs] == [
        {
            "id": "22",
            "sha": "b60280bc6e62e2f880f1b63c1e24987664d3bda3",
            "branch": "npaulk/my_work",
            "author": "fabrikamfiber16@hotmail.com",
            "title": "A new feature",
            "labels": ["preview"],
        }
    ]
    request = fake.requests[0]
    assert request.headers["authorization"] == "Basic OnQwa2Vu"  # base64(":t0ken")
    assert request.url.params["searchCriteria.status"] == "active"
    assert [b.branch for b in branches] == ["develop", "main"]
    # annotated tags are peeled to their commit
    assert {t.tag: t.sha for t in tags} == {
        "v1.1.0": "6666666666666666666666666666666666666666",
        "v1.0.0": "23d0bc5b128a10056dc68afece360d8a0fabb014",
    }


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (401, ForgeAuthError, "refused the credentials (401)"),
        (403, ForgeAuthError, "refused the credentials (403)"),
        (404, ForgeError, "check spec.url"),
        (502, ForgeUnavailableError, "answered 502"),
    ],
)
async def test_forge_errors_say_what_to_fix(status: int, error: type, text: str) -> None:
    fake = FakeForge({"/repos/o/r/pulls": lambda r: httpx.Response(status, json={"m": "x"})})
    forge = client("GitHub", "https://github.com/o/r", fake)
    try:
        with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
            await forge.fetch("requests", Filters())
    finally:
        await forge.close()


async def test_unreachable_forge_and_bad_urls() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    forge = open_forge(
        "GitHub",
        "https://github.com/o/r",
        Credentials(),
        timeout=5,
        transport=httpx.MockTransport(refuse),
    )
    try:
        with pytest.raises(ForgeUnavailableError, match="is the forge up"):
            await forge.fetch("branches", Filters())
    finally:
        await forge.close()
    with pytest.raises(ForgeError, match="owner and repository"):
        open_forge("GitHub", "https://github.com/only-owner", Credentials(), timeout=5)
    with pytest.raises(ForgeError, match="_git"):
        open_forge("AzureDevOps", "https://dev.azure.com/org/project", Credentials(), timeout=5)


async def test_a_repeated_page_stops_the_listing() -> None:
    def loop(request: httpx.Request) -> httpx.Response:
        same = '<https://api.github.com/repos/o/r/tags?page=1>; rel="next"'
        return httpx.Response(
            200, json=[{"name": "v1", "commit": {"sha": "a"}}], headers={"link": same}
        )

    fake = FakeForge({"/repos/o/r/tags": loop})
    forge = client("GitHub", "https://github.com/o/r", fake)
    try:
        with pytest.raises(ForgeError, match="repeated page"):
            await forge.fetch("tags", Filters())
    finally:
        await forge.close()
    assert len(fake.requests) <= 3
    assert json.loads(fake.requests[0].content or b"null") is None
