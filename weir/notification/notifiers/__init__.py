"""One notifier per Provider type (see :data:`NOTIFIERS`), built by :func:`notifier_for`.

- :mod:`.chat`: slack, discord, rocket, msteams, googlechat, webex, telegram, matrix
- :mod:`.webhook`: generic, generic-hmac
- :mod:`.incident`: opsgenie, pagerduty, alertmanager, grafana
- :mod:`.git`: github, gitlab, gitea, bitbucket, azuredevops (commit statuses), githubdispatch
"""

from __future__ import annotations

from weir.notification.config import SUPPORTED_TYPES, ProviderConfig
from weir.notification.notifiers import chat, git, incident, webhook
from weir.notification.notifiers.base import Delivery, Notifier

NOTIFIERS: dict[str, type[Notifier]] = {
    "slack": chat.Slack,
    "discord": chat.Discord,
    "rocket": chat.Rocket,
    "msteams": chat.MSTeams,
    "googlechat": chat.GoogleChat,
    "webex": chat.Webex,
    "telegram": chat.Telegram,
    "matrix": chat.Matrix,
    "generic": webhook.Generic,
    "generic-hmac": webhook.GenericHMAC,
    "opsgenie": incident.Opsgenie,
    "pagerduty": incident.PagerDuty,
    "alertmanager": incident.Alertmanager,
    "grafana": incident.Grafana,
    "github": git.GitHub,
    "gitlab": git.GitLab,
    "gitea": git.Gitea,
    "bitbucket": git.Bitbucket,
    "azuredevops": git.AzureDevOps,
    "githubdispatch": git.GitHubDispatch,
}
assert set(NOTIFIERS) == SUPPORTED_TYPES, "config.SUPPORTED_TYPES and NOTIFIERS disagree"

__all__ = ["NOTIFIERS", "Delivery", "Notifier", "notifier_for"]


def notifier_for(config: ProviderConfig) -> Notifier:
    """The notifier of ``config.type`` (a resolved config: the type is supported)."""
    return NOTIFIERS[config.type](config)
