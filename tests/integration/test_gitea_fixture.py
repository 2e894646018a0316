"""The Gitea fixture against the real Gitea: pushes, branches, tags, labels, pull requests,
webhooks delivered to loopback, commit statuses, tokens and the OpenID Connect provider."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from weir.testing.gitea import (
    GiteaAPIError,
    GiteaRepo,
    GiteaServer,
    GiteaUser,
    html_forms,
    pkce_pair,
)
from weir.testing.sink import HttpSink


def _branches(repo: GiteaRepo) -> dict[str, str]:
    data = repo.client.get(f"{repo.api_path}/branches")
    return {b["name"]: b["commit"]["id"] for b in data}


def test_commits_branches_and_tags_are_pushed(gitea_repo: GiteaRepo) -> None:
    first = gitea_repo.commit({"apps/app.yaml": "replicas: 1\n"}, "first")
    feature = gitea_repo.commit({"apps/app.yaml": "replicas: 2\n"}, "scale", branch="feature")
    release = gitea_repo.branch("release", first)
    tagged = gitea_repo.tag("v1.0.0", "feature", annotated=True, message="first release")

    assert _branches(gitea_repo) == {"main": first, "feature": feature, "release": first}
    tags = {
        t["name"]: t["commit"]["sha"] for t in gitea_repo.client.get(f"{gitea_repo.api_path}/tags")
    }
    assert tags == {"v1.0.0": feature}
    assert release == first
    assert tagged == feature
    raw = gitea_repo.client.http.get(
        f"{gitea_repo.api_path}/raw/apps/app.yaml", params={"ref": "feature"}
    )
    assert raw.text == "replicas: 2\n"

    gitea_repo.delete_branch("release")
    assert "release" not in _branches(gitea_repo)


def test_private_repository_needs_the_token(gitea: GiteaServer, gitea_user: GiteaUser) -> None:
    repo = gitea.client(gitea_user).create_repo(private=True)
    sha = repo.commit({"a.txt": "a\n"})
    refs = f"{repo.clone_url}/info/refs?service=git-upload-pack"

    assert httpx.get(refs).status_code == 401
    assert httpx.get(refs, auth=(gitea_user.username, "wrong-token")).status_code == 401
    answer = httpx.get(refs, auth=gitea_user.basic_auth())
    assert answer.status_code == 200
    assert sha.encode() in answer.content
    forged = gitea.client(
        GiteaUser(gitea_user.username, gitea_user.password, gitea_user.email, "0" * 40)
    )
    with pytest.raises(GiteaAPIError) as refused:
        forged.get("/user")
    assert refused.value.status == 401


def test_pull_request_labels_close_reopen_and_merge(gitea_repo: GiteaRepo) -> None:
    base = gitea_repo.commit({"app.yaml": "tag: 1\n"})
    head = gitea_repo.commit({"app.yaml": "tag: 2\n"}, "bump", branch="feature/bump")

    pr = gitea_repo.open_pull_request("feature/bump", title="Bump", labels=["preview"])
    assert (pr.state, pr.head_branch, pr.head_sha, pr.base_branch) == (
        "open",
        "feature/bump",
        head,
        "main",
    )
    assert pr.labels == ("preview",)
    assert [p.number for p in gitea_repo.pull_requests()] == [pr.number]

    assert set(gitea_repo.add_labels(pr.number, ["skip"]).labels) == {"preview", "skip"}
    assert gitea_repo.remove_label(pr.number, "skip").labels == ("preview",)

    assert gitea_repo.close_pull_request(pr.number).state == "closed"
    assert gitea_repo.pull_requests() == []
    assert gitea_repo.reopen_pull_request(pr.number).state == "open"

    merged = gitea_repo.merge_pull_request(pr.number)
    assert merged.merged
    assert merged.state == "closed"
    main = gitea_repo.rev("main")
    parents = gitea_repo.client.get(f"{gitea_repo.api_path}/git/commits/{main}")["parents"]
    assert {p["sha"] for p in parents} == {base, head}


def test_push_webhook_is_delivered_to_loopback(gitea_repo: GiteaRepo, http_sink: HttpSink) -> None:
    gitea_repo.create_webhook(http_sink.url("/hook/abc"), secret="s3cret")
    sha = gitea_repo.commit({"app.yaml": "tag: 1\n"}, "first")

    delivery = http_sink.wait_for(lambda r: r.header("X-Gitea-Event") == "push")
    assert delivery.method == "POST"
    assert delivery.path == "/hook/abc"
    payload = delivery.json()
    assert payload["after"] == sha
    assert payload["ref"] == "refs/heads/main"
    assert payload["repository"]["full_name"] == gitea_repo.full_name
    want = hmac.new(b"s3cret", delivery.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.header("X-Gitea-Signature"), want)
    assert delivery.header("X-Hub-Signature-256") == f"sha256={want}"


def test_commit_statuses_round_trip(gitea: GiteaServer, gitea_repo: GiteaRepo) -> None:
    sha = gitea_repo.commit({"app.yaml": "tag: 1\n"})
    gitea_repo.create_commit_status(
        sha, "pending", context="kustomization/apps", description="applying"
    )
    gitea_repo.create_commit_status(
        sha,
        "failure",
        context="kustomization/apps",
        description="apply failed",
        target_url="http://127.0.0.1:9/ks/apps",
    )

    statuses = gitea_repo.commit_statuses(sha)
    assert [(s.state, s.context) for s in statuses] == [
        ("failure", "kustomization/apps"),
        ("pending", "kustomization/apps"),
    ]
    assert statuses[0].description == "apply failed"
    assert statuses[0].creator == gitea_repo.client.user.username

    stranger = gitea.client(gitea.create_user())
    with pytest.raises(GiteaAPIError) as refused:
        stranger.post(f"{gitea_repo.api_path}/statuses/{sha}", {"state": "success"})
    assert refused.value.status in (403, 404)


def test_org_repository(gitea: GiteaServer, gitea_user: GiteaUser) -> None:
    client = gitea.client(gitea_user)
    org = client.create_org()
    repo = client.create_repo("fleet", org=org)
    sha = repo.commit({"README.md": "# fleet\n"})
    assert repo.full_name == f"{org}/fleet"
    assert client.repo(org, "fleet").rev("main") == sha


def test_html_sign_in_refuses_a_wrong_password(gitea: GiteaServer, gitea_user: GiteaUser) -> None:
    impostor = GiteaUser(gitea_user.username, "not-the-password", gitea_user.email, "")
    with pytest.raises(GiteaAPIError), gitea.sign_in(impostor):
        pass
    with gitea.sign_in(gitea_user) as session:
        settings = session.get("/user/settings")
    assert settings.status_code == 200
    assert gitea_user.username in settings.text


def test_oidc_authorization_code_flow(gitea: GiteaServer, gitea_user: GiteaUser) -> None:
    redirect_uri = "http://127.0.0.1:9/oauth2/callback"
    app = gitea.client(gitea_user).create_oauth2_application("weir-ui", [redirect_uri])
    discovery = httpx.get(gitea.discovery_url).json()
    assert discovery["issuer"] == gitea.issuer
    assert discovery["authorization_endpoint"] == f"{gitea.base_url}/login/oauth/authorize"
    assert "S256" in discovery["code_challenge_methods_supported"]

    verifier, challenge = pkce_pair()
    url = gitea.authorize_url(
        app,
        scope="openid profile email",
        state="state-1",
        nonce="nonce-1",
        code_challenge=challenge,
    )
    with gitea.sign_in(gitea_user) as session:
        consent = session.get(url)
        assert consent.status_code == 200
        assert any(f["action"].endswith("/login/oauth/grant") for f in html_forms(consent.text))
        callback = gitea.authorize(session, url)

    assert callback.startswith(redirect_uri + "?")
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == ["state-1"]
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": redirect_uri,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "code_verifier": verifier,
    }
    tokens = httpx.post(discovery["token_endpoint"], data=exchange)
    assert tokens.status_code == 200, tokens.text
    id_token = tokens.json()["id_token"]

    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(
        id_token,
        signing_key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        audience=app.client_id,
        issuer=gitea.issuer,
    )
    assert claims["nonce"] == "nonce-1"
    assert claims["preferred_username"] == gitea_user.username
    assert claims["email"] == gitea_user.email
    assert claims["email_verified"] is True
    assert claims["sub"] == str(gitea_user.id)

    userinfo = httpx.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
    )
    assert userinfo.json()["preferred_username"] == gitea_user.username

    replayed = httpx.post(discovery["token_endpoint"], data=exchange)
    assert replayed.status_code == 400, "an authorization code is single-use"
    assert json.loads(replayed.text)["error"] in ("invalid_grant", "unauthorized_client")


def test_oidc_consent_is_asked_once_and_pkce_is_enforced(
    gitea: GiteaServer, gitea_user: GiteaUser
) -> None:
    redirect_uri = "http://127.0.0.1:9/cb"
    app = gitea.client(gitea_user).create_oauth2_application("weir-cli", [redirect_uri])
    _, challenge = pkce_pair()
    url = gitea.authorize_url(app, code_challenge=challenge)
    with gitea.sign_in(gitea_user) as session:
        assert session.get(url).status_code == 200, "the first time Gitea asks for consent"
        gitea.authorize(session, url)
        again = session.get(url)
    assert again.status_code in (302, 303), "once granted, a confidential client is not asked"
    assert again.headers["Location"].startswith(redirect_uri + "?code=")

    code = parse_qs(urlsplit(again.headers["Location"]).query)["code"][0]
    refused = httpx.post(
        f"{gitea.base_url}/login/oauth/access_token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "code_verifier": pkce_pair()[0],
        },
    )
    assert refused.status_code in (400, 401)
    assert "id_token" not in refused.text
