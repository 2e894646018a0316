"""Where the e2e controllers find their controller-level SOPS key (``--sops-age-secret``)."""

from __future__ import annotations

SOPS_AGE_SECRET = ("weir-e2e-keys", "sops-age")
"""(namespace, name); tests/e2e/test_kustomize_sops.py creates the Secret."""
