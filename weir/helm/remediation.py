"""What a HelmRelease says to do when an install or upgrade (or its tests) fails.

``spec.install`` / ``spec.upgrade`` each carry a ``strategy`` and a ``remediation``:

- ``strategy.name: RemediateOnFailure`` (the default): the failure is counted
  (``status.installFailures`` / ``upgradeFailures``); while the count is within
  ``remediation.retries`` the failed release is remediated and the action retried. When the
  retries are exhausted the release is remediated once more only with
  ``remediateLastFailure`` (install default false; upgrade default ``retries > 0``), and the
  HelmRelease stalls with ``RetriesExceeded`` until its spec, chart or values change.
  A negative ``retries`` never exhausts.
- ``strategy.name: RetryOnFailure``: no remediation; the failed action is retried after
  ``strategy.retryInterval`` (default 5m).

Install failures are remediated by uninstalling; upgrade failures by rolling back to the
previous successful release (``remediation.strategy: rollback``, the default) or uninstalling.
Test failures count as failures of the action they followed, unless ignored
(``remediation.ignoreTestFailures``, defaulting to ``test.ignoreFailures``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from weir.api.helm import HelmReleaseSpec, Install, Upgrade
from weir.runtime.durations import parse_duration

Action = Literal["install", "upgrade"]
DEFAULT_RETRY_INTERVAL = 300.0


@dataclass(frozen=True)
class Remediation:
    """The failure policy of one action."""

    action: Action
    retries: int = 0
    remediate_last_failure: bool = False
    strategy: Literal["rollback", "uninstall"] = "uninstall"
    ignore_test_failures: bool = False
    retry_on_failure: bool = False
    retry_interval: float = DEFAULT_RETRY_INTERVAL

    def exhausted(self, failures: int) -> bool:
        """No retry left after ``failures`` failures."""
        return self.retries >= 0 and failures > self.retries

    def remediates(self, failures: int) -> bool:
        """Whether the failed release is remediated after ``failures`` failures."""
        if self.retry_on_failure:
            return False
        return not self.exhausted(failures) or self.remediate_last_failure

    def describe_attempts(self, failures: int) -> str:
        if self.retries < 0:
            return f"attempt {failures}, retries unlimited"
        return f"attempt {failures} of {self.retries + 1}"


def for_action(spec: HelmReleaseSpec, action: Action) -> Remediation:
    """The policy of ``action`` in ``spec`` (Flux's defaults for what is unset)."""
    test_ignores = bool(spec.test and spec.test.ignore_failures)
    section: Install | Upgrade = (
        (spec.install or Install()) if action == "install" else (spec.upgrade or Upgrade())
    )
    retry_on_failure = bool(section.strategy and section.strategy.name == "RetryOnFailure")
    retry_interval = (
        parse_duration(section.strategy.retry_interval)
        if section.strategy and section.strategy.retry_interval
        else DEFAULT_RETRY_INTERVAL
    )
    rem = section.remediation
    retries = int(rem.retries) if rem is not None and rem.retries is not None else 0
    ignore = (
        bool(rem.ignore_test_failures)
        if rem is not None and rem.ignore_test_failures is not None
        else test_ignores
    )
    if action == "install":
        last = bool(rem and rem.remediate_last_failure)
        return Remediation(
            action,
            retries,
            last,
            "uninstall",
            ignore,
            retry_on_failure,
            retry_interval,
        )
    upgrade_rem = spec.upgrade.remediation if spec.upgrade else None
    if upgrade_rem is not None and upgrade_rem.remediate_last_failure is not None:
        last = bool(upgrade_rem.remediate_last_failure)
    else:
        last = retries > 0
    strategy = (upgrade_rem.strategy if upgrade_rem else None) or "rollback"
    return Remediation(action, retries, last, strategy, ignore, retry_on_failure, retry_interval)
