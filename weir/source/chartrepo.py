"""Helm chart repositories (HelmRepository, default type) and HelmChart building blocks.

- :func:`fetch_index` downloads ``<url>/index.yaml`` with httpx (Basic auth and TLS from the
  Secrets, see :class:`RepoAuth`); :func:`load_index` parses it; :func:`sort_index` orders every
  chart's versions newest first (stable); :func:`index_digest` is the ``sha256:`` revision of the
  sorted index and :func:`index_artifact_name` its file name (``index-<hex>.yaml``).
- :func:`select_version` picks a chart version for a semver range (``*`` by default), with
  :mod:`weir.artifact.semver` (Masterminds semantics, as Flux).
- :func:`download_chart` fetches the chart archive a version points to (relative URLs resolve
  against the repository; credentials go to another host only with ``passCredentials``).
- :func:`merge_values_files` composes ``spec.valuesFiles`` into a chart's ``values.yaml``;
  :func:`chart_revision` gives HelmChart's revision (``6.0.3``, ``6.0.3+<generation>``,
  ``6.0.3+<12 hex of the source revision>``).
- Packaging a chart directory (Git/Bucket sources) is the engine's job:
  :meth:`weir.helmengine.engine.HelmEngine.package`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import ssl
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import yaml

from weir.artifact.errors import InvalidVersionError
from weir.artifact.semver import Constraint, Version
from weir.helmengine.errors import (
    ChartError,
    ChartNotFoundError,
    ChartRepositoryError,
    RepositoryAuthError,
    ValuesError,
)
from weir.helmengine.values import encode_values, merge_maps, read_values
from weir.yamlio import KubeLoader

DEFAULT_TIMEOUT = 60.0
MAX_INDEX_SIZE = 50 << 20  # source-controller's default --helm-index-max-size
MAX_CHART_SIZE = 10 << 20  # source-controller's default --helm-chart-max-size


# ------------------------------------------------------------------------------- auth
@dataclass(frozen=True)
class RepoAuth:
    """Credentials and TLS settings from ``spec.secretRef`` / ``spec.certSecretRef``."""

    username: str | None = None
    password: str | None = None
    ca_pem: bytes | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    insecure_skip_verify: bool = False

    @classmethod
    def from_secret_data(
        cls, data: Mapping[str, bytes] | None, tls_data: Mapping[str, bytes] | None = None
    ) -> RepoAuth:
        """From decoded Secret data: ``username``/``password`` and ``ca.crt``/``tls.crt``/
        ``tls.key`` (the TLS keys may also sit in the auth Secret, as Flux still accepts)."""
        data = data or {}
        tls = {**data, **(tls_data or {})}
        username = data.get("username")
        password = data.get("password")
        if (username is None) != (password is None):
            raise RepositoryAuthError(
                "the Secret must hold both 'username' and 'password' (or neither)"
            )
        if ("tls.crt" in tls) != ("tls.key" in tls):
            raise RepositoryAuthError("the TLS Secret must hold both 'tls.crt' and 'tls.key'")
        return cls(
            username=username.decode() if username is not None else None,
            password=password.decode() if password is not None else None,
            ca_pem=tls.get("ca.crt"),
            cert_pem=tls.get("tls.crt"),
            key_pem=tls.get("tls.key"),
        )

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What httpx's ``verify`` takes: a context with the CA/client certificate, or True."""
        if self.insecure_skip_verify:
            return False
        if not (self.ca_pem or self.cert_pem):
            return True
        ctx = ssl.create_default_context()
        if self.ca_pem:
            ctx.load_verify_locations(cadata=self.ca_pem.decode())
        if self.cert_pem and self.key_pem:
            _load_client_cert(ctx, self.cert_pem, self.key_pem)
        return ctx

    def basic(self) -> httpx.BasicAuth | None:
        if self.username is None:
            return None
        return httpx.BasicAuth(self.username, self.password or "")

    def __repr__(self) -> str:  # never print secrets
        return f"RepoAuth(username={self.username!r}, tls={self.cert_pem is not None})"


def _load_client_cert(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="weir-tls-") as tmp:
        cert, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        with open(cert, "wb") as fh:
            fh.write(cert_pem)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
        ctx.load_cert_chain(cert, key)


def http_client(
    auth: RepoAuth | None = None, timeout: float = DEFAULT_TIMEOUT
) -> httpx.AsyncClient:
    """An httpx client with the TLS settings of ``auth`` (close it with ``aclose``)."""
    verify = auth.ssl_context() if auth else True
    return httpx.AsyncClient(verify=verify, timeout=timeout, follow_redirects=True)


# ------------------------------------------------------------------------------ index
@dataclass(frozen=True)
class ChartVersion:
    """One entry of ``index.yaml``."""

    name: str
    version: str
    urls: tuple[str, ...]
    digest: str | None
    raw: dict[str, Any]

    @property
    def app_version(self) -> str | None:
        value = self.raw.get("appVersion")
        return None if value is None else str(value)


@dataclass(frozen=True)
class ChartIndex:
    """A parsed repository index: chart name -> versions (as listed, or sorted)."""

    api_version: str
    entries: dict[str, list[dict[str, Any]]]
    raw: dict[str, Any]

    def versions(self, chart: str) -> list[ChartVersion]:
        out = []
        for entry in self.entries.get(chart) or []:
            out.append(
                ChartVersion(
                    name=str(entry.get("name") or chart),
                    version=str(entry.get("version") or ""),
                    urls=tuple(str(u) for u in entry.get("urls") or ()),
                    digest=entry.get("digest"),
                    raw=entry,
                )
            )
        return out


def index_url(repo_url: str) -> str:
    """``<url>/index.yaml`` (a URL already ending in ``.yaml`` is used as is)."""
    if repo_url.endswith((".yaml", ".yml")):
        return repo_url
    return repo_url.rstrip("/") + "/index.yaml"


def _status_error(url: str, status: int, what: str) -> ChartRepositoryError:
    if status in (401, 403):
        return RepositoryAuthError(
            f"{what} {url}: HTTP {status}; check the username/password in spec.secretRef"
        )
    if status == 404:
        return ChartRepositoryError(f"{what} {url}: HTTP 404; check spec.url")
    return ChartRepositoryError(f"{what} {url}: HTTP {status}")


async def _get(
    client: httpx.AsyncClient,
    url: str,
    auth: httpx.BasicAuth | None,
    limit: int,
    what: str,
) -> bytes:
    try:
        async with client.stream("GET", url, auth=auth) as resp:
            if resp.status_code != 200:
                raise _status_error(url, resp.status_code, what)
            chunks = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ChartRepositoryError(f"{what} {url} is larger than {limit} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as e:
        raise ChartRepositoryError(f"{what} {url} failed: {e}; check spec.url and TLS") from e


async def fetch_index(
    repo_url: str,
    auth: RepoAuth | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - an httpx timeout
    max_size: int = MAX_INDEX_SIZE,
) -> bytes:
    """The raw bytes of the repository's ``index.yaml``."""
    if urlsplit(repo_url).scheme not in ("http", "https"):
        raise ChartRepositoryError(
            f"unsupported repository URL {repo_url!r}: use http(s)://, or an OCIRepository "
            "for oci://"
        )
    owned = client is None
    http = client or http_client(auth, timeout)
    try:
        return await _get(
            http, index_url(repo_url), auth.basic() if auth else None, max_size, "index"
        )
    finally:
        if owned:
            await http.aclose()


def load_index(data: bytes | str) -> ChartIndex:
    """Parse ``index.yaml``; raises :class:`ChartRepositoryError` when it is not an index."""
    try:
        doc = yaml.load(data, Loader=_IndexLoader)  # a safe loader
    except yaml.YAMLError as e:
        raise ChartRepositoryError(f"index.yaml does not parse: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("entries", {}), dict):
        raise ChartRepositoryError("index.yaml is not a Helm repository index (no 'entries' map)")
    api_version = str(doc.get("apiVersion") or "")
    if not api_version:
        raise ChartRepositoryError("index.yaml has no apiVersion: not a Helm repository index")
    entries = {
        str(name): [dict(v) for v in versions or [] if isinstance(v, dict)]
        for name, versions in (doc.get("entries") or {}).items()
    }
    return ChartIndex(api_version, entries, doc)


_IndexLoader = KubeLoader


def _version_key(entry: Mapping[str, Any]) -> Version | None:
    try:
        return Version.parse(str(entry.get("version") or ""))
    except ValueError:
        try:
            return Version.parse_loose(str(entry.get("version") or ""))
        except ValueError:
            return None


def sort_index(index: ChartIndex) -> ChartIndex:
    """Every chart's versions newest first (stable; unparsable versions last, in order)."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(index.entries):
        versions = index.entries[name]
        keyed = [(_version_key(v), i, v) for i, v in enumerate(versions)]
        good = [k for k in keyed if k[0] is not None]
        bad = [k for k in keyed if k[0] is None]
        ordered: list[tuple[Version | None, int, dict[str, Any]]] = []
        # insertion sort by version, newest first, ties kept in their original order
        for item in good:
            pos = len(ordered)
            while pos > 0 and ordered[pos - 1][0] < item[0]:  # type: ignore[operator]
                pos -= 1
            ordered.insert(pos, item)
        entries[name] = [v for _, _, v in ordered + bad]
    raw = {**index.raw, "entries": entries}
    return ChartIndex(index.api_version, entries, raw)


def encode_index(index: ChartIndex) -> bytes:
    """The canonical YAML of an index (keys sorted, Helm's scalar styles)."""
    return encode_values(_jsonable(index.raw)).encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # dates and times as text


def index_digest(index: ChartIndex) -> str:
    """``sha256:<hex>`` of the sorted, canonical index: HelmRepository's revision."""
    return "sha256:" + hashlib.sha256(encode_index(sort_index(index))).hexdigest()


def index_artifact_name(digest: str) -> str:
    """``index-<hex>.yaml``, the artifact file name of a HelmRepository."""
    return f"index-{digest.split(':', 1)[-1]}.yaml"


# --------------------------------------------------------------------------- selection
def select_version(index: ChartIndex, chart: str, version: str | None = "*") -> ChartVersion:
    """The highest version of ``chart`` matching the semver range (``*`` when empty)."""
    versions = index.versions(chart)
    if not versions:
        raise ChartNotFoundError(
            f"no chart named {chart!r} in the repository index: check spec.chart"
        )
    try:
        constraint = Constraint((version or "*").strip() or "*")
    except InvalidVersionError as e:
        raise ChartError(f"invalid chart version range {version!r}: {e}") from e
    best: tuple[Version, ChartVersion] | None = None
    for candidate in versions:
        try:
            parsed = Version.parse(candidate.version)
        except ValueError:
            continue
        if not constraint.check(parsed):
            continue
        if best is None or parsed > best[0]:
            best = (parsed, candidate)
    if best is None:
        raise ChartNotFoundError(
            f"no chart version of {chart!r} matches {version!r} "
            f"(available: {', '.join(v.version for v in versions[:10])}); "
            "change spec.version"
        )
    return best[1]


def chart_url(repo_url: str, chart: ChartVersion) -> str:
    """The absolute download URL of a chart version (relative URLs resolve on the repo)."""
    if not chart.urls:
        raise ChartError(f"chart {chart.name} {chart.version} has no download URL in the index")
    base = repo_url.rstrip("/") + "/"
    return urljoin(base, chart.urls[0])


async def download_chart(
    repo_url: str,
    chart: ChartVersion,
    auth: RepoAuth | None = None,
    *,
    pass_credentials: bool = False,
    client: httpx.AsyncClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - an httpx timeout
    max_size: int = MAX_CHART_SIZE,
) -> bytes:
    """The chart archive (``.tgz``) of ``chart``."""
    url = chart_url(repo_url, chart)
    same_host = urlsplit(url).netloc == urlsplit(repo_url).netloc
    basic = auth.basic() if auth and (same_host or pass_credentials) else None
    owned = client is None
    http = client or http_client(auth, timeout)
    try:
        return await _get(http, url, basic, max_size, f"chart {chart.name}-{chart.version}")
    finally:
        if owned:
            await http.aclose()


# ---------------------------------------------------------------------------- charts
def chart_metadata(archive: bytes) -> dict[str, Any]:
    """``Chart.yaml`` of a packaged chart (the first ``<dir>/Chart.yaml`` entry)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for member in tar:
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isreg():
                    fh = tar.extractfile(member)
                    if fh is None:  # pragma: no cover - regular files always have data
                        break
                    data = yaml.load(fh.read(), Loader=_IndexLoader)  # a safe loader
                    if isinstance(data, dict):
                        return data
                    break
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ChartError(f"chart archive is not a readable tar.gz: {e}") from e
    raise ChartError("chart archive has no <chart>/Chart.yaml")


def merge_values_files(
    root: Path,
    files: Sequence[str],
    *,
    ignore_missing: bool = False,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``spec.valuesFiles`` (paths relative to ``root``) deep-merged in order over ``base``.

    A missing file fails unless ``ignore_missing`` (``ignoreMissingValuesFiles``); paths may not
    leave ``root``.
    """
    result = dict(base or {})
    real_root = root.resolve()
    for name in files:
        path = (root / name).resolve()
        if path != real_root and real_root not in path.parents:
            raise ValuesError(f"values file {name!r} is outside the chart source: fix valuesFiles")
        if not path.is_file():
            if ignore_missing:
                continue
            raise ValuesError(
                f"values file {name!r} not found in the chart source; fix valuesFiles or set "
                "ignoreMissingValuesFiles"
            )
        result = merge_maps(result, read_values(path.read_bytes(), f"values file {name!r}"))
    return result


_HEX = re.compile(r"[0-9a-fA-F]{12,}")


def chart_revision(
    version: str, *, generation: int | None = None, source_revision: str | None = None
) -> str:
    """HelmChart revisions as Flux writes them.

    - plain chart version: ``6.0.3``;
    - ``valuesFiles`` with a HelmRepository source: ``6.0.3+<generation>``;
    - ``reconcileStrategy: Revision`` with a Git/Bucket source: ``6.0.3+<first 12 hex of the
      source revision>`` (``main@sha1:abc…`` -> ``abc…``).

    The suffix replaces any build metadata of the chart version.
    """
    base = version.split("+", 1)[0]
    if source_revision:
        digest_part = (
            source_revision.rsplit(":", 1)[-1] if ":" in source_revision else source_revision
        )
        match = _HEX.search(digest_part)
        if match is None:
            raise ChartError(f"source revision {source_revision!r} holds no hex digest")
        return f"{base}+{match[0][:12]}"
    if generation is not None:
        return f"{base}+{generation}"
    return version


def chart_artifact_name(name: str, version: str) -> str:
    """``<chart>-<version>.tgz``, a HelmChart's artifact file name."""
    return f"{name}-{version}.tgz"


def iter_chart_names(index: ChartIndex) -> Iterable[str]:
    return sorted(index.entries)
