"""weir: GitOps for Kubernetes, speaking Flux's APIs."""

from __future__ import annotations

from weir import _lazyk8s

_lazyk8s.install()  # a fast start: kubernetes_asyncio's generated models load on first use

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # ``__version__`` on first use: importlib.metadata costs a third of a second at start-up,
    # paid by every CLI call and every Helm post-renderer run otherwise.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            found = version("weir-gitops")
        except PackageNotFoundError:  # running from a source tree without an install
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
