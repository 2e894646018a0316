"""HelmRelease spec -> remediation policy and engine options (weir.helm.remediation,
weir.helm.options)."""

from __future__ import annotations

from typing import Any

import pytest

from weir.api.helm import HelmReleaseSpec
from weir.helm import options
from weir.helm.remediation import for_action


def spec(**fields: Any) -> HelmReleaseSpec:
    return HelmReleaseSpec.model_validate(
        {"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": "x"}, **fields}
    )


def test_remediation_defaults_are_flux_defaults() -> None:
    install = for_action(spec(), "install")
    assert (install.retries, install.remediate_last_failure, install.strategy) == (
        0,
        False,
        "uninstall",
    )
    assert install.exhausted(1)
    assert not install.exhausted(0)
    assert not install.remediates(1)  # the last failure is left as it is
    upgrade = for_action(spec(), "upgrade")
    assert (upgrade.retries, upgrade.remediate_last_failure, upgrade.strategy) == (
        0,
        False,
        "rollback",
    )


def test_upgrade_remediate_last_failure_defaults_to_retries_above_zero() -> None:
    policy = for_action(spec(upgrade={"remediation": {"retries": 2}}), "upgrade")
    assert policy.remediate_last_failure
    assert [policy.exhausted(n) for n in (1, 2, 3)] == [False, False, True]
    assert policy.remediates(3)
    assert policy.describe_attempts(2) == "attempt 2 of 3"
    explicit = for_action(
        spec(upgrade={"remediation": {"retries": 2, "remediateLastFailure": False}}), "upgrade"
    )
    assert not explicit.remediates(3)


def test_unlimited_retries_and_retry_on_failure() -> None:
    unlimited = for_action(spec(install={"remediation": {"retries": -1}}), "install")
    assert not unlimited.exhausted(1000)
    assert unlimited.describe_attempts(7) == "attempt 7, retries unlimited"
    retry = for_action(
        spec(upgrade={"strategy": {"name": "RetryOnFailure", "retryInterval": "1m"}}), "upgrade"
    )
    assert retry.retry_on_failure
    assert retry.retry_interval == 60.0
    assert not retry.remediates(1)
    default_interval = for_action(spec(install={"strategy": {"name": "RetryOnFailure"}}), "install")
    assert default_interval.retry_interval == 300.0


def test_ignore_test_failures_falls_back_to_test_ignore_failures() -> None:
    assert for_action(
        spec(test={"enable": True, "ignoreFailures": True}), "upgrade"
    ).ignore_test_failures
    assert not for_action(
        spec(
            test={"enable": True, "ignoreFailures": True},
            upgrade={"remediation": {"ignoreTestFailures": False}},
        ),
        "upgrade",
    ).ignore_test_failures


def test_timeouts_and_wait_strategy() -> None:
    s = spec(timeout="2m", install={"timeout": "30s"}, waitStrategy={"name": "legacy"})
    pr = options.post_render_spec("web", "apps", s)
    install = options.install_options(s, pr)
    assert install.timeout == 30.0
    assert install.wait_strategy == "legacy"
    assert options.upgrade_options(s, pr).timeout == 120.0
    assert options.timeout(spec()) == 300.0
    assert options.test_options(s).timeout == 120.0


def test_install_and_upgrade_options() -> None:
    s = spec(
        maxHistory=0,
        install={"disableWait": True, "createNamespace": True, "disableTakeOwnership": True},
        upgrade={"serverSideApply": "disabled", "force": True, "cleanupOnFail": True},
        postRenderers=[{"kustomize": {"images": [{"name": "nginx", "newTag": "1.28"}]}}],
        commonMetadata={"labels": {"team": "eth"}},
    )
    pr = options.post_render_spec("web", "apps", s)
    install = options.install_options(s, pr, replace=True)
    assert (install.wait, install.create_namespace, install.take_ownership) == (False, True, False)
    assert install.replace
    assert install.server_side_apply
    assert install.disable_openapi_validation  # the API server validates server-side applies
    assert install.post_render is pr
    assert pr.labels == {"team": "eth"}
    assert pr.origin_name == "web"
    assert pr.kustomize[0].images == ({"name": "nginx", "newTag": "1.28"},)
    upgrade = options.upgrade_options(s, pr)
    assert upgrade.server_side_apply_mode == "false"
    assert not upgrade.disable_openapi_validation  # client-side apply: Helm validates
    assert (upgrade.force, upgrade.cleanup_on_fail, upgrade.max_history) == (True, True, 0)
    assert options.upgrade_options(spec(), pr).max_history == 5


def test_rollback_uninstall_and_test_options() -> None:
    s = spec(
        rollback={"disableWait": True, "serverSideApply": "enabled"},
        uninstall={"keepHistory": True, "deletionPropagation": "foreground"},
        test={"enable": True, "filters": [{"name": "smoke"}, {"name": "slow", "exclude": True}]},
    )
    rollback = options.rollback_options(s, 3)
    assert (rollback.revision, rollback.wait, rollback.server_side_apply) == (3, False, "true")
    uninstall = options.uninstall_options(s)
    assert uninstall.keep_history
    assert uninstall.deletion_propagation == "foreground"
    assert uninstall.ignore_not_found
    tests = options.test_options(s)
    assert (tests.include, tests.exclude) == (("smoke",), ("slow",))
    assert options.tests_enabled(s)
    assert not options.tests_enabled(spec())


@pytest.mark.parametrize(
    ("fields", "install", "upgrade"),
    [
        ({}, "Create", "Skip"),
        ({"install": {"skipCRDs": True}}, "Skip", "Skip"),
        (
            {"install": {"crds": "CreateReplace"}, "upgrade": {"crds": "Create"}},
            "CreateReplace",
            "Create",
        ),
    ],
)
def test_crd_policies(fields: dict[str, Any], install: str, upgrade: str) -> None:
    s = spec(**fields)
    assert options.crds_policy(s, "install") == install
    assert options.crds_policy(s, "upgrade") == upgrade
