"""The DNS-rebinding rule shared by the web UI and the MCP server (weir.auth.hosts)."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from weir.auth.hosts import HostRule, parse_allowed, split_host
from weir.errors import UsageError
from weir.web.settings import WebSettings


def test_split_host() -> None:
    assert split_host("Weir.Example.com.:8443") == ("weir.example.com", 8443)
    assert split_host("[::1]:9080") == ("::1", 9080)
    assert split_host("::1") == ("::1", None)
    assert split_host("127.0.0.1") == ("127.0.0.1", None)
    for bad in ("", "a:b", "[::1", "[x]:1", "user@host", "a/b", "host:"):
        assert split_host(bad) is None, bad


def test_default_rule_answers_addresses_and_localhost_only() -> None:
    rule = WebSettings().host_rule()  # 127.0.0.1:9080
    for ok in ("127.0.0.1:9080", "localhost:9080", "LOCALHOST", "[::1]:9080", "10.2.3.4:9080"):
        assert rule.host_allowed(ok), ok
    for bad in (None, "", "attacker.example:9080", "localhost.attacker.example", "127.0.0.1.nip"):
        assert not rule.host_allowed(bad), bad


def test_a_named_listen_host_and_allowed_hosts() -> None:
    settings = WebSettings(
        addr="weir-box:9080", allowed_hosts=("weir.example.com, *.preview.example.com", "x:8443")
    ).normalized()
    rule = settings.host_rule()
    assert rule.host_allowed("weir-box:9080")
    assert rule.host_allowed("weir.example.com")
    assert rule.host_allowed("pr-12.preview.example.com:443")
    assert not rule.host_allowed("preview.example.com")  # the wildcard needs a sub-domain
    assert not rule.host_allowed("evilpreview.example.com")
    assert rule.host_allowed("x:8443")
    assert not rule.host_allowed("x:9080")
    assert HostRule.for_listener("0.0.0.0", ["*"]).host_allowed("anything.example")


def test_origin_must_be_the_servers_own_or_allowed() -> None:
    rule = HostRule.for_listener("127.0.0.1", ["weir.example.com"])
    assert rule.origin_allowed("http://127.0.0.1:9080", "127.0.0.1:9080")
    assert rule.origin_allowed("http://localhost:5173", "127.0.0.1:9080")  # a dev server
    assert rule.origin_allowed("https://weir.example.com", "weir.flux-system.svc:9080")
    for bad in ("http://attacker.example:9080", "null", "file://", "chrome-extension://x"):
        assert not rule.origin_allowed(bad, "127.0.0.1:9080"), bad
    # Same origin as a rebound Host is still refused, by the Host check first.
    refused = rule.refusal(
        Headers({"host": "attacker.example:9080", "origin": "http://attacker.example:9080"})
    )
    assert refused is not None
    assert refused[0] == 421
    cross = rule.refusal(Headers({"host": "127.0.0.1:9080", "origin": "http://evil.example"}))
    assert cross is not None
    assert cross[0] == 403
    assert rule.refusal(Headers({"host": "127.0.0.1:9080"})) is None


def test_bad_allowed_hosts_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="not a URL"):
        parse_allowed(["https://weir.example.com"], "--web-allowed-hosts")
    with pytest.raises(UsageError, match="not a host name"):
        WebSettings(allowed_hosts=("a b",)).normalized()
    assert parse_allowed(["A.example.com,,b.example.com:1"], "--x") == (
        "a.example.com",
        "b.example.com:1",
    )
