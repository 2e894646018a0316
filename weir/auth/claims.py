"""From an ID token's claims to a Kubernetes identity, with the CEL expressions of the web config
(``spec.authentication.oauth2``): ``variables`` (evaluated in order, each seeing the ones before
it as ``variables.<name>``), ``validations`` (each must give ``true``, else its message is the
refusal), ``profile.name`` (the name the UI shows) and ``impersonation`` (``username``: a string,
``groups``: a list of strings; at least one must be non-empty).

Expressions see ``claims`` (the token's claims) and ``variables``, with CEL's standard library
and cel-go's string, list, math, sets and encoder extensions (``split``, ``substring``,
``lowerAscii``, ``join``, ...), as the Flux Operator's UI has them. They are compiled when the
configuration is loaded, so a typo is an error at start-up, not at the first sign-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel
from cel import stdlib

from weir.auth.webconfig import OAuth2
from weir.errors import ConfigError, WeirError


class ClaimsError(WeirError):
    """The token's claims do not give an identity weir accepts (the message says why)."""


@dataclass(frozen=True)
class Mapped:
    """What the claims gave: who to impersonate and what to show."""

    username: str
    groups: tuple[str, ...]
    profile_name: str


def _compile(expression: str, what: str) -> cel.Program:
    try:
        return cel.compile(expression)
    except (ValueError, RuntimeError) as e:
        raise ConfigError(f"web config: {what} {expression!r} is not valid CEL: {e}") from e


@dataclass(frozen=True)
class ClaimsMapper:
    """The compiled expressions of one ``oauth2`` section."""

    variables: tuple[tuple[str, cel.Program], ...]
    validations: tuple[tuple[cel.Program, str], ...]
    profile: cel.Program
    username: cel.Program
    groups: cel.Program

    @classmethod
    def compile(cls, oauth2: OAuth2) -> ClaimsMapper:
        """Compile every expression; :class:`ConfigError` names the one that does not parse."""
        return cls(
            variables=tuple(
                (v.name, _compile(v.expression, f"variables[{v.name}]")) for v in oauth2.variables
            ),
            validations=tuple(
                (_compile(v.expression, f"validations[{i}]"), v.message)
                for i, v in enumerate(oauth2.validations)
            ),
            profile=_compile(oauth2.profile.name, "profile.name"),
            username=_compile(oauth2.impersonation.username, "impersonation.username"),
            groups=_compile(oauth2.impersonation.groups, "impersonation.groups"),
        )

    def map(self, claims: Mapping[str, Any]) -> Mapped:
        """The identity of ``claims``; :class:`ClaimsError` when a validation fails, an
        expression cannot be evaluated, or nobody is left to impersonate."""
        values: dict[str, Any] = {}
        for name, program in self.variables:
            values[name] = _run(program, claims, values, f"variable {name!r}")
        for program, message in self.validations:
            if _run(program, claims, values, "a validation") is not True:
                raise ClaimsError(message)
        username = _run(self.username, claims, values, "impersonation.username")
        groups = _run(self.groups, claims, values, "impersonation.groups")
        profile = _run(self.profile, claims, values, "profile.name")
        if not isinstance(username, str):
            raise ClaimsError(f"impersonation.username gave {username!r}, not a string")
        if not isinstance(groups, list | tuple) or not all(isinstance(g, str) for g in groups):
            raise ClaimsError(f"impersonation.groups gave {groups!r}, not a list of strings")
        found = tuple(dict.fromkeys(g for g in groups if g))
        if not username and not found:
            raise ClaimsError(
                "the ID token gives neither a username nor groups to impersonate: check "
                "impersonation.username/groups in the web config and the scopes requested"
            )
        return Mapped(username, found, profile if isinstance(profile, str) else str(profile))


def _run(program: cel.Program, claims: Mapping[str, Any], values: dict[str, Any], what: str) -> Any:
    ctx = cel.Context()
    stdlib.add_stdlib_to_context(ctx)
    ctx.add_variable("claims", dict(claims))
    ctx.add_variable("variables", dict(values))
    try:
        return program.execute(ctx)
    except Exception as e:  # CEL reports missing fields and type errors as plain exceptions
        raise ClaimsError(f"cannot evaluate {what} on the ID token's claims: {e}") from e
