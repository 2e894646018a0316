"""The lazy kubernetes_asyncio packages resolve every name to the real object."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys, weir
assert type(sys.modules["kubernetes_asyncio"]).__name__ == "LazyPackage"
assert "kubernetes_asyncio.client.models.v1_pod" not in sys.modules
from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client import ApiClient, CoreV1Api, V1Namespace, ApiException
from kubernetes_asyncio.client.api_client import ApiClient as Real
from kubernetes_asyncio.client.models.v1_namespace import V1Namespace as RealNs
assert ApiClient is Real and V1Namespace is RealNs
assert client.models.V1Pod.__name__ == "V1Pod"
assert "kubernetes_asyncio.client.models.v1_deployment" not in sys.modules
assert callable(config.load_kube_config) and hasattr(watch, "Watch")
assert client.__version__ and sys.modules["kubernetes_asyncio"].__version__
print("ok")
"""


def test_lazy_packages_resolve_real_objects() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
