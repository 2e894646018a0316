"""Chat providers: Slack (and Discord / Rocket.Chat, which take Slack's format), Microsoft
Teams, Google Chat, Webex, Telegram and Matrix. Each ``*_payload`` function builds the body
from the event, as notification-controller formats it; the notifier classes send it.

Chat providers skip events marked ``commit_status: update`` (meant for commit statuses only).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from weir.notification.event import ERROR, FluxEvent, is_commit_status_update
from weir.notification.http import DeliveryError, Http
from weir.notification.notifiers.base import Delivery, Notifier, sorted_metadata

Payload = dict[str, Any]
SLACK_POST_MESSAGE = "https://slack.com/api/chat.postMessage"
TELEGRAM_API = "https://api.telegram.org"
TEAMS_LEGACY_SUFFIX = ".webhook.office.com"
TELEGRAM_ESCAPE = "\\.-_[]()~>`#+=|{}!*"


# ------------------------------------------------------------------------------------ Slack
def slack_payload(event: FluxEvent, *, channel: str = "", username: str = "") -> Payload:
    """A Slack message with one attachment: the object as author, the message as text, the
    metadata as fields, green (``good``) or red (``danger``) by severity."""
    return {
        "channel": channel,
        "username": username or event.reporting_controller,
        "icon_url": "",
        "icon_emoji": "",
        "attachments": [
            {
                "color": "danger" if event.severity == ERROR else "good",
                "author_name": event.object_display,
                "text": event.message,
                "mrkdwn_in": ["text"],
                "fields": [
                    {"title": k, "value": v, "short": False} for k, v in sorted_metadata(event)
                ],
            }
        ],
    }


def _slack_api_ok(response: httpx.Response) -> None:
    """chat.postMessage answers 200 with ``{"ok": false, "error": ...}`` on failure."""
    try:
        body = response.json()
    except ValueError as e:
        raise DeliveryError("Slack answered with a body that is not JSON", retryable=False) from e
    if not isinstance(body, dict) or not body.get("ok"):
        error = body.get("error") if isinstance(body, dict) else body
        raise DeliveryError(f"Slack responded with error: {error}", retryable=False)


class Slack(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata):
            return
        c = self.config
        headers = {"Authorization": f"Bearer {c.token}"} if c.token else {}
        validate = _slack_api_ok if c.address == SLACK_POST_MESSAGE else None
        payload = slack_payload(event, channel=c.channel, username=c.username)
        await http.post(c.address, payload, headers=headers, validate=validate)


class Discord(Notifier):
    """Discord's Slack-compatible endpoint: ``<webhook URL>/slack``."""

    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata):
            return
        url = self.config.address.rstrip("/")
        if not url.endswith("/slack"):
            url += "/slack"
        await http.post(url, slack_payload(event, username=self.config.username))


class Rocket(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata):
            return
        c = self.config
        await http.post(c.address, slack_payload(event, channel=c.channel, username=c.username))


# ------------------------------------------------------------------------------ MS Teams
def teams_payload(event: FluxEvent) -> Payload:
    """An Adaptive Card (Teams workflows): the object in bold, green or red by severity, the
    message, and the metadata as a FactSet."""
    facts = [{"title": k, "value": v} for k, v in sorted_metadata(event)]
    items: list[Payload] = [
        {
            "type": "TextBlock",
            "text": event.object_display,
            "size": "large",
            "weight": "bolder",
            "wrap": True,
            "color": "attention" if event.severity == ERROR else "good",
        },
        {"type": "TextBlock", "text": event.message, "wrap": True},
    ]
    if facts:
        items.append({"type": "FactSet", "facts": facts})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "Container", "items": items}],
                },
            }
        ],
    }


def teams_connector_payload(event: FluxEvent) -> Payload:
    """The deprecated Office 365 connector's MessageCard (``*.webhook.office.com``)."""
    return {
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "themeColor": "FF0000" if event.severity == ERROR else "0076D7",
        "summary": event.object_display,
        "sections": [
            {
                "activityTitle": event.message,
                "activitySubtitle": event.object_display,
                "facts": [{"name": k, "value": v} for k, v in sorted_metadata(event)],
            }
        ],
    }


class MSTeams(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata):
            return
        host = urlsplit(self.config.address).hostname or ""
        legacy = host.endswith(TEAMS_LEGACY_SUFFIX)
        payload = teams_connector_payload(event) if legacy else teams_payload(event)
        await http.post(self.config.address, payload)


# ---------------------------------------------------------------------------- Google Chat
def googlechat_payload(event: FluxEvent) -> Payload:
    """A card (Chat API cards v1): the object and controller in the header, the message (red
    for errors), then the timestamp and metadata as key-value widgets."""
    text = event.message
    if event.severity == ERROR:
        text = f'<font color="#ff0000">{event.message}</font>'
    values: list[Payload] = [
        {"keyValue": {"topLabel": "TIMESTAMP", "content": event.timestamp}},
        *({"keyValue": {"topLabel": k, "content": v}} for k, v in sorted_metadata(event)),
    ]
    return {
        "cards": [
            {
                "header": {"title": event.object_display, "subtitle": event.reporting_controller},
                "sections": [
                    {"widgets": [{"textParagraph": {"text": text}}]},
                    {"widgets": values},
                ],
            }
        ]
    }


class GoogleChat(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        # Flux skips Progressing events: Chat would replace the useful message with them
        if is_commit_status_update(event.metadata) or event.reason == "Progressing":
            return
        await http.post(self.config.address, googlechat_payload(event))


# --------------------------------------------------------------------------------- Webex
def webex_markdown(event: FluxEvent) -> str:
    emoji = "💣" if event.severity == ERROR else "✅"
    lines = [f"{emoji} **{event.object_display}**", event.message]
    lines += [f">**{k}**: {v}" for k, v in sorted_metadata(event)]
    return "\n".join(lines) + "\n"


def webex_payload(event: FluxEvent, room_id: str) -> Payload:
    """A message (``POST /v1/messages``) in markdown to the room ``spec.channel`` names."""
    return {"roomId": room_id, "markdown": webex_markdown(event)}


class Webex(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata):
            return
        c = self.config
        headers = {"Authorization": f"Bearer {c.token}"}
        await http.post(c.address, webex_payload(event, c.channel), headers=headers)


# ------------------------------------------------------------------------------ Telegram
def telegram_escape(text: str) -> str:
    """Escape MarkdownV2's reserved characters."""
    return "".join(f"\\{ch}" if ch in TELEGRAM_ESCAPE else ch for ch in text)


def telegram_payload(event: FluxEvent, channel: str) -> Payload:
    """``sendMessage`` in MarkdownV2; ``spec.channel`` is the chat id, optionally
    ``<chat>:<thread>`` for a forum topic."""
    emoji = "🚨" if event.severity == ERROR else "💫"
    heading = f"{emoji} {event.kind.lower()}/{event.name}/{event.namespace}"
    metadata = "".join(
        f"\\- *{telegram_escape(k)}*: {telegram_escape(v)}\n" for k, v in sorted_metadata(event)
    )
    text = f"*{telegram_escape(heading)}*\n{telegram_escape(event.message)}\n{metadata}"
    chat, sep, thread = channel.partition(":")
    payload: Payload = {"chat_id": chat, "text": text, "parse_mode": "MarkdownV2"}
    if sep:  # an Integer in the Bot API
        payload["message_thread_id"] = int(thread) if thread.lstrip("-").isdigit() else thread
    return payload


class Telegram(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata):
            return
        c = self.config
        base = (c.address or TELEGRAM_API).rstrip("/")
        await http.post(f"{base}/bot{c.token}/sendMessage", telegram_payload(event, c.channel))


# -------------------------------------------------------------------------------- Matrix
def matrix_payload(event: FluxEvent) -> Payload:
    """An ``m.room.message`` text event."""
    emoji = "🚨" if event.severity == ERROR else "💫"
    metadata = "".join(f"- {k}: {v}\n" for k, v in sorted_metadata(event))
    body = f"{emoji} {event.object_display}\n{event.message}\n{metadata}"
    return {"body": body, "msgtype": "m.text"}


def matrix_txn_id(event: FluxEvent) -> str:
    """The transaction id: sha1 of the event (a retry of the same event is idempotent)."""
    return hashlib.sha1(orjson.dumps(event.to_json()), usedforsecurity=False).hexdigest()


class Matrix(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata):
            return
        c = self.config
        room = quote(c.channel, safe="!:@")
        url = (
            f"{c.address.rstrip('/')}/_matrix/client/r0/rooms/{room}/send/m.room.message/"
            f"{matrix_txn_id(event)}"
        )
        headers = {"Authorization": f"Bearer {c.token}"}
        await http.request("PUT", url, json=matrix_payload(event), headers=headers)
