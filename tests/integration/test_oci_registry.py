"""weir.oci against a real registry (Debian docker-registry on 127.0.0.1): Flux artifacts and
Helm charts pushed and pulled, ref resolution, layerSelector, token auth."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from weir.oci.artifact import (
    FLUX_CONTENT,
    LayerSelector,
    RefSpec,
    pull_artifact,
    pull_chart,
    push_artifact,
    push_chart,
    resolve,
)
from weir.oci.auth import Credentials
from weir.oci.client import RegistryClient
from weir.oci.errors import OCIArtifactError, OCIAuthError, OCINotFoundError
from weir.oci.reference import parse_url
from weir.testing.chartrepo import package_chart, write_chart
from weir.testing.helm_fixtures import oci_registry  # noqa: F401
from weir.testing.ociregistry import Registry


def _tarball(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def test_flux_artifact_push_resolve_pull(oci_registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    base = parse_url(f"oci://{oci_registry.host}/fleet/flux-artifact")
    async with RegistryClient(insecure=True) as oci:
        await oci.ping(base)
        for tag, text in (("1.0.0", "v: 1\n"), ("1.1.0", "v: 2\n"), ("latest", "v: 3\n")):
            await push_artifact(
                oci,
                base.with_tag(tag),
                _tarball({"apps/config.yaml": text}),
                source="https://github.com/example/fleet",
                revision_annotation=f"main@sha1:{'a' * 40}",
            )
        assert sorted(await oci.list_tags(base)) == ["1.0.0", "1.1.0", "latest"]

        latest = await resolve(oci, base)
        assert latest.tag == "latest"
        assert latest.revision == f"latest@{latest.digest}"
        ranged = await resolve(oci, base, RefSpec(semver="~1.0"))
        assert ranged.tag == "1.0.0"
        pinned = await resolve(oci, base, RefSpec(tag="latest", digest=ranged.digest))
        assert pinned.revision == ranged.digest  # digest wins, no tag in the revision

        pulled = await pull_artifact(oci, latest, tmp_path / "out")
        assert (tmp_path / "out" / "apps" / "config.yaml").read_text() == "v: 3\n"
        assert pulled.layer_media_type == FLUX_CONTENT
        assert pulled.metadata["org.opencontainers.image.revision"] == f"main@sha1:{'a' * 40}"
        assert pulled.metadata["org.opencontainers.image.source"].endswith("/fleet")

        copied = await pull_artifact(
            oci, ranged, tmp_path / "layer.tgz", LayerSelector(FLUX_CONTENT, "copy")
        )
        assert copied.path.read_bytes()[:2] == b"\x1f\x8b"
        with pytest.raises(OCIArtifactError, match="no layer of media type"):
            await pull_artifact(oci, ranged, tmp_path / "x", LayerSelector("application/x-nope"))
        with pytest.raises(OCINotFoundError):
            await resolve(oci, base, RefSpec(tag="9.9.9"))
        with pytest.raises(OCINotFoundError):
            await resolve(oci, base, RefSpec(semver=">=5"))


async def test_helm_chart_push_pull(oci_registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    repo = parse_url(f"oci://{oci_registry.host}/charts")
    async with RegistryClient(insecure=True) as oci:
        for version in ("1.0.0", "1.1.0+build.2"):
            data, meta = package_chart(write_chart(tmp_path / version, "podinfo", version))
            pushed = await push_chart(oci, repo, data, meta)
            assert pushed.tag == version.replace("+", "_")
        chart = parse_url(f"oci://{oci_registry.host}/charts/podinfo")
        newest = await pull_chart(oci, chart)
        assert newest.version == "1.1.0+build.2"
        assert newest.data[:2] == b"\x1f\x8b"
        exact = await pull_chart(oci, chart, "1.0.0")
        assert exact.metadata["name"] == "podinfo"
        assert exact.version == "1.0.0"
        await push_artifact(oci, chart.with_tag("flux"), _tarball({"a": "b"}))
        not_a_chart = chart.with_digest(await oci.resolve(chart.with_tag("flux")))
        with pytest.raises(OCIArtifactError, match="not a Helm chart"):
            await pull_chart(oci, not_a_chart)


async def test_helm_sdk_reads_weir_pushed_chart(oci_registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    """Interoperability: Helm itself pulls a chart weir pushed."""
    import helm_python as helm  # noqa: PLC0415 - Helm itself, a hard dependency

    data, meta = package_chart(write_chart(tmp_path / "src", "interop", "2.0.0"))
    async with RegistryClient(insecure=True) as oci:
        await push_chart(oci, parse_url(f"oci://{oci_registry.host}/interop"), data, meta)
    dest = tmp_path / "pulled"
    dest.mkdir()
    helm.pull(
        f"oci://{oci_registry.host}/interop/interop",
        version="2.0.0",
        destination=dest,
        plain_http=True,
    )
    assert (dest / "interop-2.0.0.tgz").read_bytes() == data


async def test_token_auth(tmp_path: Path) -> None:
    with Registry(tmp_path / "reg", auth=("alice", "s3cret")) as registry:
        base = parse_url(f"oci://{registry.host}/private/app")
        async with RegistryClient(credentials=Credentials("alice", "s3cret"), insecure=True) as oci:
            await push_artifact(oci, base.with_tag("v1"), _tarball({"a.yaml": "a: 1\n"}))
            assert await oci.list_tags(base) == ["v1"]
            requests = registry.token_requests
            await oci.list_tags(base)
            assert registry.token_requests == requests  # the token is cached
        async with RegistryClient(insecure=True) as anonymous:
            with pytest.raises(OCIAuthError, match="needs credentials"):
                await anonymous.list_tags(base)
        async with RegistryClient(credentials=Credentials("alice", "wrong"), insecure=True) as bad:
            with pytest.raises(OCIAuthError, match="refused the credentials"):
                await bad.list_tags(base)
