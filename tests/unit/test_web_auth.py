"""Web UI authentication (weir.auth.users): the users file, sessions, the three modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.auth.users import (
    COOKIE,
    Authenticator,
    AuthSettings,
    Identity,
    User,
    actions_refusal,
    is_loopback,
    load_users,
    token_digest,
)
from weir.errors import ConfigError, UsageError


def users_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users.yaml"
    path.write_text(text)
    return path


def test_users_file(tmp_path: Path) -> None:
    digest = token_digest("s3cret")
    users = load_users(
        users_file(tmp_path, f"users:\n- name: alice\n  groups: [ops]\n  tokenSHA256: {digest}\n")
    )
    assert [(u.name, u.groups, u.token_sha256) for u in users] == [("alice", ("ops",), digest)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("users: []\n", "needs a non-empty 'users:' list"),
        ("users:\n- name: a\n  tokenSHA256: abc\n", "tokenSHA256 must be 64 hex digits"),
        ("users:\n- tokenSHA256: " + "a" * 64 + "\n", "users\\[0\\] has no name"),
        ("users:\n- name: a\n  groups: ops\n  tokenSHA256: " + "a" * 64, "groups must be a list"),
        (
            "users:\n- {name: a, tokenSHA256: "
            + "a" * 64
            + "}\n- {name: b, tokenSHA256: "
            + "a" * 64
            + "}\n",
            "two users the same token",
        ),
        ("users: [", "not valid YAML"),
    ],
)
def test_users_file_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_users(users_file(tmp_path, text))


def test_missing_users_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the web users file"):
        load_users(tmp_path / "nope.yaml")


def test_flags_exclude_each_other(tmp_path: Path) -> None:
    path = users_file(tmp_path, f"users:\n- name: a\n  tokenSHA256: {token_digest('t')}\n")
    assert AuthSettings.from_flags(None, None).mode == "none"
    assert AuthSettings.from_flags(str(path), None).mode == "token"
    assert AuthSettings.from_flags(None, "X-Forwarded-User").mode == "proxy"
    with pytest.raises(UsageError, match="exclude each other"):
        AuthSettings.from_flags(str(path), "X-Forwarded-User")


def _token_auth() -> Authenticator:
    users = (
        User("alice", token_digest("alice-token"), ("ops",)),
        User("bob", token_digest("bob-token")),
    )
    return Authenticator(AuthSettings(mode="token", users=users, session_ttl=60))


def test_tokens_and_sessions() -> None:
    auth = _token_auth()
    alice = Identity("alice", ("ops",))
    assert auth.login("alice-token") == alice
    assert auth.login("nobody") is None
    assert auth.identify({"authorization": "Bearer bob-token"}, {}) == Identity("bob")
    assert auth.identify({"authorization": "Basic bob-token"}, {}) is None

    cookie = auth.session(alice, now=1000.0)
    assert auth.verify(cookie, now=1030.0) == alice
    assert auth.identify({}, {COOKIE: auth.session(alice)}) == alice
    assert auth.verify(cookie, now=1061.0) is None, "expired"
    body, _, sig = cookie.partition(".")
    assert auth.verify(body + "x." + sig, now=1030.0) is None, "tampered payload"
    other = Authenticator(auth.settings)  # another process: another key
    assert other.verify(cookie, now=1030.0) is None


def test_a_session_ends_when_the_user_leaves_the_file() -> None:
    auth = _token_auth()
    cookie = auth.session(Identity("carol"), now=1000.0)
    assert auth.verify(cookie, now=1001.0) is None


def test_proxy_headers() -> None:
    auth = Authenticator(AuthSettings(mode="proxy", proxy_user_header="X-Auth-Request-User"))
    headers = {"X-Auth-Request-User": "dana", "X-Forwarded-Groups": "a, b,,c"}
    assert auth.identify(headers, {}) == Identity("dana", ("a", "b", "c"))
    assert auth.identify({"X-Forwarded-User": "mallory"}, {}) is None


@pytest.mark.parametrize(
    ("addr", "loopback"),
    [
        ("127.0.0.1:9080", True),
        ("127.0.0.2:9080", True),
        ("localhost:9080", True),
        ("[::1]:9080", True),
        ("0.0.0.0:9080", False),
        (":9080", False),
        ("10.0.0.5:9080", False),
        ("weir.example.com:9080", False),
    ],
)
def test_loopback(addr: str, loopback: bool) -> None:
    assert is_loopback(addr) is loopback


def test_actions_beyond_loopback_need_authentication() -> None:
    assert actions_refusal(AuthSettings(), "127.0.0.1:9080") is None
    refusal = actions_refusal(AuthSettings(), "0.0.0.0:9080")
    assert refusal is not None
    assert "--web-users-file" in refusal
    assert actions_refusal(AuthSettings(mode="proxy"), "0.0.0.0:9080") is None
