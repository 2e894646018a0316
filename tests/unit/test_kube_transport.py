"""Line splitting of watch streams, query encoding, the proxy environment read once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from kubernetes_asyncio.client import ApiClient, Configuration

from weir.kube.transport import _query, _session, iter_lines


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


async def lines(*parts: bytes) -> list[bytes]:
    return [line async for line in iter_lines(chunks(*parts))]


async def test_lines_across_chunks() -> None:
    assert await lines(b'{"a":1}\n{"b"', b":2}\n", b'{"c":3}') == [
        b'{"a":1}',
        b'{"b":2}',
        b'{"c":3}',
    ]


async def test_long_line_in_many_chunks() -> None:
    big = b"x" * 5_000_000
    parts = [big[i : i + 65536] for i in range(0, len(big), 65536)]
    assert await lines(*parts, b"\n", b"y\n") == [big, b"y"]


async def test_blank_lines_skipped() -> None:
    assert await lines(b"\n\na\n\n", b"\n") == [b"a"]


def test_query_encoding() -> None:
    assert _query({"watch": True, "force": False, "limit": 5, "continue": None}) == {
        "watch": "true",
        "force": "false",
        "limit": "5",
    }


async def _client(host: str, proxy: str | None = None) -> ApiClient:
    cfg = Configuration(host=host)
    cfg.proxy = proxy
    return ApiClient(configuration=cfg)


async def test_proxy_environment_read_once_per_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    api = await _client("https://api.invalid:6443")
    try:
        session = _session(api)
        assert not session.trust_env  # no per-request environment or ~/.netrc look-ups
        assert api.rest_client.proxy == "http://proxy.invalid:3128"
        assert api.rest_client.proxy_headers["Proxy-Authorization"].startswith("Basic ")
        assert _session(api) is session
    finally:
        await api.close()


async def test_no_proxy_and_explicit_proxy_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "api.invalid")
    bypassed = await _client("https://api.invalid:6443")
    explicit = await _client("https://other.invalid:6443", proxy="http://mine.invalid:8080")
    try:
        assert not _session(bypassed).trust_env
        assert not bypassed.rest_client.proxy
        _session(explicit)
        assert explicit.rest_client.proxy == "http://mine.invalid:8080"
    finally:
        await bypassed.close()
        await explicit.close()
