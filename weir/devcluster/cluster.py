"""The local development control plane: etcd + kube-apiserver on 127.0.0.1, and on request
kube-controller-manager, kube-scheduler and kwok with fake nodes.

Processes are started detached (they outlive ``weir cluster up``) and recorded by pid in
``<state-dir>/state.json``; :meth:`DevCluster.down` stops exactly those pids.
"""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import ssl
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from weir.devcluster import kwok
from weir.devcluster.binaries import CONTROL_PLANE, NODE_COMPONENTS, Binaries
from weir.devcluster.pki import CertFiles, Pki, create_pki
from weir.devcluster.process import (
    ensure_port_free,
    free_port,
    https_get,
    insecure_get,
    is_running,
    spawn,
    stop,
    wait_until,
)
from weir.errors import ClusterError

DEFAULT_STATE_DIR = Path(".weir") / "cluster"
STATE_FILE = "state.json"
START_TIMEOUT = 90.0
# kube-apiserver's graceful shutdown waits for open watch connections (up to its 60s request
# timeout); a restart for testing clients does not need to wait that long.
APISERVER_RESTART_GRACE = 5.0


@dataclass
class ProcessInfo:
    pid: int
    binary: str
    port: int


@dataclass
class ClusterState:
    """What ``state.json`` records about a running development cluster."""

    version: str
    kubeconfig: str
    apiserver_port: int
    processes: dict[str, ProcessInfo] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    started_at: float = 0.0
    start_seconds: float = 0.0

    @classmethod
    def load(cls, path: Path) -> ClusterState:
        raw = json.loads(path.read_text())
        raw["processes"] = {k: ProcessInfo(**v) for k, v in raw.get("processes", {}).items()}
        return cls(**raw)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


class DevCluster:
    """One development control plane, identified by its state directory."""

    def __init__(self, state_dir: Path | None = None, binaries: Binaries | None = None) -> None:
        self.state_dir = (state_dir or DEFAULT_STATE_DIR).absolute()
        self.binaries = binaries or Binaries.locate()

    # ----------------------------------------------------------------------------- paths
    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def kubeconfig_path(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def _pki(self) -> Pki:
        d = self.pki_dir
        return Pki(
            ca=CertFiles(d / "ca.crt", d / "ca.key"),
            serving=CertFiles(d / "apiserver.crt", d / "apiserver.key"),
            admin=CertFiles(d / "admin.crt", d / "admin.key"),
            sa_key=d / "sa.key",
            sa_pub=d / "sa.pub",
        )

    # ----------------------------------------------------------------------------- state
    def state(self) -> ClusterState | None:
        """The recorded state, or None when no cluster was started from this directory."""
        if not self.state_path.is_file():
            return None
        return ClusterState.load(self.state_path)

    def running(self) -> dict[str, bool]:
        """For each recorded process, whether it is still alive."""
        st = self.state()
        if st is None:
            return {}
        return {n: is_running(p.pid, p.binary) for n, p in st.processes.items()}

    def is_up(self) -> bool:
        alive = self.running()
        return bool(alive) and alive.get("kube-apiserver", False) and alive.get("etcd", False)

    # ----------------------------------------------------------------------------- up/down
    def up(self, nodes: int = 0, apiserver_port: int | None = None) -> ClusterState:
        """Start the control plane (idempotent), then make sure ``nodes`` fake nodes exist."""
        self.binaries.require(CONTROL_PLANE + (NODE_COMPONENTS if nodes else ()))
        st = self.state()
        if st is not None and self.is_up():
            if nodes:
                st = self.add_nodes(nodes)
            return st
        if st is not None:  # a previous cluster died: clean it away first
            self.down()
        if apiserver_port is not None:
            ensure_port_free(apiserver_port, "--apiserver-port")
        t0 = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            st = self._start_control_plane(apiserver_port or free_port())
            st.start_seconds = round(time.monotonic() - t0, 2)
            st.save(self.state_path)
            if nodes:
                st = self.add_nodes(nodes)
        except BaseException:
            self.down()
            raise
        return st

    def _start_control_plane(self, api_port: int) -> ClusterState:
        pki = create_pki(self.pki_dir)
        st = ClusterState(
            version=self.binaries.versions.kubernetes,
            kubeconfig=str(self.kubeconfig_path),
            apiserver_port=api_port,
            started_at=time.time(),
        )
        etcd_port, peer_port = free_port(), free_port()
        etcd = str(self.binaries.path("etcd"))
        data = self.state_dir / "etcd"
        pid = spawn(
            "etcd",
            [
                etcd,
                "--name=weir",
                f"--data-dir={data}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=weir=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            self.log_dir,
        )
        st.processes["etcd"] = ProcessInfo(pid, etcd, etcd_port)
        st.save(self.state_path)
        wait_until(
            "etcd",
            lambda: insecure_get(etcd_port, "/health", scheme="http") == 200,
            START_TIMEOUT,
            alive=lambda: is_running(pid),
            log=self.log_dir / "etcd.log",
        )
        apiserver = str(self.binaries.path("kube-apiserver"))
        pid = spawn(
            "kube-apiserver", self._apiserver_argv(apiserver, etcd_port, api_port), self.log_dir
        )
        st.processes["kube-apiserver"] = ProcessInfo(pid, apiserver, api_port)
        st.save(self.state_path)
        self._write_kubeconfig(pki, api_port)
        self._wait_apiserver_ready(pid, api_port)
        return st

    def _apiserver_argv(self, binary: str, etcd_port: int, api_port: int) -> list[str]:
        pki = self._pki()
        return [
            binary,
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={api_port}",
            f"--cert-dir={self.pki_dir}",
            f"--tls-cert-file={pki.serving.cert}",
            f"--tls-private-key-file={pki.serving.key}",
            f"--client-ca-file={pki.ca.cert}",
            "--authorization-mode=RBAC",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        ]

    def _wait_apiserver_ready(self, pid: int, api_port: int) -> None:
        ca = self._pki().ca.cert
        wait_until(
            "kube-apiserver",
            lambda: https_get(api_port, "/readyz", ca)[0] == 200,
            START_TIMEOUT,
            alive=lambda: is_running(pid),
            log=self.log_dir / "kube-apiserver.log",
        )

    def restart_apiserver(self, down_for: float = 0.0) -> None:
        """Stop the running kube-apiserver, leave it down ``down_for`` seconds, and start it
        again with the same arguments and port (etcd keeps running, so no data is lost);
        returns once it is ready again."""
        st = self.state()
        if st is None or not self.is_up():
            raise ClusterError(
                "no development cluster is running: start one with `weir cluster up`"
            )
        info = st.processes["kube-apiserver"]
        stop(info.pid, info.binary, timeout=APISERVER_RESTART_GRACE)
        if down_for > 0:
            time.sleep(down_for)
        argv = self._apiserver_argv(info.binary, st.processes["etcd"].port, info.port)
        pid = spawn("kube-apiserver", argv, self.log_dir)
        st.processes["kube-apiserver"] = ProcessInfo(pid, info.binary, info.port)
        st.save(self.state_path)
        self._wait_apiserver_ready(pid, info.port)

    def _write_kubeconfig(self, pki: Pki, port: int) -> None:
        def b64(p: Path) -> str:
            return base64.b64encode(p.read_bytes()).decode()

        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "weir-dev",
                    "cluster": {
                        "server": f"https://127.0.0.1:{port}",
                        "certificate-authority-data": b64(pki.ca.cert),
                    },
                }
            ],
            "users": [
                {
                    "name": "weir-admin",
                    "user": {
                        "client-certificate-data": b64(pki.admin.cert),
                        "client-key-data": b64(pki.admin.key),
                    },
                }
            ],
            "contexts": [
                {"name": "weir-dev", "context": {"cluster": "weir-dev", "user": "weir-admin"}}
            ],
            "current-context": "weir-dev",
        }
        self.kubeconfig_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        self.kubeconfig_path.chmod(0o600)

    def add_nodes(self, count: int) -> ClusterState:
        """Start kube-controller-manager, kube-scheduler and kwok (once) and make sure at least
        ``count`` fake nodes exist."""
        st = self.state()
        if st is None or not self.is_up():
            raise ClusterError(
                "no development cluster is running: start one with `weir cluster up`"
            )
        self.binaries.require(NODE_COMPONENTS)
        pki = self._pki()
        kubeconfig = str(self.kubeconfig_path)
        common = [
            f"--kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
            "--kube-api-qps=500",
            "--kube-api-burst=1000",
        ]
        wanted: dict[str, list[str]] = {
            "kube-controller-manager": [
                *common,
                f"--service-account-private-key-file={pki.sa_key}",
                f"--root-ca-file={pki.ca.cert}",
                "--use-service-account-credentials=false",
                "--concurrent-deployment-syncs=10",
                "--concurrent-replicaset-syncs=10",
            ],
            "kube-scheduler": list(common),
        }
        alive = self.running()
        for name, args in wanted.items():
            if alive.get(name):
                continue
            port = free_port()
            binary = str(self.binaries.path(name))
            pid = spawn(name, [binary, *args, f"--secure-port={port}"], self.log_dir)
            st.processes[name] = ProcessInfo(pid, binary, port)
            st.save(self.state_path)
        for name in wanted:
            info = st.processes[name]
            wait_until(
                name,
                lambda info=info: insecure_get(info.port, "/healthz") == 200,  # type: ignore[misc]
                START_TIMEOUT,
                alive=lambda info=info: is_running(info.pid),  # type: ignore[misc]
                log=self.log_dir / f"{name}.log",
            )
        if not alive.get("kwok"):
            stages = self.state_dir / "kwok-stages.yaml"
            stages.write_text(yaml.safe_dump_all(kwok.stages(), sort_keys=False))
            port = free_port()
            binary = str(self.binaries.path("kwok"))
            pid = spawn(
                "kwok",
                [
                    binary,
                    f"--kubeconfig={kubeconfig}",
                    f"--config={stages}",
                    "--manage-all-nodes=false",
                    f"--manage-nodes-with-annotation-selector={kwok.FAKE_NODE_ANNOTATION}=fake",
                    "--node-ip=127.0.0.1",
                    "--cidr=10.0.1.0/24",
                    "--node-lease-duration-seconds=40",
                    f"--server-address=127.0.0.1:{port}",
                ],
                self.log_dir,
            )
            st.processes["kwok"] = ProcessInfo(pid, binary, port)
            st.save(self.state_path)
        for i in range(len(st.nodes), count):
            name = f"kwok-node-{i}"
            self._create("/api/v1/nodes", kwok.node(name))
            st.nodes.append(name)
            st.save(self.state_path)
        wait_until(
            f"{count} kwok node(s)",
            lambda: self._ready_nodes() >= count,
            START_TIMEOUT,
            alive=lambda: is_running(st.processes["kwok"].pid),
            log=self.log_dir / "kwok.log",
        )
        return st

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        st = self.state()
        if st is None:
            raise ClusterError(
                "no development cluster is running: start one with `weir cluster up`"
            )
        pki = self._pki()
        ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
        ctx.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
        conn = http.client.HTTPSConnection("127.0.0.1", st.apiserver_port, context=ctx, timeout=10)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
        finally:
            conn.close()

    def _create(self, path: str, obj: dict[str, Any]) -> None:
        status, body = self._request("POST", path, obj)
        if status not in (200, 201, 409):
            raise ClusterError(f"creating {obj['kind']} {obj['metadata']['name']} failed: {body}")

    def _ready_nodes(self) -> int:
        status, body = self._request("GET", "/api/v1/nodes")
        if status != 200:
            return 0
        count = 0
        for item in body.get("items", []):
            for cond in item.get("status", {}).get("conditions", []) or []:
                if cond.get("type") == "Ready" and cond.get("status") == "True":
                    count += 1
        return count

    def down(self) -> list[str]:
        """Stop every recorded process (reverse start order) and remove the state directory.
        Returns the names of the processes that were stopped."""
        st = self.state()
        stopped: list[str] = []
        if st is not None:
            for name, info in reversed(list(st.processes.items())):
                if is_running(info.pid, info.binary):
                    stop(info.pid, info.binary)
                    stopped.append(name)
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return stopped
