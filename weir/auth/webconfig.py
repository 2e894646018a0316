"""The Flux Operator's web UI configuration file, ``web.fluxcd.controlplane.io/v1`` ``Config``
(``--web-config``), so that a configuration written for the Flux Operator's UI works for weir's.

::

    apiVersion: web.fluxcd.controlplane.io/v1
    kind: Config
    spec:
      baseURL: https://weir.example.com        # required with OAuth2 (the redirect URI's base)
      insecure: false                          # true: cookies without the Secure flag (plain http)
      authentication:
        type: OAuth2                           # Anonymous | OAuth2
        sessionDuration: 168h                  # default one week
        userCacheSize: 100                     # users whose clients and access are kept
        anonymous: {username: viewer, groups: [flux-viewers]}
        oauth2:
          provider: OIDC
          clientID: weir
          clientSecret: ...
          issuerURL: https://dex.example.com
          scopes: [openid, offline_access, profile, email, groups]   # the default
          authURLParams: {prompt: consent}
          autoLogin: false
          variables:   [{name: domain, expression: "claims.email.split('@')[1]"}]
          validations: [{expression: "variables.domain == 'example.com'", message: "..."}]
          profile:       {name: "claims.name"}
          impersonation: {username: "claims.email", groups: "claims.groups"}
      userActions:
        audit: ["*"]                           # accepted; weir records every action anyway
        access: Impersonated                   # Impersonated | FineGrained
      search: {cached: false}                  # accepted; weir always serves from its caches
      metrics: {disabled: false}               # accepted; not used by weir

Fields this module does not know are refused (a typo must not silently turn a setting off).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from weir.errors import ConfigError
from weir.runtime.durations import parse_duration

API_VERSION = "web.fluxcd.controlplane.io/v1"
DEFAULT_SCOPES = ("openid", "offline_access", "profile", "email", "groups")
DEFAULT_SESSION_DURATION = "168h"
DEFAULT_USER_CACHE_SIZE = 100
DEFAULT_USERNAME_EXPR = "has(claims.email) ? claims.email : ''"
DEFAULT_GROUPS_EXPR = "has(claims.groups) ? claims.groups : []"
DEFAULT_PROFILE_EXPR = "has(claims.name) ? claims.name : (has(claims.email) ? claims.email : '')"
ACTION_VERBS = ("reconcile", "suspend", "resume", "download", "restart", "delete")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Variable(_Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    expression: str


class Validation(_Model):
    expression: str
    message: str = "the ID token's claims did not pass a validation"


class Profile(_Model):
    name: str = DEFAULT_PROFILE_EXPR


class Impersonation(_Model):
    username: str = DEFAULT_USERNAME_EXPR
    groups: str = DEFAULT_GROUPS_EXPR


class OAuth2(_Model):
    provider: Literal["OIDC"] = "OIDC"
    client_id: str = Field(alias="clientID", min_length=1)
    client_secret: str = Field(alias="clientSecret", min_length=1)
    issuer_url: str = Field(alias="issuerURL", min_length=1)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    auth_url_params: dict[str, str] = Field(default_factory=dict, alias="authURLParams")
    auto_login: bool = Field(default=False, alias="autoLogin")
    variables: tuple[Variable, ...] = ()
    validations: tuple[Validation, ...] = ()
    profile: Profile = Field(default_factory=Profile)
    impersonation: Impersonation = Field(default_factory=Impersonation)

    @field_validator("scopes")
    @classmethod
    def _openid(cls, scopes: tuple[str, ...]) -> tuple[str, ...]:
        # An ID token is only issued for the openid scope: add it when a custom list forgets it.
        return scopes if "openid" in scopes else ("openid", *scopes)

    @field_validator("issuer_url")
    @classmethod
    def _issuer(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"issuerURL {url!r} is not an http(s) URL")
        return url


class Anonymous(_Model):
    username: str = ""
    groups: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _someone(self) -> Anonymous:
        if not self.username and not self.groups:
            raise ValueError("anonymous needs a username, groups, or both")
        return self


class Authentication(_Model):
    type: Literal["Anonymous", "OAuth2"]
    session_duration: str = Field(default=DEFAULT_SESSION_DURATION, alias="sessionDuration")
    user_cache_size: int = Field(default=DEFAULT_USER_CACHE_SIZE, alias="userCacheSize", ge=1)
    anonymous: Anonymous | None = None
    oauth2: OAuth2 | None = None

    @field_validator("session_duration")
    @classmethod
    def _duration(cls, text: str) -> str:
        if parse_duration(text) <= 0:
            raise ValueError("sessionDuration must be positive")
        return text

    @model_validator(mode="after")
    def _matching_section(self) -> Authentication:
        if self.type == "Anonymous" and self.anonymous is None:
            raise ValueError("type Anonymous needs the anonymous section (username, groups)")
        if self.type == "OAuth2" and self.oauth2 is None:
            raise ValueError("type OAuth2 needs the oauth2 section (clientID, issuerURL, ...)")
        return self

    @property
    def session_seconds(self) -> float:
        return parse_duration(self.session_duration)


class UserActions(_Model):
    audit: tuple[str, ...] = ()
    access: Literal["Impersonated", "FineGrained"] = "Impersonated"


class Search(_Model):
    cached: bool = False


class Metrics(_Model):
    disabled: bool = False
    scrape_interval: str | None = Field(default=None, alias="scrapeInterval")


class ConfigSpec(_Model):
    base_url: str | None = Field(default=None, alias="baseURL")
    insecure: bool = False
    authentication: Authentication | None = None
    user_actions: UserActions = Field(default_factory=UserActions, alias="userActions")
    search: Search = Field(default_factory=Search)
    metrics: Metrics = Field(default_factory=Metrics)

    @model_validator(mode="after")
    def _base_url_for_oauth2(self) -> ConfigSpec:
        auth = self.authentication
        if auth is not None and auth.type == "OAuth2":
            if not self.base_url:
                raise ValueError(
                    "baseURL is required with OAuth2: it is where the identity provider sends "
                    "users back (<baseURL>/oauth2/callback)"
                )
            if urlsplit(self.base_url).scheme not in ("http", "https"):
                raise ValueError(f"baseURL {self.base_url!r} is not an http(s) URL")
        return self


class WebConfig(_Model):
    """The whole file (see the module docstring)."""

    api_version: Literal["web.fluxcd.controlplane.io/v1"] = Field(alias="apiVersion")
    kind: Literal["Config"]
    spec: ConfigSpec = Field(default_factory=ConfigSpec)

    @property
    def authentication(self) -> Authentication | None:
        return self.spec.authentication

    @property
    def oauth2(self) -> OAuth2 | None:
        auth = self.spec.authentication
        return auth.oauth2 if auth is not None and auth.type == "OAuth2" else None

    @property
    def redirect_uri(self) -> str:
        """``<baseURL>/oauth2/callback`` (what to register at the identity provider)."""
        return f"{(self.spec.base_url or '').rstrip('/')}/oauth2/callback"


def _explain(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top)"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def parse_web_config(doc: Any, where: str = "the web config") -> WebConfig:
    """Validate a decoded document; :class:`ConfigError` says what is wrong and where."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{where} must be a YAML map with apiVersion {API_VERSION}, kind Config")
    try:
        return WebConfig.model_validate(doc)
    except ValidationError as e:
        raise ConfigError(f"{where} is not a valid {API_VERSION} Config: {_explain(e)}") from e
    except ConfigError as e:  # a duration that does not parse
        raise ConfigError(f"{where}: {e}") from e


def load_web_config(path: str | Path) -> WebConfig:
    """Read ``--web-config`` (the Flux Operator's ``config.yaml``)."""
    where = str(path)
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"cannot read the web config {where}: {e.strerror}") from e
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"the web config {where} is not valid YAML: {e}") from e
    return parse_web_config(doc, f"the web config {where}")
