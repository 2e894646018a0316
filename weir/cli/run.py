"""``weir run``: the controller manager. Flags reuse the names of Flux's controllers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Annotated

import typer

from weir import log as runtime_logging
from weir.auth.users import AuthSettings
from weir.cli.logopts import checked_logging
from weir.cli.options import (
    WebAccessTTLOpt,
    WebAllowedHostsOpt,
    WebAuthProxyHeaderOpt,
    WebConfigOpt,
    WebUsersFileOpt,
)
from weir.errors import ConfigError, UsageError
from weir.helm.settings import HelmSettings
from weir.kustomize.settings import KustomizeSettings
from weir.notification.settings import NotificationSettings
from weir.operator.settings import OperatorSettings
from weir.runtime.durations import parse_duration
from weir.runtime.factories import REGISTRY
from weir.runtime.manager import Manager
from weir.runtime.settings import LeaderElectionSettings, RunSettings, pod_namespace
from weir.source.settings import SourceSettings, StorageSettings
from weir.web.factory import controllers as web_service
from weir.web.settings import DEFAULT_ADDR as DEFAULT_WEB_ADDR
from weir.web.settings import WebSettings

_DEFAULTS = RunSettings()
_LE = LeaderElectionSettings()
_STORAGE = StorageSettings()
_NOTIFY = NotificationSettings()
_OPERATOR = OperatorSettings()


def _duration(flag: str, value: str) -> float:
    try:
        return parse_duration(value)
    except ConfigError as e:
        raise UsageError(f"{flag}: {e}") from None


def _controllers_help() -> str:
    names = ", ".join(REGISTRY.names()) or "none registered yet"
    return (
        "Controllers to start, comma-separated: '*' = all enabled by default, "
        f"'name' enables, '-name' disables (known: {names})."
    )


def command(  # noqa: PLR0917 - typer maps each parameter to a flag
    controllers: Annotated[str, typer.Option("--controllers", help=_controllers_help())] = (
        _DEFAULTS.controllers
    ),
    kubeconfig: Annotated[
        str | None,
        typer.Option("--kubeconfig", help="Path to a kubeconfig (default: $KUBECONFIG)."),
    ] = None,
    context: Annotated[
        str | None, typer.Option("--context", help="The kubeconfig context to use.")
    ] = None,
    metrics_addr: Annotated[
        str, typer.Option("--metrics-addr", help="Address of /metrics; 0 disables.")
    ] = _DEFAULTS.metrics_addr,
    health_addr: Annotated[
        str, typer.Option("--health-addr", help="Address of /healthz and /readyz; 0 disables.")
    ] = _DEFAULTS.health_addr,
    concurrent: Annotated[
        int, typer.Option("--concurrent", min=1, help="Concurrent reconciles per controller.")
    ] = _DEFAULTS.concurrent,
    min_retry_delay: Annotated[
        str, typer.Option("--min-retry-delay", help="First backoff delay after an error.")
    ] = "750ms",
    max_retry_delay: Annotated[
        str, typer.Option("--max-retry-delay", help="Longest backoff delay.")
    ] = "15m",
    interval_jitter_percentage: Annotated[
        float,
        typer.Option(
            "--interval-jitter-percentage", min=0, max=100, help="± spread of requeue intervals."
        ),
    ] = _DEFAULTS.jitter_percent,
    watch_namespace: Annotated[
        str | None,
        typer.Option("--watch-namespace", help="Watch only this namespace (default: all)."),
    ] = None,
    watch_label_selector: Annotated[
        str | None,
        typer.Option("--watch-label-selector", help="Watch only matching objects (sharding)."),
    ] = None,
    graceful_shutdown_timeout: Annotated[
        str,
        typer.Option(
            "--graceful-shutdown-timeout", help="Time in-flight reconciles get after SIGTERM."
        ),
    ] = "30s",
    enable_leader_election: Annotated[
        bool,
        typer.Option("--enable-leader-election", help="Run as one of several replicas."),
    ] = False,
    leader_election_lease_duration: Annotated[
        str, typer.Option("--leader-election-lease-duration", help="Lease duration.")
    ] = "35s",
    leader_election_renew_deadline: Annotated[
        str, typer.Option("--leader-election-renew-deadline", help="Renew deadline.")
    ] = "30s",
    leader_election_retry_period: Annotated[
        str, typer.Option("--leader-election-retry-period", help="Retry period.")
    ] = "5s",
    leader_election_release_on_cancel: Annotated[
        bool,
        typer.Option(
            "--leader-election-release-on-cancel/--no-leader-election-release-on-cancel",
            help="Release the lease on graceful shutdown.",
        ),
    ] = True,
    leader_election_id: Annotated[
        str, typer.Option("--leader-election-id", help="Name of the Lease.")
    ] = _LE.lease_name,
    leader_election_namespace: Annotated[
        str | None,
        typer.Option(
            "--leader-election-namespace",
            help="Namespace of the Lease (default: $POD_NAMESPACE or the pod's namespace).",
        ),
    ] = None,
    storage_path: Annotated[
        str, typer.Option("--storage-path", help="Directory of the source artifacts.")
    ] = _STORAGE.path,
    storage_addr: Annotated[
        str, typer.Option("--storage-addr", help="Address of the artifact HTTP server.")
    ] = _STORAGE.addr,
    storage_adv_addr: Annotated[
        str | None,
        typer.Option(
            "--storage-adv-addr",
            help="Host[:port] advertised in status.artifact.url (default: the bound address).",
        ),
    ] = None,
    no_cross_namespace_refs: Annotated[
        bool,
        typer.Option(
            "--no-cross-namespace-refs", help="Refuse references to objects in other namespaces."
        ),
    ] = False,
    no_remote_bases: Annotated[
        bool, typer.Option("--no-remote-bases", help="Refuse remote kustomize bases.")
    ] = False,
    default_service_account: Annotated[
        str | None,
        typer.Option(
            "--default-service-account",
            help="Service account to impersonate when spec.serviceAccountName is empty.",
        ),
    ] = None,
    requeue_dependency: Annotated[
        str,
        typer.Option(
            "--requeue-dependency", help="Retry delay while a source or dependency is not ready."
        ),
    ] = "30s",
    feature_gates: Annotated[
        str | None,
        typer.Option(
            "--feature-gates",
            help="Flux feature gates, Name=true|false,... weir honours ExternalArtifact (on by "
            "default: weir runs the ArtifactGenerator controller); other Flux gates are "
            "accepted and ignored.",
        ),
    ] = None,
    sops_age_secret: Annotated[
        str | None,
        typer.Option(
            "--sops-age-secret",
            help="Secret ([namespace/]name; default namespace $RUNTIME_NAMESPACE) with age keys "
            "every Kustomization with spec.decryption may use.",
        ),
    ] = None,
    receiver_addr: Annotated[
        str,
        typer.Option(
            "--receiver-addr",
            "--receiverAddr",
            help="Address of the webhook receiver server (Receivers); 0 disables.",
        ),
    ] = _NOTIFY.receiver_addr,
    events_addr: Annotated[
        str,
        typer.Option(
            "--events-addr",
            help="Address of Flux's event endpoint, for Flux's own controllers to POST events "
            "to; 0 (the default) disables it.",
        ),
    ] = _NOTIFY.events_addr,
    rate_limit_interval: Annotated[
        str,
        typer.Option(
            "--rate-limit-interval", help="Window in which duplicate events are not re-sent."
        ),
    ] = "5m",
    operator_mode: Annotated[
        str,
        typer.Option(
            "--operator-mode",
            help="operator: 'local' runs the FluxInstance's controllers in this process, "
            "'cluster' applies them as Deployments.",
        ),
    ] = _OPERATOR.mode,
    operator_namespace: Annotated[
        str | None,
        typer.Option(
            "--operator-namespace",
            help="operator: the namespace of the FluxInstance and FluxReport "
            "(default: $RUNTIME_NAMESPACE, the pod's namespace, else flux-system).",
        ),
    ] = None,
    reporting_interval: Annotated[
        str, typer.Option("--reporting-interval", help="operator: FluxReport refresh interval.")
    ] = "5m",
    distribution_catalog: Annotated[
        str | None,
        typer.Option(
            "--distribution-catalog",
            help="operator: YAML file of the weir releases to choose from (default: this one).",
        ),
    ] = None,
    plan_configmap: Annotated[
        str | None,
        typer.Option(
            "--plan-configmap",
            help="Run the controllers a FluxInstance unit's settings ConfigMap (NAMESPACE/NAME) "
            "names, following its changes live (implies --controllers=plan).",
        ),
    ] = None,
    build_workers: Annotated[
        int | None,
        typer.Option(
            "--build-workers",
            help="Worker processes for kustomize builds and substitution (default: CPUs, 2-8).",
        ),
    ] = None,
    build_memory_limit: Annotated[
        str,
        typer.Option(
            "--build-memory-limit", help="Memory one kustomize build may use (e.g. 512Mi, 1Gi)."
        ),
    ] = "1Gi",
    build_timeout: Annotated[
        str,
        typer.Option(
            "--build-timeout",
            help="Longest a kustomize build may run (spec.timeout when shorter).",
        ),
    ] = "5m",
    build_sandbox: Annotated[
        str,
        typer.Option(
            "--build-sandbox",
            help="Confine kustomize to its workspace with Landlock: auto, required or off.",
        ),
    ] = "auto",
    skip_unchanged: Annotated[
        bool,
        typer.Option(
            "--skip-unchanged/--no-skip-unchanged",
            help="Skip build and apply when the inputs, the spec and the applied objects did "
            "not change.",
        ),
    ] = True,
    web_addr: Annotated[
        str, typer.Option("--web-addr", help="Address of the web UI; 0 disables.")
    ] = DEFAULT_WEB_ADDR,
    web_base_path: Annotated[
        str, typer.Option("--web-base-path", help="URL prefix of the web UI (behind an ingress).")
    ] = "",
    web_users_file: WebUsersFileOpt = None,
    web_auth_proxy_header: WebAuthProxyHeaderOpt = None,
    web_allowed_hosts: WebAllowedHostsOpt = None,
    web_config: WebConfigOpt = None,
    web_access_ttl: WebAccessTTLOpt = "60s",
    log_level: Annotated[
        str, typer.Option("--log-level", help="trace, debug, info, warning or error.")
    ] = _DEFAULTS.log_level,
    log_encoding: Annotated[
        str, typer.Option("--log-encoding", help="json or console.")
    ] = _DEFAULTS.log_encoding,
) -> None:
    """Run the GitOps controllers until SIGTERM/SIGINT."""
    level, encoding = checked_logging(log_level, log_encoding)
    le = _leader_election(
        enable_leader_election,
        leader_election_lease_duration,
        leader_election_renew_deadline,
        leader_election_retry_period,
        leader_election_release_on_cancel,
        leader_election_id,
        leader_election_namespace,
    )
    requeue = _duration("--requeue-dependency", requeue_dependency)
    gates = parse_feature_gates(feature_gates)
    external_artifact = gates.get("ExternalArtifact", True)
    features = (
        SourceSettings(
            storage=StorageSettings(storage_path, storage_addr, storage_adv_addr),
            requeue_dependency=requeue,
            no_cross_namespace_refs=no_cross_namespace_refs,
        ),
        KustomizeSettings(
            no_cross_namespace_refs=no_cross_namespace_refs,
            no_remote_bases=no_remote_bases,
            default_service_account=default_service_account,
            requeue_dependency=requeue,
            sops_age_secret=_secret_ref("--sops-age-secret", sops_age_secret),
            external_artifact=external_artifact,
            build_workers=build_workers,
            build_memory_limit=_size("--build-memory-limit", build_memory_limit),
            build_timeout=_duration("--build-timeout", build_timeout),
            build_sandbox=_choice("--build-sandbox", build_sandbox, ("auto", "required", "off")),
            skip_unchanged=skip_unchanged,
        ),
        HelmSettings(
            requeue_dependency=requeue,
            no_cross_namespace_refs=no_cross_namespace_refs,
            default_service_account=default_service_account,
            external_artifact=external_artifact,
        ),
        NotificationSettings(
            receiver_addr=_address("--receiver-addr", receiver_addr),
            events_addr=_address("--events-addr", events_addr),
            rate_limit_interval=_duration("--rate-limit-interval", rate_limit_interval),
            no_cross_namespace_refs=no_cross_namespace_refs,
        ),
        WebSettings(
            addr=web_addr,
            base_path=web_base_path,
            auth=AuthSettings.from_flags(web_users_file, web_auth_proxy_header, web_config),
            allowed_hosts=tuple(web_allowed_hosts or ()),
            access_ttl=_duration("--web-access-ttl", web_access_ttl),
            kubeconfig=kubeconfig,
            context=context,
        ).normalized(),
    )
    if operator_mode not in ("local", "cluster"):
        raise UsageError(f"--operator-mode={operator_mode}: use local or cluster")
    if plan_configmap:
        if controllers not in (_DEFAULTS.controllers, "plan"):
            raise UsageError("--plan-configmap names the controllers: drop --controllers")
        controllers = "plan"
    operator = OperatorSettings(
        mode="local" if operator_mode == "local" else "cluster",
        namespace=operator_namespace,
        reporting_interval=_duration("--reporting-interval", reporting_interval),
        catalog=distribution_catalog,
        plan_configmap=plan_configmap,
        default_service_account=default_service_account,
    )
    settings = RunSettings(
        controllers=controllers,
        kubeconfig=kubeconfig,
        context=context,
        metrics_addr=metrics_addr,
        health_addr=health_addr,
        concurrent=concurrent,
        min_retry_delay=_duration("--min-retry-delay", min_retry_delay),
        max_retry_delay=_duration("--max-retry-delay", max_retry_delay),
        jitter_percent=interval_jitter_percentage,
        watch_namespace=watch_namespace,
        watch_label_selector=watch_label_selector,
        graceful_shutdown_timeout=_duration(
            "--graceful-shutdown-timeout", graceful_shutdown_timeout
        ),
        log_level=level,
        log_encoding=encoding,
        leader_election=le,
        features=(*features, operator),
    )
    if settings.min_retry_delay <= 0 or settings.max_retry_delay < settings.min_retry_delay:
        raise UsageError("--min-retry-delay must be positive and at most --max-retry-delay")
    REGISTRY.select(settings.controllers)  # unknown names fail before logging starts
    runtime_logging.configure(settings.log_level, settings.log_encoding)
    sys.exit(asyncio.run(_run(Manager(settings, services=[web_service]))))


def _leader_election(  # noqa: PLR0917 - one parameter per flag
    enabled: bool,
    lease_duration: str,
    renew_deadline: str,
    retry_period: str,
    release_on_cancel: bool,
    lease_name: str,
    namespace: str | None,
) -> LeaderElectionSettings:
    le = LeaderElectionSettings(
        enabled=enabled,
        lease_duration=_duration("--leader-election-lease-duration", lease_duration),
        renew_deadline=_duration("--leader-election-renew-deadline", renew_deadline),
        retry_period=_duration("--leader-election-retry-period", retry_period),
        release_on_cancel=release_on_cancel,
        lease_name=lease_name,
        namespace=namespace,
    )
    if le.enabled and not le.lease_duration > le.renew_deadline > 1.2 * le.retry_period > 0:
        raise UsageError(
            "leader election needs lease duration > renew deadline > 1.2 x retry period > 0"
        )
    return le


def _address(flag: str, value: str) -> str:
    """``host:port``, ``:port`` or ``0`` (disabled); anything else is a usage error."""
    text = value.strip()
    _, sep, port = text.rpartition(":")
    if text != "0" and (not sep or not port.isdigit()):
        raise UsageError(f"{flag}={value}: use host:port (e.g. 127.0.0.1:9292 or :9292), or 0")
    return text


def parse_feature_gates(value: str | None) -> dict[str, bool]:
    """``--feature-gates=A=true,B=false`` as Flux's controllers read it."""
    gates: dict[str, bool] = {}
    for raw_item in (value or "").split(","):
        item = raw_item.strip()
        if not item:
            continue
        name, sep, raw = item.partition("=")
        flag = raw.strip().lower()
        if not sep or not name.strip() or flag not in ("true", "false"):
            raise UsageError(
                f"--feature-gates: {item!r} is not Name=true or Name=false "
                "(e.g. --feature-gates=ExternalArtifact=true)"
            )
        gates[name.strip()] = flag == "true"
    return gates


_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30}


def _size(flag: str, value: str) -> int:
    """A Kubernetes-style quantity of bytes: ``512Mi``, ``1Gi``, ``1000000``."""
    number = value.rstrip("KkMmGgi")
    unit = value[len(number) :].lower()
    try:
        size = int(float(number) * _UNITS[unit])
    except (ValueError, KeyError):
        raise UsageError(f"{flag}={value}: use a size such as 512Mi or 1Gi") from None
    if size < 16 << 20:
        raise UsageError(f"{flag}={value}: at least 16Mi")
    return size


def _choice(flag: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise UsageError(f"{flag}={value}: use one of {', '.join(choices)}")
    return value


def _secret_ref(flag: str, value: str | None) -> tuple[str, str] | None:
    """``namespace/name``, or ``name`` in ``$RUNTIME_NAMESPACE`` (``$POD_NAMESPACE``, the
    service account's namespace), as Flux resolves its controller-level Secrets."""
    if not value:
        return None
    namespace, sep, name = value.rpartition("/")
    if sep and namespace and name and "/" not in namespace:
        return namespace, name
    if sep:
        raise UsageError(f"{flag}={value}: use <name> or <namespace>/<name>")
    runtime = os.environ.get("RUNTIME_NAMESPACE") or pod_namespace()
    if not runtime:
        raise UsageError(
            f"{flag}={value}: no namespace to find it in; pass <namespace>/{value} "
            "(or set RUNTIME_NAMESPACE)"
        )
    return runtime, value


async def _run(manager: Manager) -> int:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, manager.request_stop)
    try:
        return await manager.run()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
