"""Credentials from Secret data, the git environment, stderr sanitising and error classes."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from weir.source.errors import (
    GitAuthError,
    GitError,
    GitNetworkError,
    GitNotFoundError,
    HostKeyError,
    InvalidAuthError,
    InvalidRefError,
)
from weir.source.gitauth import (
    GitAuth,
    decode_secret_data,
    git_environment,
    origin,
    safe_url,
    split_url_credentials,
)
from weir.source.gitcmd import classify, sanitize
from weir.testing.certs import make_ssh_keypair

HTTPS = "https://git.example.com:8443/org/repo.git"
SSH = "ssh://git@git.example.com:2222/org/repo.git"


def config_of(env: dict[str, str]) -> dict[str, str]:
    return {
        env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"]
        for i in range(int(env["GIT_CONFIG_COUNT"]))
    }


def test_decode_secret_data() -> None:
    data = {"username": base64.b64encode(b"bob").decode()}
    assert decode_secret_data(data) == {"username": b"bob"}
    assert decode_secret_data(None) == {}


def test_https_basic_auth_goes_into_a_scoped_header() -> None:
    auth = GitAuth.from_secret_data({"username": b"bob", "password": b"s3cret!"}, HTTPS)
    with git_environment(HTTPS, auth) as genv:
        cfg = config_of(genv.env)
        header = cfg["http.https://git.example.com:8443/.extraHeader"]
        assert header == "Authorization: Basic " + base64.b64encode(b"bob:s3cret!").decode()
        assert cfg["credential.helper"] == ""
        assert cfg["protocol.allow"] == "never"
        assert genv.env["GIT_TERMINAL_PROMPT"] == "0"
        assert "s3cret!" in genv.redact
        tmpdir = genv.tmpdir
    assert not os.path.exists(tmpdir)


def test_bearer_token_and_ca_files() -> None:
    auth = GitAuth.from_secret_data({"bearerToken": "tok123", "ca.crt": b"CA PEM"}, HTTPS)
    with git_environment(HTTPS, auth) as genv:
        cfg = config_of(genv.env)
        assert (
            cfg["http.https://git.example.com:8443/.extraHeader"] == "Authorization: Bearer tok123"
        )
        ca = cfg["http.https://git.example.com:8443/.sslCAInfo"]
        assert Path(ca).read_bytes() == b"CA PEM"
        assert Path(ca).stat().st_mode & 0o777 == 0o600
        assert "tok123" in genv.redact


def test_client_certificate() -> None:
    auth = GitAuth.from_secret_data({"tls.crt": b"CRT", "tls.key": b"KEY"}, HTTPS)
    with git_environment(HTTPS, auth) as genv:
        cfg = config_of(genv.env)
        assert Path(cfg["http.https://git.example.com:8443/.sslKey"]).read_bytes() == b"KEY"
    with pytest.raises(InvalidAuthError, match=r"tls\.crt"):
        GitAuth.from_secret_data({"tls.crt": b"CRT"}, HTTPS)


def test_basic_and_bearer_together_is_invalid() -> None:
    with pytest.raises(InvalidAuthError, match="only one"):
        GitAuth.from_secret_data({"username": "a", "password": "b", "bearerToken": "c"}, HTTPS)


def test_ssh_environment() -> None:
    keys = make_ssh_keypair()
    data = {"identity": keys.private_openssh, "known_hosts": b"[h]:22 ssh-ed25519 AAAA\n"}
    auth = GitAuth.from_secret_data(data, SSH)
    with git_environment(SSH, auth) as genv:
        cmd = genv.env["GIT_SSH_COMMAND"]
        for opt in (
            "IdentitiesOnly=yes",
            "StrictHostKeyChecking=yes",
            "BatchMode=yes",
            f"GlobalKnownHostsFile={os.devnull}",
        ):
            assert opt in cmd
        kh = cmd.split("UserKnownHostsFile=", 1)[1].split()[0]
        assert Path(kh).read_bytes() == b"[h]:22 ssh-ed25519 AAAA\n"
        identity = cmd.split(" -i ", 1)[1].split()[0]
        assert Path(identity).read_bytes() == keys.private_openssh
        assert Path(identity).stat().st_mode & 0o777 == 0o600
        assert "extraHeader" not in str(config_of(genv.env))


def test_ssh_identity_with_passphrase_is_decrypted() -> None:
    keys = make_ssh_keypair(b"pass phrase")
    auth = GitAuth.from_secret_data(
        {"identity": keys.private_openssh, "password": "pass phrase", "known_hosts": "h k"}, SSH
    )
    with git_environment(SSH, auth) as genv:
        identity = genv.env["GIT_SSH_COMMAND"].split(" -i ", 1)[1].split()[0]
        assert b"BEGIN OPENSSH PRIVATE KEY" in Path(identity).read_bytes()
    assert "pass phrase" in auth.redactions()
    wrong = GitAuth.from_secret_data(
        {"identity": keys.private_openssh, "password": "nope", "known_hosts": "h k"}, SSH
    )
    with pytest.raises(InvalidAuthError, match="cannot decrypt"), git_environment(SSH, wrong):
        pass


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"identity": b"key"}, "known_hosts"),
        ({"known_hosts": b"h k"}, "identity"),
    ],
)
def test_ssh_needs_identity_and_known_hosts(data: dict[str, bytes], message: str) -> None:
    with pytest.raises(InvalidAuthError, match=message):
        GitAuth.from_secret_data(data, SSH)


def test_ssh_without_secret_is_refused() -> None:
    with pytest.raises(InvalidAuthError, match="identity"), git_environment(SSH, None):
        pass


def test_url_credentials_are_moved_out_of_the_url() -> None:
    url, auth = split_url_credentials("https://bob:p%40ss@h.example/r.git")
    assert url == "https://h.example/r.git"
    assert auth is not None
    assert (auth.username, auth.password) == ("bob", "p@ss")
    assert split_url_credentials(SSH) == (SSH, None)
    url, auth = split_url_credentials("ssh://git:pw@h:22/r.git")
    assert (url, auth) == ("ssh://git@h:22/r.git", None)
    with pytest.raises(InvalidRefError, match="http://, https:// or ssh://"):
        split_url_credentials("git@github.com:org/repo.git")
    with pytest.raises(InvalidRefError, match="no host"):
        split_url_credentials("https:///x")


def test_origin_and_safe_url() -> None:
    assert origin(HTTPS) == "https://git.example.com:8443/"
    assert origin("http://[::1]:80/x") == "http://[::1]:80/"
    assert safe_url("https://u:secret@h/x") == "https://u:***@h/x"
    assert safe_url(HTTPS) == HTTPS


def test_repr_hides_secrets() -> None:
    auth = GitAuth(username="bob", password="hunter2", bearer_token=None)
    assert "hunter2" not in repr(auth)
    assert "password" in repr(auth)


def test_sanitize() -> None:
    text = (
        "fatal: unable to access 'https://bob:hunter2@h/x/': "
        "The requested URL returned error: 403\n"
        "> Authorization: Basic Ym9iOmh1bnRlcjI=\n"
        "token tok123 leaked\n"
    )
    clean = sanitize(text, ["tok123"])
    assert "hunter2" not in clean
    assert "Ym9iOmh1bnRlcjI=" not in clean
    assert "tok123" not in clean
    assert "https://***@h/x/" in clean


@pytest.mark.parametrize(
    ("stderr", "cls"),
    [
        ("fatal: Authentication failed for 'http://h/x'", GitAuthError),
        (
            "fatal: could not read Username for 'http://h': terminal prompts disabled",
            GitAuthError,
        ),
        ("git@h: Permission denied (publickey).\nfatal: Could not read from remote", GitAuthError),
        ("fatal: unable to access 'x': The requested URL returned error: 403", GitAuthError),
        ("fatal: repository 'http://h/x.git/' not found", GitNotFoundError),
        ("fatal: couldn't find remote ref refs/heads/nope", GitNotFoundError),
        ("fatal: remote error: upload-pack: not our ref 0000", GitNotFoundError),
        (
            "fatal: unable to access 'x': Failed to connect to h port 1: Connection refused",
            GitNetworkError,
        ),
        ("fatal: unable to access 'x': Could not resolve host: nope", GitNetworkError),
        (
            "fatal: unable to access 'x': SSL certificate problem: unable to get local issuer",
            GitNetworkError,
        ),
        ("ssh: connect to host h port 1: Connection refused", GitNetworkError),
        ("Host key verification failed.\nfatal: Could not read from remote", HostKeyError),
        ("No ED25519 host key is known for [h]:2 and you have requested strict", HostKeyError),
        ("fatal: something else entirely", GitError),
    ],
)
def test_classify(stderr: str, cls: type[GitError]) -> None:
    assert classify(stderr)[0] is cls
