"""CEL claim mapping of the web config: variables in order, validations with their messages,
the Flux Operator's defaults, cel-go's string extensions, and refusals that say why."""

from __future__ import annotations

from typing import Any

import pytest

from weir.auth.claims import ClaimsError, ClaimsMapper
from weir.auth.oidc import identity_of
from weir.auth.webconfig import OAuth2
from weir.errors import ConfigError


def mapper(**fields: Any) -> ClaimsMapper:
    return ClaimsMapper.compile(
        OAuth2.model_validate(
            {"clientID": "c", "clientSecret": "s", "issuerURL": "https://i", **fields}
        )
    )


CLAIMS = {
    "sub": "42",
    "email": "ada@example.com",
    "email_verified": True,
    "name": "Ada",
    "groups": ["dept:platform", "dept:data", "ethereum"],
}


def test_defaults_use_email_and_groups() -> None:
    mapped = mapper().map(CLAIMS)
    assert mapped.username == "ada@example.com"
    assert mapped.groups == ("dept:platform", "dept:data", "ethereum")
    assert mapped.profile_name == "Ada"
    bare = mapper().map({"sub": "7", "groups": ["ops"]})
    assert (bare.username, bare.groups, bare.profile_name) == ("", ("ops",), "")
    assert identity_of(bare, {"sub": "7"}).user == "oidc:7", "groups need a user to impersonate"


def test_variables_validations_and_string_extensions() -> None:
    m = mapper(
        variables=[
            {"name": "email", "expression": "claims.email"},
            {"name": "domain", "expression": "variables.email.split('@')[1]"},
            {
                "name": "departments",
                "expression": "claims.groups.filter(g, g.startsWith('dept:'))"
                ".map(g, g.substring(5))",
            },
        ],
        validations=[
            {"expression": "variables.domain in ['example.com']", "message": "domain not allowed"},
            {"expression": "claims.email_verified == true", "message": "verify your email"},
        ],
        profile={"name": "has(claims.name) ? claims.name : variables.email"},
        impersonation={"username": "variables.email", "groups": "variables.departments"},
    )
    mapped = m.map(CLAIMS)
    assert mapped.username == "ada@example.com"
    assert mapped.groups == ("platform", "data")
    with pytest.raises(ClaimsError, match="domain not allowed"):
        m.map({**CLAIMS, "email": "eve@evil.example"})
    with pytest.raises(ClaimsError, match="verify your email"):
        m.map({**CLAIMS, "email_verified": False})


def test_refusals_say_why() -> None:
    with pytest.raises(ClaimsError, match="neither a username nor groups"):
        mapper().map({"sub": "1"})
    with pytest.raises(ClaimsError, match="not a list of strings"):
        mapper(impersonation={"groups": "claims.email"}).map(CLAIMS)
    with pytest.raises(ClaimsError, match="cannot evaluate variable 'x'"):
        mapper(variables=[{"name": "x", "expression": "claims.missing.field"}]).map(CLAIMS)
    with pytest.raises(ConfigError, match=r"validations\[0\].*not valid CEL"):
        mapper(validations=[{"expression": "claims.(", "message": "m"}])
