"""Where ``make up`` keeps its state and which addresses it serves on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import weir

REPO_ROOT = Path(weir.__file__).resolve().parent.parent
EXAMPLE_DIR = REPO_ROOT / "examples" / "etherwurst"


@dataclass(frozen=True)
class DemoSettings:
    """Everything the orchestration needs; the defaults are what ``make up`` uses.

    Addresses are ``host:port`` on loopback; port 0 picks a free port, and a busy default port
    falls back to a free one (the addresses actually used are printed and recorded).
    """

    root: Path = Path(".weir")
    """State directory: the cluster, Git repositories, charts, artifacts and logs live below."""
    example: Path = EXAMPLE_DIR
    """The fleet repository to serve (``examples/etherwurst``)."""
    cluster_path: str = "./clusters/etherwurst"
    """``spec.path`` of the flux-system Kustomization."""
    repo_name: str = "etherwurst.git"
    branch: str = "main"
    nodes: int = 3
    controllers: str = "*"
    """``weir run --controllers`` when the operator is off."""
    operator: bool = True
    """Run weir as the operator (``--controllers=operator``): the fleet's FluxInstance
    (``flux-instance.yaml``) creates the sync objects and runs the controllers in-process."""
    ui_addr: str = "127.0.0.1:9080"
    """Web UI (``--web-addr`` of ``weir run``, or ``weir ui``); ``0`` disables it."""
    mcp_addr: str = "127.0.0.1:9081"
    """MCP over streamable HTTP (``weir mcp --transport http``); ``0`` disables it."""
    requeue_dependency: str = "5s"
    """How soon a Kustomization waiting on a dependency retries (Flux's default is 30s)."""
    log_level: str = "info"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).absolute())
        object.__setattr__(self, "example", Path(self.example).absolute())

    @property
    def instance_manifest(self) -> Path:
        """The fleet's FluxInstance (the installation guide's manifest)."""
        return self.example / "clusters" / "etherwurst" / "flux-system" / "flux-instance.yaml"

    @property
    def cluster_dir(self) -> Path:
        return self.root / "cluster"

    @property
    def git_root(self) -> Path:
        """Bare repositories served over HTTP."""
        return self.root / "git"

    @property
    def work_dir(self) -> Path:
        """A clone of the fleet repository to edit and push from (the guided tour)."""
        return self.root / "fleet-work"

    @property
    def charts_dir(self) -> Path:
        """The chart repository: packaged charts and ``index.yaml``."""
        return self.root / "charts"

    @property
    def storage_dir(self) -> Path:
        """Source artifacts of ``weir run``."""
        return self.root / "storage"

    @property
    def pods_dir(self) -> Path:
        """The identity (a ServiceAccount token's kubeconfig) and data of the chart's operator
        container, which ``make up`` runs here (kwok runs no containers)."""
        return self.root / "pods"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        """What is running, for ``make down`` (see :mod:`weir.demo.statefile`)."""
        return self.root / "demo.json"
