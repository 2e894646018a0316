"""Sealed session cookies: only the key's holder reads or makes them, a value cannot move to
another cookie, they expire, and a large one is split into chunks and joined again."""

from __future__ import annotations

import time

from weir.auth.sealed import CHUNK, Sealer, chunk_names, clear_cookies, derive_key


def test_seal_open_tamper_expire() -> None:
    sealer = Sealer(derive_key("client-secret", "web-session"))
    value = sealer.seal("s", {"u": "ada"}, ttl=60)
    assert sealer.open("s", value) == {"u": "ada", "exp": int(time.time() + 60)}
    assert sealer.open("other", value) is None, "bound to its cookie's name"
    assert sealer.open("s", value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]) is None
    assert sealer.open("s", "not base64 !") is None
    assert sealer.open("s", value, now=time.time() + 120) is None, "expired"
    stranger = Sealer(derive_key("another-secret", "web-session"))
    assert stranger.open("s", value) is None
    assert derive_key("x", "a") != derive_key("x", "b"), "one key per purpose"


def test_large_payloads_travel_in_chunks() -> None:
    sealer = Sealer(derive_key("k", "web-session"))
    groups = [f"group-{i:04d}-with-a-long-name" for i in range(200)]
    cookies = sealer.to_cookies("weir_oidc", {"g": groups}, 600, present={})
    assert len(cookies) > 1
    assert all(c.value is not None and len(c.value) <= CHUNK for c in cookies)
    jar = {c.name: c.value for c in cookies if c.value is not None}
    assert chunk_names("weir_oidc", jar) == [c.name for c in cookies]
    opened = sealer.from_cookies("weir_oidc", jar)
    assert opened is not None
    assert opened["g"] == groups
    # A smaller session later deletes the chunks it no longer needs.
    smaller = sealer.to_cookies("weir_oidc", {"g": []}, 600, present=jar)
    assert [c.name for c in smaller if c.value is None] == list(jar)[1:]
    assert [c.name for c in clear_cookies("weir_oidc", jar)] == list(jar)
    assert [c.name for c in clear_cookies("weir_oidc", {})] == ["weir_oidc"]
