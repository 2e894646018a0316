"""A real Prometheus Alertmanager for tests, on 127.0.0.1, clustering off.

Flux's ``alertmanager`` notification provider posts alerts to ``<address>`` (Alertmanager's
``/api/v2/alerts``); :attr:`AlertmanagerServer.alerts_url` is that address and :meth:`alerts`
reads back what Alertmanager accepted. With ``webhook_url`` Alertmanager also forwards its
notifications to that URL (an :class:`~weir.testing.sink.HttpSink`).

The binary is built from the Go module proxy by ``scripts/build-alertmanager.sh`` (``make
tools``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from weir.devcluster.process import free_port
from weir.testing.peers import PeerProcess, peer_binary


def alertmanager_binary() -> Path:
    """The cached Alertmanager binary (``make tools`` builds it)."""
    return peer_binary("alertmanager", "ALERTMANAGER_VERSION", "build-alertmanager.sh")


class AlertmanagerServer:
    """An Alertmanager process on ``http://127.0.0.1:<port>`` (use as a context manager)."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        webhook_url: str | None = None,
        group_wait: str = "0s",
    ) -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="weir-alertmanager-")
        self.root = Path(root) if root else Path(self._tmp.name)  # type: ignore[union-attr]
        self.webhook_url = webhook_url
        self.group_wait = group_wait
        self.port = 0
        self._process: PeerProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alerts_url(self) -> str:
        """Where clients post alerts: a Flux ``alertmanager`` Provider's ``address``."""
        return f"{self.base_url}/api/v2/alerts"

    def _config(self) -> str:
        receiver: dict[str, Any] = {"name": "default"}
        if self.webhook_url:
            receiver["webhook_configs"] = [{"url": self.webhook_url, "send_resolved": True}]
        config = {
            "route": {
                "receiver": "default",
                "group_by": ["..."],
                "group_wait": self.group_wait,
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [receiver],
        }
        return json.dumps(config, indent=2)  # JSON is YAML

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> AlertmanagerServer:
        binary = alertmanager_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "alertmanager.yml"
        config.write_text(self._config())
        self.port = free_port()
        argv = [
            str(binary),
            f"--config.file={config}",
            f"--storage.path={self.root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url={self.base_url}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        self._process = PeerProcess("alertmanager", argv, self.root / "alertmanager.log")
        try:
            self._process.start(self._ready, timeout=30)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> AlertmanagerServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Post alerts as a client does (``labels``, ``annotations``, ``startsAt``, ...)."""
        response = httpx.post(self.alerts_url, json=list(alerts), timeout=10)
        response.raise_for_status()

    def alerts(self, **matchers: str) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds, optionally filtered by label equality."""
        params = httpx.QueryParams([("filter", f'{k}="{v}"') for k, v in matchers.items()])
        response = httpx.get(self.alerts_url, params=params, timeout=10)
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()
        return data
