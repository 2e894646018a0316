"""Client access to the Kubernetes API: a thin layer over kubernetes_asyncio."""
