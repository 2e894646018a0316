"""Which cluster, context and default namespace a command talks to, read from the kubeconfig the
way kubectl reads it.

* Files: ``--kubeconfig`` if given, else every file in ``$KUBECONFIG`` (``:``-separated), else
  ``~/.kube/config``. Files that do not exist in ``$KUBECONFIG`` are skipped, as kubectl does.
* Merging: the first file that defines a context, cluster or user wins, and so does the first
  ``current-context``.
* Context: ``--context`` if given, else the ``current-context``.
* Namespace: the context's ``namespace``, else ``default``.
* In a pod without a kubeconfig: the service account's namespace and
  ``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT``.

This module only reads; the API client itself is built by :func:`weir.kube.client.api_client`,
which is given the context resolved here so that both agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from weir.errors import ConfigError

DEFAULT_NAMESPACE = "default"
DEFAULT_KUBECONFIG = Path("~/.kube/config")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class KubeconfigError(ConfigError):
    """The kubeconfig is missing, unreadable, or has no such context."""


@dataclass(frozen=True)
class KubeTarget:
    """Where a command goes: the context, its API server and its default namespace."""

    kubeconfig: str | None
    """The ``--kubeconfig`` given (None: ``$KUBECONFIG``, ``~/.kube/config`` or in-cluster)."""
    files: tuple[str, ...]
    """The kubeconfig files read."""
    context: str | None
    """The context used (None in a pod)."""
    server: str
    """The API server's URL ("" when the context's cluster has none)."""
    namespace: str
    """The default namespace: the context's, else ``default``."""

    @property
    def in_cluster(self) -> bool:
        return self.context is None

    def describe(self) -> str:
        """``https://... (context "x" of ~/.kube/config)``, for error messages."""
        if self.in_cluster:
            return f"{self.server or 'the in-cluster API server'} (service account of this pod)"
        where = ", ".join(self.files)
        return f"{self.server or '(no server)'} (context {self.context!r} of {where})"


def kubeconfig_files(
    kubeconfig: str | None, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """The kubeconfig files to read, in precedence order (existing or not)."""
    env = os.environ if environ is None else environ
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    paths = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if paths:
        return [Path(p).expanduser() for p in paths]
    return [DEFAULT_KUBECONFIG.expanduser()]


def merge_configs(configs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge kubeconfig documents: the first definition of each name wins, as in kubectl."""
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    for cfg in configs:
        if "current-context" not in merged and cfg.get("current-context"):
            merged["current-context"] = cfg["current-context"]
        for section in ("clusters", "contexts", "users"):
            known = {item.get("name") for item in merged[section]}
            for item in cfg.get(section) or []:
                if isinstance(item, Mapping) and item.get("name") not in known:
                    merged[section].append(dict(item))
                    known.add(item.get("name"))
    return merged


def _named(config: Mapping[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for item in config.get(section) or []:
        if item.get("name") == name:
            body = item.get(section.removesuffix("s"))
            return dict(body) if isinstance(body, Mapping) else {}
    return None


def target_from_config(
    config: Mapping[str, Any],
    context: str | None,
    *,
    kubeconfig: str | None = None,
    files: Sequence[str] = (),
) -> KubeTarget:
    """The target for ``context`` (default: the current context) of a merged kubeconfig."""
    where = ", ".join(files) or "the kubeconfig"
    names = [str(c.get("name")) for c in config.get("contexts") or []]
    chosen = context or config.get("current-context")
    if not chosen:
        hint = f"pass --context (one of: {', '.join(names)})" if names else "add a context"
        raise KubeconfigError(f"{where} has no current-context: {hint}")
    ctx = _named(config, "contexts", chosen)
    if ctx is None:
        known = ", ".join(names) or "none"
        raise KubeconfigError(
            f"context {chosen!r} not found in {where} (contexts: {known}); pick one with --context"
        )
    cluster = _named(config, "clusters", str(ctx.get("cluster", ""))) or {}
    return KubeTarget(
        kubeconfig=kubeconfig,
        files=tuple(files),
        context=str(chosen),
        server=str(cluster.get("server") or ""),
        namespace=str(ctx.get("namespace") or DEFAULT_NAMESPACE),
    )


def _in_cluster(environ: Mapping[str, str]) -> KubeTarget | None:
    host = environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        return None
    port = environ.get("KUBERNETES_SERVICE_PORT", "443")
    try:
        namespace = SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or DEFAULT_NAMESPACE
    except OSError:
        namespace = DEFAULT_NAMESPACE
    server_host = f"[{host}]" if ":" in host else host
    return KubeTarget(None, (), None, f"https://{server_host}:{port}", namespace)


def resolve(
    kubeconfig: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> KubeTarget:
    """The target of ``--kubeconfig``/``--context`` (both optional), like kubectl picks it."""
    env = os.environ if environ is None else environ
    paths = kubeconfig_files(kubeconfig, env)
    existing = [p for p in paths if p.is_file()]
    if kubeconfig and not existing:
        raise KubeconfigError(
            f"kubeconfig {kubeconfig} does not exist: check --kubeconfig "
            "(`weir cluster kubeconfig` prints the local cluster's)"
        )
    if not existing:
        if context is None and (found := _in_cluster(env)) is not None:
            return found
        looked = ", ".join(str(p) for p in paths)
        raise KubeconfigError(
            f"no kubeconfig found (looked at {looked}): pass --kubeconfig, set KUBECONFIG, "
            "or start a local cluster with `weir cluster up`"
        )
    configs = []
    for path in existing:
        try:
            loaded = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise KubeconfigError(f"cannot read kubeconfig {path}: {e}") from e
        if loaded is None:
            continue
        if not isinstance(loaded, Mapping):
            raise KubeconfigError(f"kubeconfig {path} is not a YAML mapping: check the file")
        configs.append(loaded)
    return target_from_config(
        merge_configs(configs),
        context,
        kubeconfig=kubeconfig,
        files=[str(p) for p in existing],
    )
