"""Each Provider type's payload, checked against the service's documented request schema
(written here from the services' API references, as JSON Schema) and against the parts of
Flux's format that users' receivers rely on."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

import jsonschema
import pytest

from weir.notification.event import FluxEvent
from weir.notification.http import DeliveryError
from weir.notification.notifiers import chat, git, incident, webhook
from weir.notification.notifiers.base import name_and_description, split_camel_case

KS = "kustomize.toolkit.fluxcd.io"
STR = {"type": "string"}


def event(severity: str = "error", reason: str = "HealthCheckFailed", **metadata: str) -> FluxEvent:
    return FluxEvent(
        involved_object={
            "apiVersion": f"{KS}/v1",
            "kind": "Kustomization",
            "name": "webapp",
            "namespace": "apps",
            "uid": "7d0cdc51-ddcf-4743-b223-83ca5c699632",
        },
        severity=severity,
        message="timeout waiting for: [Deployment/apps/web status: 'InProgress']",
        reason=reason,
        reporting_controller="kustomize-controller",
        timestamp="2024-05-01T12:00:00Z",
        metadata=metadata or {"revision": "main@sha1:0123456789abcdef0123456789abcdef01234567"},
    )


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 (jsonschema checks formats only with optional packages: check it here)."""
    if not isinstance(value, str) or "T" not in value:
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def check(schema: dict[str, Any], payload: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(payload, schema, format_checker=FORMATS)


def test_the_schema_check_can_fail() -> None:
    with pytest.raises(jsonschema.ValidationError):
        check(SLACK_MESSAGE, {"attachments": [{"colour": "good"}]})
    with pytest.raises(jsonschema.ValidationError):
        check({"format": "date-time"}, "yesterday")


# --- Slack: chat.postMessage arguments + legacy attachments (api.slack.com/reference/messaging)
SLACK_FIELD = {
    "type": "object",
    "properties": {"title": STR, "value": STR, "short": {"type": "boolean"}},
    "additionalProperties": False,
}
SLACK_ATTACHMENT = {
    "type": "object",
    "properties": {
        "color": {"type": "string", "pattern": "^(good|warning|danger|#[0-9a-fA-F]{6})$"},
        "author_name": STR,
        "text": STR,
        "mrkdwn_in": {"type": "array", "items": {"enum": ["pretext", "text", "fields"]}},
        "fields": {"type": "array", "items": SLACK_FIELD},
    },
    "additionalProperties": False,
}
SLACK_MESSAGE = {
    "type": "object",
    "properties": {
        "channel": STR,
        "username": STR,
        "icon_url": STR,
        "icon_emoji": STR,
        "text": STR,
        "attachments": {"type": "array", "items": SLACK_ATTACHMENT, "maxItems": 100},
    },
    "anyOf": [{"required": ["text"]}, {"required": ["attachments"]}],
    "additionalProperties": False,
}


def test_slack() -> None:
    payload = chat.slack_payload(event(), channel="general", username="flux")
    check(SLACK_MESSAGE, payload)
    (attachment,) = payload["attachments"]
    assert payload["channel"] == "general"
    assert payload["username"] == "flux"
    assert attachment["color"] == "danger"
    assert attachment["author_name"] == "kustomization/webapp.apps"
    assert attachment["fields"] == [
        {
            "title": "revision",
            "value": "main@sha1:0123456789abcdef0123456789abcdef01234567",
            "short": False,
        }
    ]
    info = chat.slack_payload(event("info"))
    assert info["username"] == "kustomize-controller"  # the reporting controller by default
    assert info["attachments"][0]["color"] == "good"


# --- Microsoft Teams: Adaptive Card 1.4 in a workflow message (adaptivecards.io/explorer)
TEXT_BLOCK = {
    "type": "object",
    "properties": {
        "type": {"const": "TextBlock"},
        "text": STR,
        "size": {"enum": ["default", "small", "medium", "large", "extraLarge"]},
        "weight": {"enum": ["default", "lighter", "bolder"]},
        "color": {"enum": ["default", "dark", "light", "accent", "good", "warning", "attention"]},
        "wrap": {"type": "boolean"},
    },
    "required": ["type", "text"],
    "additionalProperties": False,
}
FACT_SET = {
    "type": "object",
    "properties": {
        "type": {"const": "FactSet"},
        "facts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"title": STR, "value": STR},
                "required": ["title", "value"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["type", "facts"],
    "additionalProperties": False,
}
TEAMS_MESSAGE = {
    "type": "object",
    "properties": {
        "type": {"const": "message"},
        "attachments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "contentType": {"const": "application/vnd.microsoft.card.adaptive"},
                    "content": {
                        "type": "object",
                        "properties": {
                            "$schema": {
                                "const": "http://adaptivecards.io/schemas/adaptive-card.json"
                            },
                            "type": {"const": "AdaptiveCard"},
                            "version": {"pattern": r"^1\.[0-6]$"},
                            "body": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "type": {"const": "Container"},
                                        "items": {
                                            "type": "array",
                                            "items": {"oneOf": [TEXT_BLOCK, FACT_SET]},
                                        },
                                    },
                                    "required": ["type", "items"],
                                },
                            },
                        },
                        "required": ["type", "version", "body"],
                    },
                },
                "required": ["contentType", "content"],
            },
        },
    },
    "required": ["type", "attachments"],
}
TEAMS_CONNECTOR = {
    "type": "object",
    "properties": {
        "@type": {"const": "MessageCard"},
        "@context": {"const": "http://schema.org/extensions"},
        "themeColor": {"pattern": "^[0-9A-F]{6}$"},
        "summary": STR,
        "sections": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "activityTitle": STR,
                    "activitySubtitle": STR,
                    "facts": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"name": STR, "value": STR},
                            "required": ["name", "value"],
                        },
                    },
                },
            },
        },
    },
    "required": ["@type", "@context", "summary"],
}


def test_msteams() -> None:
    payload = chat.teams_payload(event())
    check(TEAMS_MESSAGE, payload)
    items = payload["attachments"][0]["content"]["body"][0]["items"]
    assert items[0]["text"] == "kustomization/webapp.apps"
    assert items[0]["color"] == "attention"
    assert items[1]["text"].startswith("timeout waiting")
    assert items[2]["facts"][0]["title"] == "revision"
    assert (
        chat.teams_payload(event("info"))["attachments"][0]["content"]["body"][0]["items"][0][
            "color"
        ]
        == "good"
    )
    legacy = chat.teams_connector_payload(event())
    check(TEAMS_CONNECTOR, legacy)
    assert legacy["themeColor"] == "FF0000"


# --- Google Chat: cards v1 (developers.google.com/chat/api/reference/rest/v1/cards-v1)
GOOGLE_WIDGET = {
    "type": "object",
    "oneOf": [
        {
            "properties": {"textParagraph": {"type": "object", "properties": {"text": STR}}},
            "required": ["textParagraph"],
        },
        {
            "properties": {
                "keyValue": {
                    "type": "object",
                    "properties": {"topLabel": STR, "content": STR},
                    "required": ["content"],
                }
            },
            "required": ["keyValue"],
        },
    ],
}
GOOGLE_CHAT = {
    "type": "object",
    "properties": {
        "cards": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "header": {
                        "type": "object",
                        "properties": {"title": STR, "subtitle": STR},
                        "required": ["title"],
                    },
                    "sections": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"widgets": {"type": "array", "items": GOOGLE_WIDGET}},
                        },
                    },
                },
            },
        }
    },
    "required": ["cards"],
}


def test_googlechat() -> None:
    payload = chat.googlechat_payload(event())
    check(GOOGLE_CHAT, payload)
    card = payload["cards"][0]
    assert card["header"] == {
        "title": "kustomization/webapp.apps",
        "subtitle": "kustomize-controller",
    }
    assert card["sections"][0]["widgets"][0]["textParagraph"]["text"].startswith(
        '<font color="#ff0000">'
    )
    assert card["sections"][1]["widgets"][0]["keyValue"]["topLabel"] == "TIMESTAMP"


# --- Webex: POST /v1/messages (developer.webex.com/docs/api/v1/messages/create-a-message)
WEBEX = {
    "type": "object",
    "properties": {"roomId": STR, "markdown": {"type": "string", "maxLength": 7439}},
    "required": ["roomId", "markdown"],
}


def test_webex() -> None:
    payload = chat.webex_payload(event(), "room-1")
    check(WEBEX, payload)
    assert payload["markdown"].splitlines()[0] == "💣 **kustomization/webapp.apps**"
    assert ">**revision**: main@sha1:" in payload["markdown"]


# --- Telegram: sendMessage (core.telegram.org/bots/api#sendmessage)
TELEGRAM = {
    "type": "object",
    "properties": {
        "chat_id": {"type": ["integer", "string"]},
        "message_thread_id": {"type": "integer"},
        "text": {"type": "string", "minLength": 1, "maxLength": 4096},
        "parse_mode": {"enum": ["MarkdownV2", "HTML", "Markdown"]},
    },
    "required": ["chat_id", "text"],
}


def test_telegram() -> None:
    payload = chat.telegram_payload(event(), "-100123:42")
    check(TELEGRAM, payload)
    assert payload["chat_id"] == "-100123"
    assert payload["message_thread_id"] == 42
    # MarkdownV2 reserves these characters: they must be escaped
    assert "kustomization/webapp/apps" in payload["text"]
    assert "\\[Deployment/apps/web status: 'InProgress'\\]" in payload["text"]
    assert chat.telegram_escape("a_b.c-d!") == "a\\_b\\.c\\-d\\!"
    assert "message_thread_id" not in chat.telegram_payload(event(), "@flux")


# --- Matrix: m.room.message m.text (spec.matrix.org client-server API)
MATRIX = {
    "type": "object",
    "properties": {"body": STR, "msgtype": {"const": "m.text"}},
    "required": ["body", "msgtype"],
}


def test_matrix() -> None:
    payload = chat.matrix_payload(event())
    check(MATRIX, payload)
    assert payload["body"].startswith("🚨 kustomization/webapp.apps\n")
    assert chat.matrix_txn_id(event()) == chat.matrix_txn_id(event())  # idempotent retries


# --- Opsgenie: POST /v2/alerts (docs.opsgenie.com/docs/alert-api#create-alert)
OPSGENIE = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "minLength": 1, "maxLength": 130},
        "description": {"type": "string", "maxLength": 15000},
        "details": {"type": "object", "additionalProperties": STR},
    },
    "required": ["message"],
}


def test_opsgenie() -> None:
    payload = incident.opsgenie_payload(event())
    check(OPSGENIE, payload)
    assert payload["message"] == "Kustomization/webapp"
    assert payload["details"]["severity"] == "error"


# --- PagerDuty: Events API v2 and change events (developer.pagerduty.com)
PAGERDUTY_EVENT = {
    "type": "object",
    "properties": {
        "routing_key": STR,
        "event_action": {"enum": ["trigger", "acknowledge", "resolve"]},
        "dedup_key": {"type": "string", "maxLength": 255},
        "payload": {
            "type": "object",
            "properties": {
                "summary": {"type": "string", "maxLength": 1024},
                "source": STR,
                "severity": {"enum": ["critical", "error", "warning", "info"]},
                "timestamp": {"type": "string", "format": "date-time"},
                "component": STR,
                "group": STR,
                "class": STR,
                "custom_details": {"type": "object"},
            },
            "required": ["summary", "source", "severity"],
        },
    },
    "required": ["routing_key", "event_action"],
    "if": {"properties": {"event_action": {"const": "trigger"}}},
    "then": {"required": ["payload"]},
    "else": {"required": ["dedup_key"]},
}
PAGERDUTY_CHANGE = {
    "type": "object",
    "properties": {
        "routing_key": STR,
        "payload": {
            "type": "object",
            "properties": {
                "summary": {"type": "string", "maxLength": 1024},
                "source": STR,
                "timestamp": {"type": "string", "format": "date-time"},
                "custom_details": {"type": "object"},
            },
            "required": ["summary"],
        },
    },
    "required": ["routing_key", "payload"],
}


def test_pagerduty() -> None:
    trigger = incident.pagerduty_event(event(), "key")
    check(PAGERDUTY_EVENT, trigger)
    assert trigger["event_action"] == "trigger"
    assert trigger["payload"]["summary"] == "health check failed: kustomization/webapp"
    resolve = incident.pagerduty_event(event("info"), "key")
    check(PAGERDUTY_EVENT, resolve)
    assert resolve["event_action"] == "resolve"
    assert resolve["dedup_key"] == trigger["dedup_key"]  # the recovery closes the incident
    check(PAGERDUTY_CHANGE, incident.pagerduty_change_event(event("info"), "key"))


# --- Alertmanager: POST /api/v2/alerts, postableAlerts (prometheus/alertmanager openapi.yaml)
ALERTMANAGER = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "labels": {
                "type": "object",
                "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
                "additionalProperties": STR,
            },
            "annotations": {"type": "object", "additionalProperties": STR},
            "startsAt": {"type": "string", "format": "date-time"},
            "endsAt": {"type": "string", "format": "date-time"},
            "generatorURL": {"type": "string", "format": "uri"},
        },
        "required": ["labels"],
    },
}


def test_alertmanager() -> None:
    payload = incident.alertmanager_payload(
        event(**{"revision": "main@sha1:abc", "summary": "prod", "app.kubernetes.io/env": "x"})
    )
    check(ALERTMANAGER, payload)
    (alert,) = payload
    assert alert["status"] == "firing"
    assert alert["labels"]["alertname"] == "FluxKustomizationHealthCheckFailed"
    assert alert["labels"]["app_kubernetes_io_env"] == "x"
    assert alert["labels"]["severity"] == "error"
    assert alert["annotations"] == {"message": event().message, "summary": "prod"}
    assert "summary" not in alert["labels"]
    assert alert["startsAt"] == "2024-05-01T12:00:00Z"


def test_grafana() -> None:
    payload = incident.grafana_payload(event())
    check(
        {
            "type": "object",
            "properties": {"text": STR, "tags": {"type": "array", "items": STR}},
            "required": ["text"],
        },
        payload,
    )
    assert payload["tags"][:2] == ["flux", "kustomize-controller"]
    assert "kind: Kustomization" in payload["tags"]
    assert payload["when"] == 1714564800


# --- Git forges: commit statuses
GITHUB_STATUS = {
    "type": "object",
    "properties": {
        "state": {"enum": ["error", "failure", "pending", "success"]},
        "target_url": STR,
        "description": STR,
        "context": STR,
    },
    "required": ["state"],
    "additionalProperties": False,
}
GITEA_STATUS = {
    "type": "object",
    "properties": {
        "state": {"enum": ["pending", "success", "error", "failure", "warning"]},
        "target_url": STR,
        "description": STR,
        "context": STR,
    },
    "required": ["state"],
    "additionalProperties": False,
}
GITLAB_STATUS = {
    "type": "object",
    "properties": {
        "state": {"enum": ["pending", "running", "success", "failed", "canceled", "skipped"]},
        "name": STR,
        "description": STR,
        "target_url": STR,
    },
    "required": ["state"],
    "additionalProperties": False,
}
BITBUCKET_STATUS = {
    "type": "object",
    "properties": {
        "state": {"enum": ["SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED"]},
        "key": {"type": "string", "maxLength": 40},
        "name": STR,
        "description": STR,
        "url": STR,
    },
    "required": ["state", "key", "url"],
}
AZURE_STATUS = {
    "type": "object",
    "properties": {
        "state": {"enum": ["notSet", "pending", "succeeded", "failed", "error", "notApplicable"]},
        "description": STR,
        "context": {
            "type": "object",
            "properties": {"name": STR, "genre": STR},
            "required": ["name"],
        },
    },
    "required": ["state", "context"],
}


def test_commit_statuses() -> None:
    failed, ok = event(), event("info", "ReconciliationSucceeded")
    context = "kustomization/webapp/7d0cdc51"
    check(GITHUB_STATUS, git.github_status(failed, context))
    assert git.github_status(failed, context) == {
        "state": "failure",
        "context": context,
        "description": "health check failed",
    }
    assert git.github_status(ok, context)["state"] == "success"
    check(GITEA_STATUS, git.gitea_status(failed, context))
    assert git.gitea_status(ok, context)["state"] == "success"
    check(GITLAB_STATUS, git.gitlab_status(failed, context))
    assert git.gitlab_status(failed, context)["state"] == "failed"
    bb = git.bitbucket_status(failed, context, "https://bitbucket.org/o/r")
    check(BITBUCKET_STATUS, bb)
    assert bb["key"] == hashlib.sha1(context.encode()).hexdigest()
    check(AZURE_STATUS, git.azuredevops_status(ok, context))
    assert git.azuredevops_status(ok, context)["context"] == {"name": context, "genre": "fluxcd"}


def test_github_dispatch() -> None:
    payload = git.github_dispatch_payload(event())
    check(
        {
            "type": "object",
            "properties": {
                "event_type": {"type": "string", "minLength": 1, "maxLength": 100},
                "client_payload": {"type": "object", "maxProperties": 10},
            },
            "required": ["event_type"],
        },
        payload,
    )
    assert payload["event_type"] == "Kustomization/webapp.apps"
    assert payload["client_payload"]["involvedObject"]["name"] == "webapp"


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"originRevision": "v1@sha1:" + "a" * 40, "revision": "main@sha1:" + "b" * 40}, "a" * 40),
        ({"revision": "main@sha1:" + "b" * 40}, "b" * 40),
        ({"revision": "sha1:" + "c" * 40}, "c" * 40),
        ({"revision": "main/" + "d" * 40}, "d" * 40),
        ({"originRevision": "1.0.0", "revision": "main@sha1:" + "e" * 40}, "e" * 40),
    ],
)
def test_the_commit_comes_from_the_origin_revision_first(
    metadata: dict[str, str], expected: str
) -> None:
    assert git.event_commit(event(**metadata)) == expected


def test_an_event_without_a_commit_is_not_sent() -> None:
    with pytest.raises(DeliveryError, match="missing revision"):
        git.event_commit(event(other="x"))
    with pytest.raises(DeliveryError, match="does not name a Git commit"):
        git.event_commit(event(revision="6.0.3"))


def test_generic_hmac_signature() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert webhook.signature(body, "s3cret") == f"sha256={expected}"


def test_names_and_descriptions() -> None:
    assert split_camel_case("ReconciliationSucceeded") == ["Reconciliation", "Succeeded"]
    assert split_camel_case("HTTPServerError") == ["HTTP", "Server", "Error"]
    assert name_and_description(event()) == ("kustomization/webapp", "health check failed")
    assert name_and_description(event(summary="Prod EU")) == (
        "prod eu/kustomization/webapp",
        "health check failed",
    )
