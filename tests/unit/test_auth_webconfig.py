"""The Flux Operator's web config (``web.fluxcd.controlplane.io/v1`` Config): the documented
examples load as they are, defaults are the Flux Operator's, and mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from weir.auth.users import AuthSettings
from weir.auth.webconfig import (
    DEFAULT_GROUPS_EXPR,
    DEFAULT_SCOPES,
    DEFAULT_USERNAME_EXPR,
    load_web_config,
    parse_web_config,
)
from weir.errors import ConfigError, UsageError

FULL = """
apiVersion: web.fluxcd.controlplane.io/v1
kind: Config
spec:
  baseURL: https://flux-web.example.com
  insecure: false
  authentication:
    type: OAuth2
    sessionDuration: 24h
    userCacheSize: 200
    oauth2:
      provider: OIDC
      clientID: flux-web-client-id
      clientSecret: flux-web-client-secret
      issuerURL: https://dex.example.com
      scopes: [groups, email]
      authURLParams: {access_type: offline, prompt: consent}
      autoLogin: false
      variables:
        - name: username
          expression: "claims.sub"
      validations:
        - expression: "size(claims.groups) > 0"
          message: "user must belong to at least one group"
      profile:
        name: "claims.name"
      impersonation:
        username: "claims.email"
        groups: "claims.groups"
  userActions:
    audit: [reconcile, suspend, resume]
    access: Impersonated
  search:
    cached: false
"""


def test_the_documented_config_loads() -> None:
    config = parse_web_config(yaml.safe_load(FULL))
    auth = config.authentication
    assert auth is not None
    assert auth.session_seconds == 24 * 3600
    assert auth.user_cache_size == 200
    oauth2 = config.oauth2
    assert oauth2 is not None
    assert oauth2.client_id == "flux-web-client-id"
    assert oauth2.scopes == ("openid", "groups", "email"), "openid is added when forgotten"
    assert oauth2.auth_url_params == {"access_type": "offline", "prompt": "consent"}
    assert oauth2.variables[0].name == "username"
    assert config.redirect_uri == "https://flux-web.example.com/oauth2/callback"
    assert config.spec.user_actions.access == "Impersonated"
    settings = AuthSettings.from_config(config)
    assert (settings.mode, settings.session_ttl, settings.user_cache_size) == (
        "oidc",
        86400,
        200,
    )


def test_defaults_are_the_flux_operators() -> None:
    config = parse_web_config(
        {
            "apiVersion": "web.fluxcd.controlplane.io/v1",
            "kind": "Config",
            "spec": {
                "baseURL": "https://ui.example.com/weir/",
                "authentication": {
                    "type": "OAuth2",
                    "oauth2": {"clientID": "c", "clientSecret": "s", "issuerURL": "https://i"},
                },
            },
        }
    )
    assert config.oauth2 is not None
    assert config.oauth2.scopes == DEFAULT_SCOPES
    assert config.oauth2.impersonation.username == DEFAULT_USERNAME_EXPR
    assert config.oauth2.impersonation.groups == DEFAULT_GROUPS_EXPR
    assert config.authentication is not None
    assert config.authentication.session_seconds == 7 * 86400
    assert config.redirect_uri == "https://ui.example.com/weir/oauth2/callback"


def test_anonymous_and_no_authentication() -> None:
    anonymous = parse_web_config(
        {
            "apiVersion": "web.fluxcd.controlplane.io/v1",
            "kind": "Config",
            "spec": {
                "authentication": {
                    "type": "Anonymous",
                    "anonymous": {"username": "flux-viewer", "groups": ["flux-readonly"]},
                }
            },
        }
    )
    assert AuthSettings.from_config(anonymous).mode == "anonymous"
    bare = parse_web_config({"apiVersion": "web.fluxcd.controlplane.io/v1", "kind": "Config"})
    assert AuthSettings.from_config(bare).mode == "none"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"authentication": {"type": "OAuth2"}}, "needs the oauth2 section"),
        ({"authentication": {"type": "Anonymous"}}, "needs the anonymous section"),
        ({"authentication": {"type": "Anonymous", "anonymous": {}}}, "username, groups"),
        (
            {
                "authentication": {
                    "type": "OAuth2",
                    "oauth2": {"clientID": "c", "clientSecret": "s", "issuerURL": "https://i"},
                }
            },
            "baseURL is required",
        ),
        ({"authentication": {"type": "Anonymous", "anonymus": {}}}, "anonymus"),
        ({"authentication": {"type": "Basic"}}, "authentication.type"),
        (
            {
                "authentication": {
                    "type": "Anonymous",
                    "sessionDuration": "a week",
                    "anonymous": {"username": "u"},
                }
            },
            "invalid duration",
        ),
        ({"userActions": {"access": "Everything"}}, "userActions.access"),
    ],
)
def test_mistakes_are_named(spec: dict[str, object], message: str) -> None:
    doc = {"apiVersion": "web.fluxcd.controlplane.io/v1", "kind": "Config", "spec": spec}
    with pytest.raises(ConfigError, match=message):
        parse_web_config(doc)


def test_files_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(FULL)
    assert load_web_config(path).oauth2 is not None
    with pytest.raises(ConfigError, match="cannot read"):
        load_web_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    with pytest.raises(ConfigError, match=r"apiVersion"):
        load_web_config(tmp_path / "bad.yaml")
    with pytest.raises(UsageError, match="exclude each other"):
        AuthSettings.from_flags(None, "X-User", str(path))
    assert AuthSettings.from_flags(None, None, str(path)).mode == "oidc"
