"""A HelmRelease spec as the engine's options: timeouts, waiting, hooks, server-side apply,
CRD policies, history, post-rendering (Flux's defaults for what is unset).

- Every action's timeout is its own ``timeout``, else ``spec.timeout``, else 5m.
- ``waitStrategy.name: legacy`` selects Helm's legacy wait; ``poller`` (default) is kstatus.
- ``maxHistory`` defaults to 5 (0 = unlimited).
- CRDs: ``install.crds`` defaults to ``Create``, ``upgrade.crds`` to ``Skip``; the deprecated
  ``install.skipCRDs`` means ``Skip``.
- OpenAPI validation: with server-side apply (Flux's default) the API server validates every
  object against its schema as part of the apply (an undeclared field fails the typed patch),
  so Helm's client-side OpenAPI validation is skipped: it downloads and parses the cluster's
  whole OpenAPI document on every action (about 0.2 CPU-seconds each) and adds nothing. With
  client-side apply (``serverSideApply: false`` / ``disabled``) ``disableOpenAPIValidation``
  is honoured as it is.
"""

from __future__ import annotations

from typing import Literal

from weir.api.helm import HelmReleaseSpec, HelmTest, Install, Rollback, Uninstall, Upgrade
from weir.helmengine.crds import CRDPolicy
from weir.helmengine.engine import (
    DEFAULT_MAX_HISTORY,
    DEFAULT_TIMEOUT,
    InstallOptions,
    ReleaseTestOptions,
    RollbackOptions,
    ServerSideApply,
    UninstallOptions,
    UpgradeOptions,
    WaitStrategy,
    filters_to_options,
)
from weir.helmengine.postrender import PostRenderSpec
from weir.runtime.durations import parse_duration

_SSA_MODES: dict[str, ServerSideApply] = {"enabled": "true", "disabled": "false", "auto": "auto"}


def timeout(spec: HelmReleaseSpec, own: str | None = None) -> float:
    """An action's timeout in seconds: its own, else ``spec.timeout``, else 5m."""
    if own:
        return parse_duration(own)
    if spec.timeout:
        return parse_duration(spec.timeout)
    return DEFAULT_TIMEOUT


def wait_strategy(spec: HelmReleaseSpec) -> WaitStrategy:
    return "legacy" if spec.wait_strategy and spec.wait_strategy.name == "legacy" else "watcher"


def max_history(spec: HelmReleaseSpec) -> int:
    return DEFAULT_MAX_HISTORY if spec.max_history is None else int(spec.max_history)


def post_render_spec(name: str, namespace: str, spec: HelmReleaseSpec) -> PostRenderSpec:
    """postRenderers, commonMetadata and the origin labels of the HelmRelease."""
    return PostRenderSpec.for_release(name, namespace, spec.post_renderers, spec.common_metadata)


def install_options(
    spec: HelmReleaseSpec, post_render: PostRenderSpec, *, replace: bool = False
) -> InstallOptions:
    i = spec.install or Install()
    server_side = True if i.server_side_apply is None else bool(i.server_side_apply)
    return InstallOptions(
        timeout=timeout(spec, i.timeout),
        wait=not i.disable_wait,
        wait_strategy=wait_strategy(spec),
        wait_for_jobs=not i.disable_wait_for_jobs,
        disable_hooks=bool(i.disable_hooks),
        create_namespace=bool(i.create_namespace),
        replace=replace or bool(i.replace),
        take_ownership=not i.disable_take_ownership,
        server_side_apply=server_side,
        disable_openapi_validation=server_side or bool(i.disable_open_api_validation),
        disable_schema_validation=bool(i.disable_schema_validation),
        post_render=post_render,
        post_render_strategy=spec.post_render_strategy or "combined",
        max_history=max_history(spec),
    )


def upgrade_options(spec: HelmReleaseSpec, post_render: PostRenderSpec) -> UpgradeOptions:
    u = spec.upgrade or Upgrade()
    mode = _SSA_MODES[u.server_side_apply or "auto"]
    return UpgradeOptions(
        timeout=timeout(spec, u.timeout),
        wait=not u.disable_wait,
        wait_strategy=wait_strategy(spec),
        wait_for_jobs=not u.disable_wait_for_jobs,
        disable_hooks=bool(u.disable_hooks),
        take_ownership=not u.disable_take_ownership,
        disable_openapi_validation=mode != "false" or bool(u.disable_open_api_validation),
        disable_schema_validation=bool(u.disable_schema_validation),
        post_render=post_render,
        post_render_strategy=spec.post_render_strategy or "combined",
        max_history=max_history(spec),
        server_side_apply_mode=mode,
        force=bool(u.force),
        cleanup_on_fail=bool(u.cleanup_on_fail),
        preserve_values=bool(u.preserve_values),
    )


def rollback_options(spec: HelmReleaseSpec, revision: int | None) -> RollbackOptions:
    r = spec.rollback or Rollback()
    return RollbackOptions(
        timeout=timeout(spec, r.timeout),
        wait=not r.disable_wait,
        wait_strategy=wait_strategy(spec),
        wait_for_jobs=not r.disable_wait_for_jobs,
        disable_hooks=bool(r.disable_hooks),
        revision=revision,
        force=bool(r.force),
        cleanup_on_fail=bool(r.cleanup_on_fail),
        server_side_apply=_SSA_MODES[r.server_side_apply or "auto"],
        max_history=max_history(spec),
    )


def uninstall_options(spec: HelmReleaseSpec, *, description: str | None = None) -> UninstallOptions:
    u = spec.uninstall or Uninstall()
    return UninstallOptions(
        timeout=timeout(spec, u.timeout),
        wait=not u.disable_wait,
        wait_strategy=wait_strategy(spec),
        disable_hooks=bool(u.disable_hooks),
        keep_history=bool(u.keep_history),
        deletion_propagation=u.deletion_propagation or "background",
        ignore_not_found=True,
        description=description,
    )


def test_options(spec: HelmReleaseSpec) -> ReleaseTestOptions:
    t = spec.test or HelmTest()
    return filters_to_options(t.filters, timeout(spec, t.timeout))


def tests_enabled(spec: HelmReleaseSpec) -> bool:
    return bool(spec.test and spec.test.enable)


def crds_policy(spec: HelmReleaseSpec, action: Literal["install", "upgrade"]) -> CRDPolicy:
    if action == "install":
        i = spec.install or Install()
        if i.crds:
            return i.crds
        return "Skip" if i.skip_crds else "Create"
    return (spec.upgrade or Upgrade()).crds or "Skip"
