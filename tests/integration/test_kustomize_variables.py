"""postBuild.substituteFrom read from real ConfigMaps and Secrets."""

from __future__ import annotations

import base64

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_kustomize_apply import cm
from weir.api.kustomize import PostBuild
from weir.kube import apply as kapi
from weir.kustomize.errors import SubstitutionError
from weir.kustomize.variables import load_variables


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_substitute_from_merges_in_order(kube: ApiClient, namespace: str) -> None:
    await kapi.apply(kube, cm("vars", namespace, REGION="eu", SIZE="1", LINES="a\nb\n"), "t")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "secret-vars", "namespace": namespace},
        "data": {"SIZE": b64("2"), "TOKEN": b64("s3cr3t\n")},
    }
    await kapi.apply(kube, secret, "t")
    post_build = PostBuild.model_validate(
        {
            "substitute": {"REGION": "us"},
            "substituteFrom": [
                {"kind": "ConfigMap", "name": "vars"},
                {"kind": "Secret", "name": "secret-vars"},
                {"kind": "ConfigMap", "name": "absent", "optional": True},
            ],
        }
    )
    variables = await load_variables(kube, namespace, post_build)
    assert variables == {"REGION": "us", "SIZE": "2", "LINES": "ab", "TOKEN": "s3cr3t"}


async def test_missing_required_source_is_named(kube: ApiClient, namespace: str) -> None:
    post_build = PostBuild.model_validate(
        {"substituteFrom": [{"kind": "Secret", "name": "absent"}]}
    )
    with pytest.raises(SubstitutionError, match=r"substitute from 'Secret/absent' error"):
        await load_variables(kube, namespace, post_build)
