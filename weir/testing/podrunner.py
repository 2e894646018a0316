"""Run a Deployment's container on this machine, as the cluster would run it in a pod.

The local control plane has no container runtime: kwok fakes the pods (they turn Running and
Ready, and run nothing). For weir's own Deployments -- the chart's operator, and the
controllers a FluxInstance installs in cluster mode -- a :class:`PodRunner` runs the
container's real command as a process here, with the pod's identity:

- the command line is read back from the Deployment in the API server (``weir`` + the
  container's ``args``), so what runs is exactly what the chart or the operator rendered;
- it authenticates as the pod's ServiceAccount, with a token from the TokenRequest API in a
  kubeconfig of its own (never the admin's), so the RBAC the chart and the operator grant is
  what it gets;
- the pod's environment (``RUNTIME_NAMESPACE``/``POD_NAMESPACE`` from ``metadata.namespace``,
  literal values) is given to it;
- only addresses change: listeners (``--metrics-addr=:8080``, ``--web-addr=:9080``, ...) bind
  free loopback ports (or the ones given), a source-controller's advertised storage address
  (a cluster Service name) becomes its loopback address, and its storage path (``/data``, an
  emptyDir in the pod) a directory here.

    runner = PodRunner(api, admin_kubeconfig, workdir)
    pod = await runner.start("flux-system", "flux-operator")   # waits for /readyz
    ...
    await runner.stop()

:func:`pod_command` is the same without running it (``make up`` runs it as its own child).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from kubernetes_asyncio.client import ApiClient

from weir.devcluster.process import free_port
from weir.kube import apply as kapi
from weir.kube import transport
from weir.kube.resources import ResourceRef
from weir.types import Obj

DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
SERVICE_ACCOUNTS = ResourceRef("", "v1", "serviceaccounts", True, "ServiceAccount")
LISTEN_FLAGS = (
    "--metrics-addr",
    "--health-addr",
    "--web-addr",
    "--storage-addr",
    "--events-addr",
    "--receiver-addr",
    "--addr",
)
TOKEN_SECONDS = 24 * 3600


class PodRunnerError(RuntimeError):
    """A Deployment's container could not be run or did not become ready."""


def weir_command() -> list[str]:
    """The ``weir`` console script of this environment, else ``python -m weir.cli.main``."""
    script = Path(sys.executable).with_name("weir")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "weir.cli.main"]


async def service_account_token(api: ApiClient, namespace: str, name: str) -> str:
    """A token for ``namespace/name`` from the TokenRequest API (what the kubelet mounts)."""
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": TOKEN_SECONDS},
    }
    path = SERVICE_ACCOUNTS.path(namespace, name, "token")
    result: Obj = await transport.request(api, "POST", path, body=body)
    return str(result["status"]["token"])


def token_kubeconfig(admin_kubeconfig: Path, token: str, user: str) -> str:
    """A kubeconfig for the admin kubeconfig's cluster that authenticates with ``token``."""
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    current = admin.get("current-context") or admin["contexts"][0]["name"]
    context = next(c for c in admin["contexts"] if c["name"] == current)["context"]
    cluster = next(c for c in admin["clusters"] if c["name"] == context["cluster"])
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": cluster["name"], "user": user}}],
        "current-context": user,
    }
    return yaml.safe_dump(config)


async def write_service_account_kubeconfig(
    api: ApiClient, admin_kubeconfig: Path, namespace: str, name: str, dest: Path
) -> Path:
    """Write a kubeconfig authenticating as the ServiceAccount ``namespace/name`` to ``dest``."""
    token = await service_account_token(api, namespace, name)
    _write_private(dest, token_kubeconfig(admin_kubeconfig, token, f"{namespace}-{name}"))
    return dest


def _write_private(dest: Path, text: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    dest.chmod(0o600)


@dataclass
class LocalPod:
    """One Deployment's container running here."""

    namespace: str
    name: str
    argv: list[str]
    log: Path
    addrs: dict[str, str] = field(default_factory=dict)
    """Listener flag -> ``127.0.0.1:port`` it was given."""
    proc: asyncio.subprocess.Process | None = None
    _log_file: Any = None

    def url(self, flag: str, path: str = "/") -> str:
        return f"http://{self.addrs[flag]}{path}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None


def _env(container: Obj, namespace: str) -> dict[str, str]:
    env = dict(os.environ)
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif (item.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath") in (
            "metadata.namespace",
        ):
            env[item["name"]] = namespace
    env.pop("KUBECONFIG", None)
    return env


def local_args(
    args: list[str], workdir: Path, ports: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The container's ``args`` with loopback addresses and local paths (see the module
    docstring); ``ports`` fixes the address of some listener flags (``{"--web-addr":
    "127.0.0.1:9080"}``). Returns the arguments and the listener addresses used."""
    ports = ports or {}
    addrs: dict[str, str] = {}
    out: list[str] = []
    adv: int | None = None
    for arg in args:
        flag, eq, value = arg.partition("=")
        if eq and flag in LISTEN_FLAGS and value not in ("", "0"):
            addr = ports.get(flag) or f"127.0.0.1:{free_port()}"
            addrs[flag] = addr
            out.append(f"{flag}={addr}")
        elif eq and flag == "--storage-adv-addr":
            adv = len(out)
            out.append(arg)
        elif eq and flag == "--storage-path":
            path = workdir / "data"
            path.mkdir(parents=True, exist_ok=True)
            out.append(f"{flag}={path}")
        else:
            out.append(arg)
    if adv is not None and "--storage-addr" in addrs:
        out[adv] = f"--storage-adv-addr={addrs['--storage-addr']}"
    return out, addrs


@dataclass(frozen=True)
class PodCommand:
    """What to run for one Deployment's container here (see the module docstring)."""

    argv: list[str]
    env: dict[str, str]
    """The whole environment: this process's, without ``KUBECONFIG``, plus the pod's."""
    addrs: dict[str, str]
    service_account: str
    kubeconfig: Path


async def pod_command(
    api: ApiClient,
    admin_kubeconfig: Path,
    workdir: Path,
    namespace: str,
    name: str,
    *,
    ports: dict[str, str] | None = None,
    container: str | None = None,
) -> PodCommand:
    """The command line, environment and identity (a TokenRequest kubeconfig written below
    ``workdir``) of the Deployment ``namespace/name``'s container (the first, or
    ``container``), read back from the API server."""
    deployment = await kapi.get(api, DEPLOYMENTS, namespace, name)
    spec = deployment["spec"]["template"]["spec"]
    containers = spec["containers"]
    chosen = next((c for c in containers if c["name"] == container), containers[0])
    sa = spec.get("serviceAccountName") or "default"
    kubeconfig = await write_service_account_kubeconfig(
        api, admin_kubeconfig, namespace, sa, workdir / "kubeconfig"
    )
    args, addrs = local_args(list(chosen.get("args") or []), workdir, ports)
    argv = [*weir_command(), *args, f"--kubeconfig={kubeconfig}"]
    return PodCommand(argv, _env(chosen, namespace), addrs, sa, kubeconfig)


class PodRunner:
    """See the module docstring."""

    def __init__(self, api: ApiClient, admin_kubeconfig: Path, workdir: Path) -> None:
        self.api = api
        self.admin_kubeconfig = admin_kubeconfig
        self.workdir = workdir
        self.pods: list[LocalPod] = []

    async def start(
        self,
        namespace: str,
        name: str,
        *,
        ports: dict[str, str] | None = None,
        container: str | None = None,
        timeout: float = 120.0,  # noqa: ASYNC109
    ) -> LocalPod:
        """Run the Deployment ``namespace/name``'s container (the first, or ``container``) and
        wait until its ``--health-addr`` answers ``/readyz``."""
        workdir = self.workdir / f"{namespace}-{name}"
        command = await pod_command(
            self.api,
            self.admin_kubeconfig,
            workdir,
            namespace,
            name,
            ports=ports,
            container=container,
        )
        pod = LocalPod(namespace, name, command.argv, workdir / "pod.log", command.addrs)
        pod._log_file = pod.log.open("ab")
        pod.proc = await asyncio.create_subprocess_exec(
            *command.argv,
            env=command.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=pod._log_file,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self.pods.append(pod)
        if "--health-addr" in command.addrs:
            await self._wait_ready(pod, timeout)
        return pod

    async def _wait_ready(self, pod: LocalPod, timeout: float) -> None:  # noqa: ASYNC109
        url = pod.url("--health-addr", "/readyz")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                if not pod.running:
                    raise PodRunnerError(
                        f"{pod.namespace}/{pod.name} exited ({pod.proc and pod.proc.returncode});"
                        f" see {pod.log}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        return
                if loop.time() > deadline:
                    raise PodRunnerError(f"{pod.namespace}/{pod.name} not ready; see {pod.log}")
                await asyncio.sleep(0.2)

    def check(self) -> None:
        """Raise :class:`PodRunnerError` if a process exited."""
        for pod in self.pods:
            if not pod.running:
                raise PodRunnerError(f"{pod.namespace}/{pod.name} exited; see {pod.log}")

    async def stop(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """SIGTERM every process (SIGKILL after ``timeout``), in reverse order."""
        for pod in reversed(self.pods):
            proc = pod.proc
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), timeout)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    await proc.wait()
            if pod._log_file is not None:
                pod._log_file.close()
        self.pods.clear()
