"""weir: GitOps for Kubernetes, speaking Flux's APIs."""

from importlib.metadata import PackageNotFoundError, version

from weir import _lazyk8s

_lazyk8s.install()  # a fast start: kubernetes_asyncio's generated models load on first use

try:
    __version__ = version("weir-gitops")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
