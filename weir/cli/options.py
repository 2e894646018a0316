"""Options every cluster command shares (kubectl's ``--kubeconfig``, ``--context``,
``-n/--namespace``, ``-A/--all-namespaces``, ``-o``, ``--timeout``) and the session they open."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from weir.cli.output import OutputFormat
from weir.errors import KubeError, UsageError
from weir.kubeconfig import KubeTarget, resolve

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from weir.api import KindInfo
    from weir.kube.client import ClientOverrides

T = TypeVar("T")


def _complete_kinds(incomplete: str) -> Iterator[str]:
    from weir.api import KINDS  # noqa: PLC0415 -- keep shell completion fast

    words = ["all", "sources"]
    for info in KINDS.values():
        words.extend([*info.short_names, info.plural])
    yield from (w for w in words if w.startswith(incomplete.lower()))


KubeconfigOpt = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        help="Path to the kubeconfig (default: $KUBECONFIG, else ~/.kube/config).",
        show_default=False,
    ),
]
ContextOpt = Annotated[
    str | None,
    typer.Option(
        "--context", help="Kubeconfig context (default: the current one).", show_default=False
    ),
]
DEFAULT_NAMESPACE = "flux-system"
NAMESPACE_ENV = "FLUX_SYSTEM_NAMESPACE"


def default_namespace() -> str:
    """The flux CLI's default for ``-n``: ``$FLUX_SYSTEM_NAMESPACE`` when it is a valid
    namespace name, else ``flux-system`` (the kubeconfig context's namespace is not used)."""
    given = os.environ.get(NAMESPACE_ENV, "")
    return given if _DNS_LABEL.fullmatch(given) else DEFAULT_NAMESPACE


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "-n",
        "--namespace",
        help=f"Namespace (default: {DEFAULT_NAMESPACE}, or ${NAMESPACE_ENV}, as the flux CLI).",
        show_default=False,
    ),
]
AllNamespacesOpt = Annotated[
    bool, typer.Option("-A", "--all-namespaces", help="Every namespace (overrides -n).")
]
OutputOpt = Annotated[OutputFormat, typer.Option("-o", "--output", help="table, json or yaml.")]
KindArg = Annotated[
    str,
    typer.Argument(
        help="Kind: name, plural or short name (ks, hr, gitrepo, ocirepo, helmrepo, hc, ...).",
        autocompletion=_complete_kinds,
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    str, typer.Option("--timeout", help="How long to wait, e.g. 90s, 5m, 1h30m.")
]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str, flag: str = "--timeout") -> float:
    """Seconds in a Go-style duration (``90s``, ``5m``, ``1h30m``, ``500ms``) or a number of
    seconds; a :class:`~weir.errors.UsageError` otherwise."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise UsageError(
                f"{flag} {text!r} is not a duration: use e.g. 90s, 5m or 1h30m"
            ) from None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise UsageError(f"{flag} {text!r} must be positive")
    return seconds


@dataclass(frozen=True)
class KubeOptions:
    """The connection options as given on the command line."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    overrides: ClientOverrides | None = None
    """kubectl's connection flags (``--server``, ``--token``, ``--as``, ...), when given."""


class ClusterUnreachableError(KubeError):
    """The API server of the kubeconfig's context cannot be reached."""


@dataclass
class Session:
    """An open connection: the API client, the target and the namespace scope."""

    api: ApiClient
    target: KubeTarget
    namespace: str
    """The namespace to work in (``-n``, else :func:`default_namespace`)."""
    all_namespaces: bool

    @property
    def scope(self) -> str | None:
        """The namespace to list in; None with ``-A``."""
        return None if self.all_namespaces else self.namespace


def target_of(opts: KubeOptions) -> KubeTarget:
    """The target of the options; with ``--server`` no kubeconfig is needed (as kubectl)."""
    from weir.kubeconfig import KubeconfigError  # noqa: PLC0415

    try:
        target = resolve(opts.kubeconfig, opts.context)
    except KubeconfigError:
        if opts.overrides is None or not opts.overrides.server:
            raise
        return KubeTarget(opts.kubeconfig, (), opts.context, opts.overrides.server, "default")
    if opts.overrides is not None and opts.overrides.server:
        target = dataclasses.replace(target, server=opts.overrides.server)
    return target


@asynccontextmanager
async def connect(opts: KubeOptions) -> AsyncIterator[Session]:
    """Open an API client for the options; transport failures become one
    :class:`ClusterUnreachableError` that names the server and what to check."""
    from weir.kube.client import api_client  # noqa: PLC0415 -- slow import, only when needed
    from weir.kube.errors import ApiUnavailableError  # noqa: PLC0415

    target = target_of(opts)
    api = await api_client(opts.kubeconfig, target.context, overrides=opts.overrides)
    session = Session(api, target, opts.namespace or default_namespace(), opts.all_namespaces)
    async with api:
        try:
            yield session
        except ApiUnavailableError as e:
            cause = e.__cause__
            why = f"{type(cause).__name__}: {cause}" if cause else str(e)
            raise ClusterUnreachableError(
                f"cannot reach the API server {target.describe()} ({why}): check --kubeconfig "
                "and --context, or start a local cluster with `weir cluster up`"
            ) from e


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine to completion."""
    return asyncio.run(coro)


def kinds_of(word: str, *, single: bool = False) -> tuple[KindInfo, ...]:
    """The kinds a KIND argument names (``all`` and ``sources`` too unless ``single``); an
    unknown one is a :class:`~weir.errors.UsageError` listing the valid names."""
    from weir.actions.objects import resolve_kinds  # noqa: PLC0415
    from weir.api import KINDS, UnknownKindError  # noqa: PLC0415

    try:
        found = resolve_kinds(word)
    except UnknownKindError:
        names = ", ".join(
            f"{k.plural} ({', '.join(k.short_names)})" if k.short_names else k.plural
            for k in KINDS.values()
        )
        groups = "" if single else "all, sources, or "
        raise UsageError(f"unknown kind {word!r}: use {groups}one of {names}") from None
    if single and len(found) != 1:
        raise UsageError(f"{word!r} names several kinds: give one kind, e.g. ks or gitrepo")
    return found


WebUsersFileOpt = Annotated[
    str | None,
    typer.Option(
        "--web-users-file",
        help="YAML file of users (name, groups, tokenSHA256) who sign in to the web UI with a "
        "token; actions then impersonate them.",
    ),
]
WebAllowedHostsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--web-allowed-hosts",
        help="Host names the web UI answers besides IP addresses, localhost and the --web-addr "
        "host (DNS-rebinding protection): the ingress hosts, e.g. weir.example.com or "
        "*.example.com; comma-separated or repeated.",
    ),
]
WebConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--web-config",
        help="The Flux Operator's web UI config file (web.fluxcd.controlplane.io/v1 Config): "
        "OIDC sign-in (authentication.type OAuth2) or one identity for everyone (Anonymous); "
        "every read and action then happens as the signed-in user.",
    ),
]
WebAccessTTLOpt = Annotated[
    str,
    typer.Option(
        "--web-access-ttl",
        help="How long what a signed-in user may see is kept before the API server is asked "
        "again (e.g. 60s); actions are always checked when they run.",
    ),
]
WebAuthProxyHeaderOpt = Annotated[
    str | None,
    typer.Option(
        "--web-auth-proxy-header",
        help="Trust this header (e.g. X-Forwarded-User; groups in X-Forwarded-Groups) from an "
        "authenticating proxy in front of the web UI; actions impersonate that user.",
    ),
]
