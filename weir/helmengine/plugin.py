"""weir's post-renderer as a Helm 4 plugin (``postrenderer/v1``, subprocess runtime).

Helm 4 runs post-renderers only as plugins found in its plugin directory. The in-process SDK
is Go, and Go reads the environment once, when the process starts: setting ``HELM_PLUGINS``
from Python later is invisible to it. So the directory is the one Go sees: ``HELM_PLUGINS``
of the process's *initial* environment (``/proc/self/environ``), else Helm's default
``$XDG_DATA_HOME/helm/plugins`` or ``$HOME/.local/share/helm/plugins``.

:func:`ensure_plugin` writes ``weir-postrender-<hash>/plugin.yaml`` there (idempotent). The
plugin's command is the running Python interpreter; the engine passes
``-m weir.helmengine.postrender --spec <file>`` as the post-renderer arguments of each action,
so one plugin serves every release. The hash names the interpreter, so two weir installations
sharing a home directory do not overwrite each other's plugin.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

PLUGIN_VERSION = "1"


def initial_environment() -> dict[str, str]:
    """The environment the process started with (what Go's ``os.Getenv`` sees)."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return dict(os.environ)
    env: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def plugin_dir(env: dict[str, str] | None = None) -> Path:
    """Helm's plugin directory as the SDK resolves it (first entry of ``HELM_PLUGINS``)."""
    env = initial_environment() if env is None else env
    if env.get("HELM_PLUGINS"):
        return Path(env["HELM_PLUGINS"].split(os.pathsep)[0])
    data = env.get("XDG_DATA_HOME") or str(
        Path(env.get("HOME") or Path.home()) / ".local" / "share"
    )
    return Path(data) / "helm" / "plugins"


def plugin_name(python: str | None = None) -> str:
    """``weir-postrender-<8 hex>`` for this interpreter."""
    exe = python or sys.executable
    return "weir-postrender-" + hashlib.sha256(f"{exe}\0{PLUGIN_VERSION}".encode()).hexdigest()[:8]


def plugin_yaml(python: str | None = None) -> str:
    exe = python or sys.executable
    return (
        "apiVersion: v1\n"
        "type: postrenderer/v1\n"
        f"name: {plugin_name(exe)}\n"
        f"version: 0.{PLUGIN_VERSION}.0\n"
        "runtime: subprocess\n"
        "runtimeConfig:\n"
        "  platformCommand:\n"
        f"    - command: {exe!r}\n".replace("'", '"')
    )


def ensure_plugin(directory: Path | None = None) -> str:
    """Install (or refresh) weir's post-renderer plugin; returns its name."""
    root = directory or plugin_dir()
    name = plugin_name()
    target = root / name / "plugin.yaml"
    content = plugin_yaml()
    try:
        if target.is_file() and target.read_text() == content:
            return name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".plugin-", dir=target.parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
        os.replace(tmp, target)
    except OSError as e:
        from weir.helmengine.errors import EngineUnavailableError  # noqa: PLC0415

        raise EngineUnavailableError(
            f"cannot install weir's Helm post-renderer plugin in {root}: {e}; start weir with "
            "HELM_PLUGINS set to a writable directory"
        ) from e
    return name


def plugin_args(spec_file: Path, server: Path | None = None) -> list[str]:
    """The post-renderer arguments that make the plugin run weir's post-renderer: through the
    post-render server listening on ``server`` (:mod:`weir.helmengine.prserver`), else as a
    process of its own."""
    args = ["--spec", str(spec_file)]
    if server is not None:
        from weir.helmengine.prserver import client_args  # noqa: PLC0415

        return client_args(server, args)
    return ["-m", "weir.helmengine.postrender", *args]
