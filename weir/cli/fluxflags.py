"""The flux CLI's flags that ``weir build`` and ``weir diff`` accept as ``flux build`` and
``flux diff`` do, so that a CI script written for Flux runs unchanged.

- The flags every flux command inherits (``--timeout``, ``--verbose`` and kubectl's connection
  flags: ``--server``, ``--token``, ``--as``, ...) are :class:`FluxGlobals`; the connection ones
  become :class:`~weir.kube.client.ClientOverrides`. ``--cache-dir``,
  ``--disable-compression``, ``--kube-api-qps``, ``--kube-api-burst``, ``--request-timeout``
  and ``--verbose`` change nothing in weir (it keeps no discovery cache and sends no
  compressed or rate-limited requests worth tuning): they are accepted and ignored.
- Go's flag syntax for booleans, ``--flag=true`` / ``--flag=false``, is rewritten by
  :func:`normalize_bool_flags` before parsing (click only knows ``--flag`` / ``--no-flag``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from weir.cli.options import parse_duration

if TYPE_CHECKING:
    from weir.kube.client import ClientOverrides

PANEL = "Flags of the flux CLI"

GO_BOOL_FLAGS = frozenset(
    {
        "dry-run",
        "strict-substitute",
        "recursive",
        "in-memory-build",
        "progress-bar",
        "ignore-not-found",
        "insecure-skip-tls-verify",
        "disable-compression",
        "verbose",
        "mask-secrets",
    }
)
"""Boolean flags a Flux user may spell ``--flag=true`` or ``--flag=false``."""

_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}


def normalize_bool_flags(argv: Sequence[str]) -> list[str]:
    """``--in-memory-build=true`` -> ``--in-memory-build``; ``--progress-bar=false`` ->
    ``--no-progress-bar`` (Go's boolean flag syntax, for the flags in :data:`GO_BOOL_FLAGS`)."""
    out = []
    for arg in argv:
        name, sep, value = arg.partition("=")
        flag = name.removeprefix("--")
        if sep and name.startswith("--") and flag in GO_BOOL_FLAGS:
            if value.lower() in _TRUE:
                out.append(f"--{flag}")
                continue
            if value.lower() in _FALSE:
                out.append(f"--no-{flag}")
                continue
        out.append(arg)
    return out


# ------------------------------------------------------------------------- the options
TimeoutFlag = Annotated[
    str,
    typer.Option(
        "--timeout",
        help="How long a kustomize build may take (flux's --timeout).",
        rich_help_panel=PANEL,
    ),
]
VerboseFlag = Annotated[
    bool,
    typer.Option(
        "--verbose/--no-verbose", help="Accepted as flux does; no effect.", rich_help_panel=PANEL
    ),
]
AsFlag = Annotated[
    str | None,
    typer.Option("--as", help="Impersonate this user.", rich_help_panel=PANEL, show_default=False),
]
AsGroupFlag = Annotated[
    list[str] | None,
    typer.Option(
        "--as-group",
        help="Impersonate this group (repeat).",
        rich_help_panel=PANEL,
        show_default=False,
    ),
]
AsUidFlag = Annotated[
    str | None,
    typer.Option("--as-uid", help="Impersonate this UID.", rich_help_panel=PANEL),
]
CacheDirFlag = Annotated[
    str | None,
    typer.Option("--cache-dir", help="Accepted as flux does; no effect.", rich_help_panel=PANEL),
]
CertificateAuthorityFlag = Annotated[
    str | None,
    typer.Option(
        "--certificate-authority",
        help="Path to a CA file for the API server.",
        rich_help_panel=PANEL,
    ),
]
ClientCertificateFlag = Annotated[
    str | None,
    typer.Option(
        "--client-certificate", help="Path to a client certificate file.", rich_help_panel=PANEL
    ),
]
ClientKeyFlag = Annotated[
    str | None,
    typer.Option("--client-key", help="Path to a client key file.", rich_help_panel=PANEL),
]
ClusterFlag = Annotated[
    str | None,
    typer.Option("--cluster", help="The kubeconfig cluster to use.", rich_help_panel=PANEL),
]
UserFlag = Annotated[
    str | None,
    typer.Option("--user", help="The kubeconfig user to use.", rich_help_panel=PANEL),
]
DisableCompressionFlag = Annotated[
    bool,
    typer.Option(
        "--disable-compression/--no-disable-compression",
        help="Accepted as flux does; no effect.",
        rich_help_panel=PANEL,
    ),
]
InsecureFlag = Annotated[
    bool,
    typer.Option(
        "--insecure-skip-tls-verify/--no-insecure-skip-tls-verify",
        help="Do not verify the API server's certificate (insecure).",
        rich_help_panel=PANEL,
    ),
]
KubeApiBurstFlag = Annotated[
    int | None,
    typer.Option(
        "--kube-api-burst", help="Accepted as flux does; no effect.", rich_help_panel=PANEL
    ),
]
KubeApiQpsFlag = Annotated[
    float | None,
    typer.Option("--kube-api-qps", help="Accepted as flux does; no effect.", rich_help_panel=PANEL),
]
RequestTimeoutFlag = Annotated[
    str | None,
    typer.Option(
        "--request-timeout", help="Accepted as flux does; no effect.", rich_help_panel=PANEL
    ),
]
ServerFlag = Annotated[
    str | None,
    typer.Option(
        "--server", "-s", help="The API server's address and port.", rich_help_panel=PANEL
    ),
]
TlsServerNameFlag = Annotated[
    str | None,
    typer.Option(
        "--tls-server-name",
        help="Server name for the API server's certificate check.",
        rich_help_panel=PANEL,
    ),
]
TokenFlag = Annotated[
    str | None,
    typer.Option("--token", help="Bearer token for the API server.", rich_help_panel=PANEL),
]


@dataclass(frozen=True)
class FluxGlobals:
    """The values of the flags every flux command inherits."""

    timeout: str = "5m0s"
    server: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    cluster: str | None = None
    user: str | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    impersonate_uid: str | None = None

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)

    def overrides(self) -> ClientOverrides | None:
        """The connection flags as :class:`~weir.kube.client.ClientOverrides` (None when
        none is given)."""
        from weir.kube.client import ClientOverrides  # noqa: PLC0415 -- slow import

        found = ClientOverrides(
            server=self.server,
            token=self.token,
            certificate_authority=self.certificate_authority,
            client_certificate=self.client_certificate,
            client_key=self.client_key,
            insecure_skip_tls_verify=self.insecure_skip_tls_verify,
            tls_server_name=self.tls_server_name,
            cluster=self.cluster,
            user=self.user,
            impersonate=self.impersonate,
            impersonate_groups=self.impersonate_groups,
            impersonate_uid=self.impersonate_uid,
        )
        return None if found.empty else found
