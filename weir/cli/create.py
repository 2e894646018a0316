"""``weir create secret git``: the Git credentials Secret of a GitRepository (``secretRef``) or a
FluxInstance (``spec.sync.pullSecret``), as ``flux create secret git`` writes it: keys
``username``/``password`` (HTTPS basic auth), ``bearerToken``, or ``identity``/``known_hosts``
(SSH), plus ``ca.crt``. ``--export`` prints it instead of applying it."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from weir.cli import options
from weir.cli.options import ContextOpt, KubeconfigOpt, KubeOptions, NamespaceOpt
from weir.cli.output import OK, line, write
from weir.errors import UsageError

FIELD_MANAGER = "weir"

app = typer.Typer(help="Create Flux objects (secrets).", no_args_is_help=True)
secret_app = typer.Typer(help="Create Secrets Flux objects refer to.", no_args_is_help=True)
app.add_typer(secret_app, name="secret")


def git_secret(
    name: str,
    namespace: str,
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    bearer_token: str | None = None,
    private_key: bytes | None = None,
    known_hosts: bytes | None = None,
    ca: bytes | None = None,
) -> dict[str, Any]:
    """The Secret ``flux create secret git`` would create for these credentials."""
    scheme = url.split("://", 1)[0] if "://" in url else "ssh"
    data: dict[str, bytes] = {}
    if scheme in ("http", "https"):
        if bearer_token:
            if username or password:
                raise UsageError("give --bearer-token or --username/--password, not both")
            data["bearerToken"] = bearer_token.encode()
        elif username or password:
            if not (username and password):
                raise UsageError("--username and --password go together")
            data["username"], data["password"] = username.encode(), password.encode()
        else:
            raise UsageError(
                f"--url {url}: give --username and --password, or --bearer-token, for HTTPS"
            )
    elif scheme == "ssh":
        if not private_key:
            raise UsageError(f"--url {url}: give --private-key-file for SSH")
        data["identity"] = private_key
        if known_hosts:
            data["known_hosts"] = known_hosts
    else:
        raise UsageError(f"--url {url}: use an http(s):// or ssh:// URL")
    if ca:
        data["ca.crt"] = ca
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(data.items())},
    }


@secret_app.command("git")
def git(  # noqa: PLR0917 -- typer maps each parameter to a flag
    name: Annotated[str, typer.Argument(help="The Secret's name (e.g. flux-system).")],
    url: Annotated[str, typer.Option("--url", help="The Git repository's URL.")],
    username: Annotated[str | None, typer.Option("-u", "--username")] = None,
    password: Annotated[str | None, typer.Option("-p", "--password")] = None,
    bearer_token: Annotated[str | None, typer.Option("--bearer-token")] = None,
    private_key_file: Annotated[
        Path | None, typer.Option("--private-key-file", exists=True, dir_okay=False)
    ] = None,
    known_hosts_file: Annotated[
        Path | None, typer.Option("--known-hosts-file", exists=True, dir_okay=False)
    ] = None,
    ca_file: Annotated[Path | None, typer.Option("--ca-file", exists=True, dir_okay=False)] = None,
    export: Annotated[
        bool, typer.Option("--export", help="Print the Secret as YAML instead of applying it.")
    ] = False,
    namespace: NamespaceOpt = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Create or update a Git credentials Secret (like `flux create secret git`)."""
    secret = git_secret(
        name,
        namespace or options.default_namespace(),
        url,
        username=username,
        password=password,
        bearer_token=bearer_token,
        private_key=private_key_file.read_bytes() if private_key_file else None,
        known_hosts=known_hosts_file.read_bytes() if known_hosts_file else None,
        ca=ca_file.read_bytes() if ca_file else None,
    )
    if export:
        write("---\n" + yaml.safe_dump(secret, sort_keys=False))
        return
    options.run(_apply(KubeOptions(kubeconfig, context, namespace), secret))


async def _apply(opts: KubeOptions, secret: dict[str, Any]) -> None:
    from weir.kube import apply as kapi  # noqa: PLC0415

    async with options.connect(opts) as session:
        await kapi.apply(session.api, secret, FIELD_MANAGER, force=True)
    meta = secret["metadata"]
    keys = ", ".join(secret["data"])
    line(f"{OK} secret {meta['namespace']}/{meta['name']} created (keys: {keys})")
