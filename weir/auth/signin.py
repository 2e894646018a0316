"""Who sends a request, whatever the sign-in mode (:class:`~weir.auth.users.AuthSettings`):

- ``none``: nobody (reads, and loopback-only actions, as weir itself);
- ``token``: a users file's bearer token or session cookie: the listed user and groups;
- ``proxy``: an authenticating proxy's headers: their user and groups;
- ``anonymous``: web config ``Anonymous``: the configured username and groups, for everyone;
- ``oidc``: web config ``OAuth2``: session cookies, or an ID token as bearer: the claims,
  mapped by CEL.

:meth:`SignIn.resolve` answers with a :class:`Caller` (None: not signed in) and the cookies
to send back (a refreshed OIDC session, or the deletion of a stale one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from weir.auth.oidc import BearerVerifier, OIDCSignIn, SignInError
from weir.auth.sealed import SetCookie
from weir.auth.users import Authenticator, AuthSettings, Identity


@dataclass(frozen=True)
class Caller:
    """A signed-in user: the identity the cluster sees (impersonated) and what the UI shows."""

    identity: Identity
    provider: str
    """The sign-in mode that named them (``token``, ``proxy``, ``anonymous``, ``oidc``)."""
    profile_name: str = ""
    session_start: float | None = None


@dataclass(frozen=True)
class Resolution:
    caller: Caller | None
    cookies: tuple[SetCookie, ...] = ()


class SignIn:
    """Resolves the caller of each request (see the module docstring)."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.tokens = Authenticator(settings)
        self.oidc: OIDCSignIn | None = None
        self.bearer: BearerVerifier | None = None
        if settings.mode == "oidc":
            assert settings.config is not None
            self.oidc = OIDCSignIn(settings.config)
            self.bearer = BearerVerifier(
                self.oidc.provider, self.oidc.mapper, (self.oidc.provider.client_id,)
            )

    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def enabled(self) -> bool:
        return self.settings.mode != "none"

    def anonymous_identity(self) -> Identity | None:
        config = self.settings.config
        auth = config.authentication if config is not None else None
        if auth is None or auth.anonymous is None:
            return None
        return Identity(auth.anonymous.username or "system:anonymous", auth.anonymous.groups)

    async def resolve(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Resolution:
        mode = self.settings.mode
        if mode in ("token", "proxy"):
            identity = self.tokens.identify(headers, cookies)
            return Resolution(Caller(identity, mode) if identity else None)
        if mode == "anonymous":
            identity = self.anonymous_identity()
            return Resolution(Caller(identity, mode) if identity else None)
        if mode == "oidc":
            assert self.oidc is not None
            assert self.bearer is not None
            scheme, _, token = (headers.get("authorization") or "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                try:
                    found = await self.bearer.verify(token.strip())
                except SignInError:
                    return Resolution(None)
                return Resolution(Caller(found.identity, "oidc", found.profile_name))
            resolved = await self.oidc.identify(dict(cookies))
            session = resolved.session
            if session is None:
                return Resolution(None, resolved.cookies)
            caller = Caller(session.identity, "oidc", session.profile_name, session.started)
            return Resolution(caller, resolved.cookies)
        return Resolution(None)
