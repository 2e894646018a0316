"""weir.source.chartrepo against a real chart repository served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.helmengine.errors import ChartRepositoryError, RepositoryAuthError
from weir.source.chartrepo import (
    RepoAuth,
    chart_metadata,
    download_chart,
    fetch_index,
    index_digest,
    load_index,
    merge_values_files,
    select_version,
)
from weir.testing.certs import make_tls
from weir.testing.chartrepo import ChartRepoServer, write_chart
from weir.testing.helm_fixtures import chart_repo  # noqa: F401


async def test_index_and_download_with_basic_auth(tmp_path: Path) -> None:
    with ChartRepoServer(basic_auth=("reader", "pw")) as repo:
        for version in ("6.5.2", "6.5.3", "7.0.0-rc.1"):
            repo.add_chart(write_chart(tmp_path / version, "podinfo", version))
        auth = RepoAuth(username="reader", password="pw")
        raw = await fetch_index(repo.url, auth)
        index = load_index(raw)
        digest = index_digest(index)
        assert digest == index_digest(load_index(await fetch_index(repo.url, auth)))
        chart = select_version(index, "podinfo", "6.5.x")
        assert chart.version == "6.5.3"
        data = await download_chart(repo.url, chart, auth)
        assert chart_metadata(data)["version"] == "6.5.3"
        assert any(r.path.endswith("podinfo-6.5.3.tgz") and r.authorized for r in repo.requests)

        with pytest.raises(RepositoryAuthError, match="HTTP 401"):
            await fetch_index(repo.url)
        with pytest.raises(RepositoryAuthError):
            await fetch_index(repo.url, RepoAuth(username="reader", password="wrong"))


async def test_tls_and_errors(tmp_path: Path, chart_repo: ChartRepoServer) -> None:  # noqa: F811
    tls = make_tls()
    with ChartRepoServer(tls=tls) as secure:
        secure.add_chart(write_chart(tmp_path / "c", "c", "1.0.0"))
        with pytest.raises(ChartRepositoryError, match="failed"):
            await fetch_index(secure.url)  # unknown CA
        auth = RepoAuth.from_secret_data(None, {"ca.crt": tls.ca_pem})
        assert "c" in load_index(await fetch_index(secure.url, auth)).entries
    with pytest.raises(ChartRepositoryError, match="HTTP 404"):
        await fetch_index(chart_repo.url + "/nope")
    with pytest.raises(ChartRepositoryError, match="oci://"):
        await fetch_index("oci://ghcr.io/x")


async def test_values_files_packaged_with_the_engine(tmp_path: Path) -> None:
    """A chart from a Git/Bucket source: valuesFiles merged, packaged by the engine with the
    HelmChart revision as its version."""
    from weir.helmengine.sdk import SdkEngine  # noqa: PLC0415 - loads Helm

    chart = write_chart(tmp_path / "src" / "app", "app", "1.2.3", values={"a": 1, "b": {"c": 1}})
    (chart / "values-prod.yaml").write_text("b: {d: 2}\n")
    values = merge_values_files(chart, ["values.yaml", "values-prod.yaml"])
    engine = SdkEngine()
    try:
        out = await engine.package(
            chart, tmp_path / "out", version="1.2.3+abcdef123456", values=values
        )
        assert out.name == "app-1.2.3+abcdef123456.tgz"
        info = await engine.load_chart(out.read_bytes())
        assert info.version == "1.2.3+abcdef123456"
        assert info.values == {"a": 1, "b": {"c": 1, "d": 2}}
    finally:
        await engine.aclose()
