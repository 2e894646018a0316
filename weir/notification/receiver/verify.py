"""Is a webhook call genuine? The checks of each Receiver type, as notification-controller
makes them (the token is the ``token`` of the Receiver's Secret):

============  ==============================================================================
type          check
============  ==============================================================================
generic       none (the webhook path is the secret)
generic-hmac  ``X-Signature: <sha1|sha224|sha256|sha384|sha512>=<hex HMAC of the body>``
github        ``X-Hub-Signature-256: sha256=<hex>`` (or ``X-Hub-Signature: sha1=<hex>``);
              event ``X-GitHub-Event``; the payload must be JSON (or the ``payload`` form
              field). Gitea sends these headers too.
gitea         ``X-Gitea-Signature: <hex HMAC-SHA256>``; event ``X-Gitea-Event`` (weir's type)
gitlab        ``X-Gitlab-Token`` equals the token; event ``X-Gitlab-Event``
bitbucket     ``X-Hub-Signature: sha256=<hex>`` (Bitbucket Server); event ``X-Event-Key``
harbor        ``Authorization`` equals the token
dockerhub     the body is DockerHub's JSON (``push_data``, ``repository``)
quay          the body is Quay's push JSON (``docker_url``, ``updated_tags``)
nexus         ``X-Nexus-Webhook-Signature: <hex HMAC-SHA1>``; the body is JSON
acr           the body is ACR's JSON (``action``, ``target``)
cdevents      the body is a CDEvent (``context.type`` ``dev.cdevents.*``); event ``Ce-Type``
============  ==============================================================================

A failed authenticity check is :class:`Unauthorized` (``401``); a body that is not what the
type sends is :class:`BadPayload` (``400``); an event type outside ``spec.events`` is
:class:`EventNotAccepted` (``400``, Flux's answer too). Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import orjson

from weir.errors import WeirError

EVENT_FILTER_TYPES = frozenset({"github", "gitea", "gitlab", "bitbucket", "cdevents"})
SUPPORTED_TYPES = frozenset(
    {
        "generic",
        "generic-hmac",
        "github",
        "gitea",
        "gitlab",
        "bitbucket",
        "harbor",
        "dockerhub",
        "quay",
        "nexus",
        "acr",
        "cdevents",
    }
)
_HASHES: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha224": hashlib.sha224,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


class WebhookError(WeirError):
    status = 400


class Unauthorized(WebhookError):
    """The request did not prove it knows the token."""

    status = 401


class BadPayload(WebhookError):
    """The body is not what this Receiver type sends."""


class EventNotAccepted(WebhookError):
    """The event type is not in ``spec.events``."""


def hmac_hex(token: str, body: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(token.encode(), body, _HASHES[algorithm]).hexdigest()


def _check_prefixed(header: str, value: str | None, token: str, body: bytes) -> None:
    """``<algo>=<hex>`` signatures (GitHub, Bitbucket Server, generic-hmac)."""
    if not value:
        raise Unauthorized(f"missing {header} header")
    algorithm, sep, digest = value.partition("=")
    if not sep or algorithm not in _HASHES:
        raise Unauthorized(f"the {header} header is malformed or uses an unknown algorithm")
    if not hmac.compare_digest(hmac_hex(token, body, algorithm), digest.strip().lower()):
        raise Unauthorized(f"the {header} signature does not match the body")


def _check_plain(header: str, value: str | None, token: str, body: bytes, algorithm: str) -> None:
    if not value:
        raise Unauthorized(f"missing {header} header")
    if not hmac.compare_digest(hmac_hex(token, body, algorithm), value.strip().lower()):
        raise Unauthorized(f"the {header} signature does not match the body")


def _check_equal(header: str, value: str | None, token: str) -> None:
    if not value or not hmac.compare_digest(value.encode(), token.encode()):
        raise Unauthorized(f"the {header} header does not match the Receiver's token")


def parse_json(body: bytes, what: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise BadPayload(f"cannot decode the {what} payload: {e}") from e


def _github_payload(headers: Mapping[str, str], body: bytes) -> Any:
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode(errors="replace"))
        payload = form.get("payload")
        if not payload:
            raise BadPayload("the form has no 'payload' field")
        return parse_json(payload[0].encode(), "GitHub")
    return parse_json(body, "GitHub")


def _require_object(payload: Any, fields: Sequence[str], what: str) -> None:
    if not isinstance(payload, dict) or not any(f in payload for f in fields):
        raise BadPayload(f"the body is not a {what} webhook payload")


def _filter(kind: str, event: str, events: Sequence[str]) -> None:
    if events and event.lower() not in {e.lower() for e in events}:
        raise EventNotAccepted(f"the {kind} event '{event}' is not in spec.events")


def verify(
    receiver_type: str,
    token: str,
    headers: Mapping[str, str],
    body: bytes,
    events: Sequence[str] = (),
) -> tuple[str, Any]:
    """Check a call; returns the event type (``""`` when the type has none) and the decoded
    payload (None when the type's body is not JSON). ``headers`` must look names up
    case-insensitively (aiohttp's headers do)."""
    get = headers.get
    if receiver_type == "generic":
        return "", None
    if receiver_type == "generic-hmac":
        _check_prefixed("X-Signature", get("X-Signature"), token, body)
        return "", None
    if receiver_type == "github":
        if get("X-Hub-Signature-256"):
            _check_prefixed("X-Hub-Signature-256", get("X-Hub-Signature-256"), token, body)
        else:
            _check_prefixed("X-Hub-Signature", get("X-Hub-Signature"), token, body)
        payload = _github_payload(headers, body)
        event = get("X-GitHub-Event", "")
        _filter("GitHub", event, events)
        return event, payload
    if receiver_type == "gitea":
        _check_plain("X-Gitea-Signature", get("X-Gitea-Signature"), token, body, "sha256")
        payload = parse_json(body, "Gitea")
        event = get("X-Gitea-Event", "")
        _filter("Gitea", event, events)
        return event, payload
    if receiver_type == "gitlab":
        _check_equal("X-Gitlab-Token", get("X-Gitlab-Token"), token)
        event = get("X-Gitlab-Event", "")
        _filter("GitLab", event, events)
        return event, parse_json(body, "GitLab") if body else None
    if receiver_type == "bitbucket":
        _check_prefixed("X-Hub-Signature", get("X-Hub-Signature"), token, body)
        event = get("X-Event-Key", "")
        _filter("Bitbucket server", event, events)
        return event, parse_json(body, "Bitbucket") if body else None
    if receiver_type == "harbor":
        _check_equal("Authorization", get("Authorization"), token)
        return "", parse_json(body, "Harbor") if body else None
    if receiver_type == "dockerhub":
        payload = parse_json(body, "DockerHub")
        _require_object(payload, ("push_data", "repository"), "DockerHub")
        return "", payload
    if receiver_type == "quay":
        payload = parse_json(body, "Quay")
        _require_object(payload, ("docker_url", "updated_tags"), "Quay")
        return "", payload
    if receiver_type == "nexus":
        _check_plain(
            "X-Nexus-Webhook-Signature", get("X-Nexus-Webhook-Signature"), token, body, "sha1"
        )
        payload = parse_json(body, "Nexus")
        _require_object(payload, ("action", "repositoryName"), "Nexus")
        return "", payload
    if receiver_type == "acr":
        payload = parse_json(body, "ACR")
        _require_object(payload, ("action", "target"), "ACR")
        return "", payload
    if receiver_type == "cdevents":
        payload = parse_json(body, "CDEvents")
        context = payload.get("context") if isinstance(payload, dict) else None
        body_type = str((context or {}).get("type") or "")
        if not body_type.startswith("dev.cdevents."):
            raise BadPayload("the body is not a CDEvent (context.type dev.cdevents.*)")
        event = get("Ce-Type") or body_type
        _filter("CDEvents", event, events)
        return event, payload
    raise BadPayload(f"receiver type '{receiver_type}' is not supported by weir")
