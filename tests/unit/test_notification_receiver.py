"""Receivers: the webhook path as Flux computes it, the signature/token checks of each type
(a wrong one is 401), the events filter, payload shapes, and the requestedAt value."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable

import pytest
from multidict import CIMultiDict

from weir.notification.receiver.resources import requested_at_value
from weir.notification.receiver.server import webhook_path
from weir.notification.receiver.verify import (
    BadPayload,
    EventNotAccepted,
    Unauthorized,
    verify,
)

TOKEN = "s3cr3t-t0ken"
BODY = json.dumps({"ref": "refs/heads/main", "after": "a" * 40}).encode()


def sign(algorithm: str, body: bytes = BODY, token: str = TOKEN) -> str:
    return hmac.new(token.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def headers(**values: str) -> CIMultiDict[str]:
    return CIMultiDict({k.replace("_", "-"): v for k, v in values.items()})


def test_webhook_path_is_fluxs() -> None:
    # Flux: "/hook/" + sha256(token + name + namespace), hex
    digest = hashlib.sha256(b"tokenflux-systemflux-system").hexdigest()
    assert webhook_path("token", "flux-system", "flux-system") == f"/hook/{digest}"
    # plain concatenation, as Flux does: the token is what makes the path unguessable
    assert webhook_path("token", "a", "bc") == webhook_path("token", "ab", "c")
    assert webhook_path("other", "flux-system", "flux-system") != f"/hook/{digest}"


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (
            "generic-hmac",
            headers(X_Signature="sha256=" + sign("sha256")),
            headers(X_Signature="sha256=" + sign("sha256", token="wrong")),
        ),
        (
            "github",
            headers(X_Hub_Signature_256="sha256=" + sign("sha256"), X_GitHub_Event="push"),
            headers(X_Hub_Signature_256="sha256=" + "0" * 64, X_GitHub_Event="push"),
        ),
        (
            "github",
            headers(X_Hub_Signature="sha1=" + sign("sha1"), X_GitHub_Event="push"),
            headers(X_GitHub_Event="push"),
        ),
        (
            "gitea",
            headers(X_Gitea_Signature=sign("sha256"), X_Gitea_Event="push"),
            headers(X_Gitea_Signature=sign("sha1"), X_Gitea_Event="push"),
        ),
        (
            "gitlab",
            headers(X_Gitlab_Token=TOKEN, X_Gitlab_Event="Push Hook"),
            headers(X_Gitlab_Token="nope", X_Gitlab_Event="Push Hook"),
        ),
        (
            "bitbucket",
            headers(X_Hub_Signature="sha256=" + sign("sha256"), X_Event_Key="repo:refs_changed"),
            headers(X_Hub_Signature="md5=abc", X_Event_Key="repo:refs_changed"),
        ),
        ("harbor", headers(Authorization=TOKEN), headers(Authorization="Bearer " + TOKEN)),
    ],
)
def test_authenticity(kind: str, good: CIMultiDict[str], bad: CIMultiDict[str]) -> None:
    verify(kind, TOKEN, good, BODY)
    with pytest.raises(Unauthorized):
        verify(kind, TOKEN, bad, BODY)
    # a body changed on the way does not match the signature (token-only types aside)
    if kind not in ("gitlab", "harbor"):
        with pytest.raises(Unauthorized):
            verify(kind, TOKEN, good, BODY + b" ")


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_generic_hmac_algorithms(algorithm: str) -> None:
    verify("generic-hmac", TOKEN, headers(X_Signature=f"{algorithm}={sign(algorithm)}"), BODY)
    with pytest.raises(Unauthorized, match="unknown algorithm"):
        verify("generic-hmac", TOKEN, headers(X_Signature=f"md5={sign('md5')}"), BODY)


def test_nexus() -> None:
    body = json.dumps({"action": "CREATED", "repositoryName": "docker"}).encode()
    verify("nexus", TOKEN, headers(X_Nexus_Webhook_Signature=sign("sha1", body)), body)
    with pytest.raises(Unauthorized):
        verify("nexus", TOKEN, headers(X_Nexus_Webhook_Signature=sign("sha256", body)), body)


def test_github_form_payloads_and_bad_bodies() -> None:
    form = b"payload=" + BODY.replace(b'"', b"%22")
    h = headers(
        X_Hub_Signature_256="sha256=" + sign("sha256", form),
        X_GitHub_Event="push",
        Content_Type="application/x-www-form-urlencoded",
    )
    event, payload = verify("github", TOKEN, h, form)
    assert event == "push"
    assert payload["ref"] == "refs/heads/main"
    with pytest.raises(BadPayload):
        verify(
            "github",
            TOKEN,
            headers(X_Hub_Signature_256="sha256=" + sign("sha256", b"{"), X_GitHub_Event="push"),
            b"{",
        )


@pytest.mark.parametrize(
    ("kind", "body", "ok"),
    [
        ("dockerhub", {"push_data": {"tag": "v1"}, "repository": {"repo_url": "x"}}, True),
        ("dockerhub", {"unrelated": True}, False),
        ("quay", {"docker_url": "quay.io/o/r", "updated_tags": ["v1"]}, True),
        ("acr", {"action": "push", "target": {"repository": "r", "tag": "v1"}}, True),
        ("acr", ["not", "an", "object"], False),
        (
            "cdevents",
            {"context": {"type": "dev.cdevents.change.merged.0.1.2"}, "subject": {}},
            True,
        ),
        ("cdevents", {"context": {"type": "com.example.other"}}, False),
    ],
)
def test_payload_shapes(kind: str, body: object, ok: bool) -> None:
    raw = json.dumps(body).encode()
    if ok:
        verify(kind, TOKEN, headers(), raw)
    else:
        with pytest.raises(BadPayload):
            verify(kind, TOKEN, headers(), raw)


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        (
            "github",
            lambda e: headers(X_Hub_Signature_256="sha256=" + sign("sha256"), X_GitHub_Event=e),
        ),
        ("gitea", lambda e: headers(X_Gitea_Signature=sign("sha256"), X_Gitea_Event=e)),
        ("gitlab", lambda e: headers(X_Gitlab_Token=TOKEN, X_Gitlab_Event=e)),
    ],
)
def test_events_filter(kind: str, make: Callable[[str], CIMultiDict[str]]) -> None:
    verify(kind, TOKEN, make("Push"), BODY, ["push"])  # case-insensitive, as Flux
    verify(kind, TOKEN, make("issues"), BODY, [])  # no filter: everything
    with pytest.raises(EventNotAccepted):
        verify(kind, TOKEN, make("issues"), BODY, ["push", "ping"])


def test_cdevents_filter_uses_ce_type() -> None:
    body = json.dumps({"context": {"type": "dev.cdevents.artifact.published.0.1.1"}}).encode()
    verify(
        "cdevents",
        TOKEN,
        headers(Ce_Type="dev.cdevents.artifact.published.0.1.1"),
        body,
        ["dev.cdevents.artifact.published.0.1.1"],
    )
    with pytest.raises(EventNotAccepted):
        verify("cdevents", TOKEN, headers(), body, ["dev.cdevents.change.merged.0.1.2"])


def test_unsupported_types_are_refused() -> None:
    with pytest.raises(BadPayload, match="not supported"):
        verify("gcr", TOKEN, headers(), BODY)


def test_requested_at_is_gos_time_string() -> None:
    assert (
        requested_at_value(1_714_564_800_123_456_789) == "2024-05-01 12:00:00.123456789 +0000 UTC"
    )
    assert requested_at_value(1_714_564_800_500_000_000) == "2024-05-01 12:00:00.5 +0000 UTC"
    assert requested_at_value(1_714_564_800_000_000_000) == "2024-05-01 12:00:00 +0000 UTC"
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$", requested_at_value())
