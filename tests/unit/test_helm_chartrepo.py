"""weir.source.chartrepo: index parsing, sorting and digest, version selection, revisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.helmengine.errors import (
    ChartError,
    ChartNotFoundError,
    ChartRepositoryError,
    RepositoryAuthError,
    ValuesError,
)
from weir.source.chartrepo import (
    ChartVersion,
    RepoAuth,
    chart_artifact_name,
    chart_revision,
    chart_url,
    index_artifact_name,
    index_digest,
    index_url,
    load_index,
    merge_values_files,
    select_version,
    sort_index,
)

INDEX = """\
apiVersion: v1
entries:
  podinfo:
  - {name: podinfo, version: 6.5.2, urls: [podinfo-6.5.2.tgz], digest: aa}
  - {name: podinfo, version: 6.5.10, urls: [podinfo-6.5.10.tgz], created: 2024-01-01T00:00:00Z}
  - {name: podinfo, version: 7.0.0-rc.1, urls: [https://cdn.example/podinfo-7.0.0-rc.1.tgz]}
  - {name: podinfo, version: not-semver, urls: [x.tgz]}
  - {name: podinfo, version: 6.5.3, urls: [podinfo-6.5.3.tgz]}
  redis:
  - {name: redis, version: 1.0.0, urls: [redis-1.0.0.tgz]}
generated: 2024-01-02T00:00:00Z
"""


def test_sort_index_newest_first_stable() -> None:
    index = sort_index(load_index(INDEX))
    assert [v.version for v in index.versions("podinfo")] == [
        "7.0.0-rc.1",
        "6.5.10",
        "6.5.3",
        "6.5.2",
        "not-semver",
    ]


def test_index_digest_is_stable_over_order_and_formatting() -> None:
    shuffled = INDEX.replace(
        "  - {name: podinfo, version: 6.5.2, urls: [podinfo-6.5.2.tgz], digest: aa}\n", ""
    ).replace(
        "  - {name: podinfo, version: 6.5.3, urls: [podinfo-6.5.3.tgz]}\n",
        "  - {name: podinfo, version: 6.5.3, urls: [podinfo-6.5.3.tgz]}\n"
        "  - name: podinfo\n    version: 6.5.2\n"
        "    urls:\n    - podinfo-6.5.2.tgz\n    digest: aa\n",
    )
    first, second = index_digest(load_index(INDEX)), index_digest(load_index(shuffled))
    assert first == second
    assert first.startswith("sha256:")
    assert len(first) == 71
    changed = index_digest(load_index(INDEX.replace("6.5.3", "6.5.4")))
    assert changed != first
    assert index_artifact_name(first) == f"index-{first[7:]}.yaml"


def test_load_index_errors() -> None:
    with pytest.raises(ChartRepositoryError, match="no apiVersion"):
        load_index("entries: {}\n")
    with pytest.raises(ChartRepositoryError, match="not a Helm repository index"):
        load_index("- a\n")
    with pytest.raises(ChartRepositoryError, match="does not parse"):
        load_index("a: [\n")


def test_select_version() -> None:
    index = load_index(INDEX)
    assert select_version(index, "podinfo").version == "6.5.10"
    assert select_version(index, "podinfo", "").version == "6.5.10"
    assert select_version(index, "podinfo", "~6.5.2 <6.5.4").version == "6.5.3"
    assert select_version(index, "podinfo", ">=7.0.0-0").version == "7.0.0-rc.1"
    assert select_version(index, "podinfo", "6.5.2").digest == "aa"
    with pytest.raises(ChartNotFoundError, match="no chart named 'nginx'"):
        select_version(index, "nginx")
    with pytest.raises(ChartNotFoundError, match="matches '>=8'"):
        select_version(index, "podinfo", ">=8")
    with pytest.raises(ChartError, match="invalid chart version range"):
        select_version(index, "podinfo", "bogus range")


def test_urls() -> None:
    assert index_url("https://charts.example/repo/") == "https://charts.example/repo/index.yaml"
    assert index_url("https://charts.example/custom.yaml") == "https://charts.example/custom.yaml"
    index = load_index(INDEX)
    chart = select_version(index, "podinfo", "6.5.3")
    assert chart_url("https://charts.example/repo", chart) == (
        "https://charts.example/repo/podinfo-6.5.3.tgz"
    )
    rc = select_version(index, "podinfo", ">=7.0.0-0")
    assert (
        chart_url("https://charts.example/repo", rc) == "https://cdn.example/podinfo-7.0.0-rc.1.tgz"
    )
    with pytest.raises(ChartError, match="no download URL"):
        chart_url("https://x", ChartVersion("a", "1.0.0", (), None, {}))


def test_chart_revisions() -> None:
    assert chart_revision("6.0.3") == "6.0.3"
    assert chart_revision("6.0.3", generation=4) == "6.0.3+4"
    assert chart_revision("6.0.3+old", generation=4) == "6.0.3+4"
    sha = "450796ddb2ab6724ee1cc32a4be56da032d1cca0"
    assert chart_revision("6.0.3", source_revision=f"main@sha1:{sha}") == "6.0.3+450796ddb2ab"
    assert chart_revision("6.0.3", source_revision=f"sha256:{'b' * 64}") == "6.0.3+bbbbbbbbbbbb"
    with pytest.raises(ChartError):
        chart_revision("1.0.0", source_revision="main@nothex")
    assert chart_artifact_name("podinfo", "6.0.3+4") == "podinfo-6.0.3+4.tgz"


def test_repo_auth_from_secret() -> None:
    auth = RepoAuth.from_secret_data({"username": b"u", "password": b"p"})
    assert (auth.username, auth.password) == ("u", "p")
    assert "p'" not in repr(auth)
    assert auth.ssl_context() is True
    assert RepoAuth().basic() is None
    with pytest.raises(RepositoryAuthError, match=r"both 'username' and 'password'"):
        RepoAuth.from_secret_data({"username": b"u"})
    with pytest.raises(RepositoryAuthError, match=r"tls\.crt"):
        RepoAuth.from_secret_data({}, {"tls.crt": b"x"})


def test_merge_values_files(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("a: 1\nb: {c: 1}\n")
    (tmp_path / "prod.yaml").write_text("b: {d: 2}\n")
    merged = merge_values_files(tmp_path, ["values.yaml", "prod.yaml"])
    assert merged == {"a": 1, "b": {"c": 1, "d": 2}}
    assert merge_values_files(tmp_path, ["missing.yaml"], ignore_missing=True) == {}
    with pytest.raises(ValuesError, match="not found"):
        merge_values_files(tmp_path, ["missing.yaml"])
    with pytest.raises(ValuesError, match="outside the chart source"):
        merge_values_files(tmp_path, ["../escape.yaml"])
