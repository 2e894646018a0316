"""OpenID Connect sign-in (the ``OAuth2`` authentication of the web config), with authlib.

The flow (authorization code with PKCE, RFC 7636, and OIDC Core's ``state`` and ``nonce``):

1. ``GET <base>/oauth2/authorize``: :meth:`OIDCSignIn.start` makes a random ``state``,
   ``nonce`` and PKCE verifier, seals them with the page to return to into a short-lived flow
   cookie (10 minutes, ``SameSite=Lax`` so that it comes back with the identity provider's
   redirect), and sends the browser to the provider's authorization endpoint.
2. ``GET <base>/oauth2/callback?code&state``: :meth:`OIDCSignIn.finish` checks ``state``
   against the flow cookie, exchanges the code with the verifier, verifies the ID token
   (signature with the provider's JWKS, ``iss``, ``aud`` = the client ID, ``azp``, expiry,
   ``nonce``, ``at_hash``), maps its claims to a Kubernetes identity with the config's CEL
   expressions (:mod:`weir.auth.claims`) and seals the session into cookies
   (:mod:`weir.auth.sealed`): user, groups, display name, when the session started, when the
   ID token expires, and the refresh token.
3. Every request: :meth:`OIDCSignIn.identify` opens the session. When the ID token has
   expired it is **refreshed** with the refresh token (groups may change: the claims are mapped
   again) and new cookies go out with the response; without a refresh token, or when the
   provider refuses it, the session ends. It ends anyway after ``sessionDuration``.
4. Sign-out clears the cookies and, when the provider has an ``end_session_endpoint``, returns
   its URL (RP-initiated logout) for the browser to visit.

Bearer tokens (the MCP server, scripts): :meth:`OIDCProvider.verify_bearer` accepts an ID token
of the same issuer whose ``aud`` contains one of the given audiences, and maps its claims the
same way.

The session key is derived from the client secret, so every replica opens every session and a
restart signs nobody out; changing the secret signs everyone out.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken, IDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from weir.auth.claims import ClaimsError, ClaimsMapper, Mapped
from weir.auth.sealed import Sealer, SetCookie, clear_cookies, derive_key
from weir.auth.users import Identity
from weir.auth.webconfig import OAuth2, WebConfig
from weir.errors import ConfigError, WeirError
from weir.log import kv

log = logging.getLogger("weir.auth")

SESSION_COOKIE = "weir_oidc"
FLOW_COOKIE = "weir_oidc_flow"
FLOW_TTL = 600.0
LEEWAY = 60
"""Seconds of clock skew tolerated on ``exp``/``iat``/``nbf``; an ID token is also refreshed
this long before it expires."""
METADATA_TTL = 3600.0
HTTP_TIMEOUT = 10.0


class SignInError(WeirError):
    """Sign-in failed; the message is safe to show to the user."""


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class OIDCProvider:
    """The identity provider of one ``oauth2`` section: discovery, token endpoint, JWKS and
    ID token verification."""

    oauth2: OAuth2
    redirect_uri: str
    insecure: bool = False
    _metadata: dict[str, Any] | None = field(default=None, init=False)
    _metadata_at: float = field(default=0.0, init=False)
    _jwks: dict[str, Any] | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def __post_init__(self) -> None:
        issuer = self.oauth2.issuer_url
        if urlsplit(issuer).scheme != "https" and not (self.insecure or _is_loopback(issuer)):
            raise ConfigError(
                f"web config: issuerURL {issuer!r} is not https: tokens would travel in the "
                "clear; use https (or set insecure: true for a test set-up)"
            )

    @property
    def issuer(self) -> str:
        return self.oauth2.issuer_url

    @property
    def client_id(self) -> str:
        return self.oauth2.client_id

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour)."""
        if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL:
            return self._metadata
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at >= METADATA_TTL:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                doc = await self._get_json(url, "the discovery document")
                if str(doc.get("issuer", "")).rstrip("/") != self.issuer.rstrip("/"):
                    raise SignInError(
                        f"the identity provider at {url} says its issuer is "
                        f"{doc.get('issuer')!r}, not {self.issuer!r}: fix issuerURL"
                    )
                missing = [
                    k
                    for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                    if k not in doc
                ]
                if missing:
                    raise SignInError(f"the discovery document at {url} lacks {', '.join(missing)}")
                self._metadata, self._metadata_at = doc, time.monotonic()
        assert self._metadata is not None
        return self._metadata

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                response = await http.get(url)
            response.raise_for_status()
            doc = response.json()
        except (httpx.HTTPError, ValueError) as e:
            raise SignInError(f"cannot read {what} of the identity provider ({url}): {e}") from e
        if not isinstance(doc, dict):
            raise SignInError(f"{what} at {url} is not a JSON object")
        return doc

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            meta = await self.metadata()
            self._jwks = await self._get_json(str(meta["jwks_uri"]), "the signing keys (JWKS)")
        return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]

    def _client(self, **extra: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.oauth2.client_id,
            client_secret=self.oauth2.client_secret,
            scope=" ".join(self.oauth2.scopes),
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
            **extra,
        )

    async def authorization_url(self, state: str, nonce: str, verifier: str) -> str:
        meta = await self.metadata()
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
                **self.oauth2.auth_url_params,
            )
        return str(url)

    async def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        """Tokens for an authorization code (``id_token``, ``access_token``, maybe
        ``refresh_token``)."""
        meta = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    meta["token_endpoint"], code=code, code_verifier=verifier
                )
        except Exception as e:  # authlib raises OAuthError, httpx errors, ValueError
            raise SignInError(f"the identity provider refused the authorization code: {e}") from e
        return dict(token)

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        meta = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.refresh_token(
                    meta["token_endpoint"], refresh_token=refresh_token
                )
        except Exception as e:
            raise SignInError(f"the identity provider refused the refresh token: {e}") from e
        return dict(token)

    async def verify_id_token(
        self,
        id_token: str,
        *,
        audiences: tuple[str, ...] | None = None,
        nonce: str | None = None,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        """The claims of a valid ID token of this issuer (see the module docstring);
        :class:`SignInError` otherwise. ``audiences`` default to the client ID."""
        meta = await self.metadata()
        algorithms = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        registry = JWSRegistry(algorithms=[a for a in algorithms if a != "none"])
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys: read them again
                token = jwt.decode(id_token, await self._key_set(refresh=True), registry=registry)
            wanted = list(audiences or (self.client_id,))
            options = {
                "iss": {"essential": True, "values": [self.issuer, self.issuer.rstrip("/")]},
                "aud": {"essential": True, "values": wanted},
            }
            params: dict[str, Any] = {"nonce": nonce, "access_token": access_token}
            if audiences is None:
                params["client_id"] = self.client_id
            claims_cls = CodeIDToken if access_token else IDToken
            claims = claims_cls(token.claims, token.header, options, params)
            claims.validate(now=int(time.time()), leeway=LEEWAY)
        except (JoseError, ValueError) as e:
            raise SignInError(f"the ID token is not valid: {e}") from e
        return dict(token.claims)

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """The provider's RP-initiated logout URL, when it has one."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except SignInError:
            return None
        if not endpoint:
            return None
        query = httpx.QueryParams(
            client_id=self.client_id, post_logout_redirect_uri=post_logout_redirect_uri
        )
        return f"{endpoint}{'&' if '?' in str(endpoint) else '?'}{query}"


@dataclass(frozen=True)
class Session:
    """A signed-in browser, as sealed in its cookies."""

    identity: Identity
    profile_name: str
    subject: str
    started: float
    id_expires: float
    refresh_token: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "u": self.identity.user,
            "g": list(self.identity.groups),
            "n": self.profile_name,
            "sub": self.subject,
            "st": self.started,
            "te": self.id_expires,
            "rt": self.refresh_token,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Session | None:
        try:
            return cls(
                identity=Identity(str(data["u"]), tuple(str(g) for g in data.get("g") or ())),
                profile_name=str(data.get("n") or ""),
                subject=str(data.get("sub") or ""),
                started=float(data["st"]),
                id_expires=float(data["te"]),
                refresh_token=data.get("rt") or None,
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Resolved:
    """What a request's cookies say: the session (None: signed out) and the cookies to send
    back (a refreshed session, or deletions)."""

    session: Session | None
    cookies: tuple[SetCookie, ...] = ()


def identity_of(mapped: Mapped, claims: dict[str, Any]) -> Identity:
    """The identity to impersonate. Kubernetes impersonates groups only together with a user,
    so a mapping that gives groups alone impersonates the token's subject (``sub``)."""
    user = mapped.username or f"oidc:{claims.get('sub', '')}"
    return Identity(user, mapped.groups)


class OIDCSignIn:
    """The browser side of OIDC sign-in for one web config (see the module docstring)."""

    def __init__(self, config: WebConfig) -> None:
        oauth2 = config.oauth2
        auth = config.authentication
        if oauth2 is None or auth is None:
            raise ConfigError("web config: OIDC sign-in needs authentication.type OAuth2")
        self.config = config
        self.provider = OIDCProvider(oauth2, config.redirect_uri, config.spec.insecure)
        self.mapper = ClaimsMapper.compile(oauth2)
        self.session_ttl = auth.session_seconds
        self.sealer = Sealer(derive_key(oauth2.client_secret, "web-session"))
        self._refreshing: dict[str, asyncio.Future[Session | None]] = {}

    @property
    def auto_login(self) -> bool:
        return self.config.oauth2 is not None and self.config.oauth2.auto_login

    # ------------------------------------------------------------------------ the flow
    async def start(self, return_to: str) -> tuple[str, SetCookie]:
        """The authorization URL to send the browser to, and the flow cookie to set."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        url = await self.provider.authorization_url(state, nonce, verifier)
        flow = {"state": state, "nonce": nonce, "verifier": verifier, "to": return_to}
        value = self.sealer.seal(FLOW_COOKIE, flow, FLOW_TTL)
        return url, SetCookie(FLOW_COOKIE, value, int(FLOW_TTL))

    async def finish(
        self, code: str, state: str, cookies: dict[str, str]
    ) -> tuple[Session, str, list[SetCookie]]:
        """Complete the callback: (session, page to return to, cookies to set)."""
        flow = self.sealer.open(FLOW_COOKIE, cookies.get(FLOW_COOKIE, ""))
        if flow is None:
            raise SignInError(
                "the sign-in expired or was started in another browser: sign in again"
            )
        if not state or not secrets.compare_digest(str(flow.get("state")), state):
            raise SignInError("the sign-in's state does not match: sign in again")
        tokens = await self.provider.exchange(code, str(flow["verifier"]))
        session = await self._session(tokens, nonce=str(flow["nonce"]), started=time.time())
        out = self.session_cookies(session, cookies)
        out.append(SetCookie(FLOW_COOKIE, None))
        return session, _safe_path(str(flow.get("to") or "")), out

    async def _session(
        self,
        tokens: dict[str, Any],
        *,
        nonce: str | None,
        started: float,
        previous: Session | None = None,
    ) -> Session:
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInError("the identity provider sent no ID token: request the openid scope")
        claims = await self.provider.verify_id_token(
            id_token, nonce=nonce, access_token=tokens.get("access_token")
        )
        if previous is not None and claims.get("sub") != previous.subject:
            raise SignInError("the refreshed ID token names another user")
        try:
            mapped = self.mapper.map(claims)
        except ClaimsError as e:
            raise SignInError(str(e)) from e
        refresh = tokens.get("refresh_token") or (previous.refresh_token if previous else None)
        return Session(
            identity=identity_of(mapped, claims),
            profile_name=mapped.profile_name or mapped.username,
            subject=str(claims.get("sub", "")),
            started=started,
            id_expires=float(claims.get("exp", 0)),
            refresh_token=refresh if isinstance(refresh, str) else None,
        )

    def session_cookies(self, session: Session, present: dict[str, str]) -> list[SetCookie]:
        ttl = max(1.0, session.started + self.session_ttl - time.time())
        return self.sealer.to_cookies(SESSION_COOKIE, session.to_payload(), ttl, present)

    # ------------------------------------------------------------------------ each request
    async def identify(self, cookies: dict[str, str]) -> Resolved:
        """The session of a request, refreshed when its ID token has expired."""
        data = self.sealer.from_cookies(SESSION_COOKIE, cookies)
        if data is None:
            stale = bool(cookies.get(SESSION_COOKIE))
            return Resolved(None, tuple(clear_cookies(SESSION_COOKIE, cookies)) if stale else ())
        session = Session.from_payload(data)
        if session is None:
            return Resolved(None, tuple(clear_cookies(SESSION_COOKIE, cookies)))
        if session.id_expires - LEEWAY > time.time():
            return Resolved(session)
        refreshed = await self.refresh(session)
        if refreshed is None:
            return Resolved(None, tuple(clear_cookies(SESSION_COOKIE, cookies)))
        return Resolved(refreshed, tuple(self.session_cookies(refreshed, cookies)))

    async def refresh(self, session: Session) -> Session | None:
        """``session`` with fresh tokens (None: it cannot be refreshed, the user signs in
        again). Concurrent requests of one browser share one refresh."""
        token = session.refresh_token
        if not token:
            return None
        pending = self._refreshing.get(token)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Session | None] = asyncio.get_running_loop().create_future()
        self._refreshing[token] = future
        fresh: Session | None = None
        try:
            tokens = await self.provider.refresh(token)
            fresh = await self._session(
                tokens, nonce=None, started=session.started, previous=session
            )
        except SignInError as e:
            log.info("oidc session not refreshed: %s", e, extra=kv(user=session.identity.user))
        finally:
            self._refreshing.pop(token, None)
            if not future.done():
                future.set_result(fresh)
        return fresh

    def sign_out(self, cookies: dict[str, str]) -> list[SetCookie]:
        return clear_cookies(SESSION_COOKIE, cookies)


def _safe_path(path: str) -> str:
    """Only a local path (``/x``, never ``//host`` or a URL) is a place to return to."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return ""
    return path


@dataclass(frozen=True)
class BearerCaller:
    """Who a verified bearer token names."""

    identity: Identity
    profile_name: str
    subject: str
    expires: float
    audiences: tuple[str, ...]


class BearerVerifier:
    """Accepts ID tokens of the provider as bearer tokens (``Authorization: Bearer <jwt>``):
    signature, issuer, expiry and an ``aud`` among ``audiences``; the claims are mapped with
    the config's expressions. Verified tokens are remembered until they expire (at most
    ``capacity``), so a client sending the same token with every request costs one
    verification."""

    def __init__(
        self,
        provider: OIDCProvider,
        mapper: ClaimsMapper,
        audiences: tuple[str, ...],
        capacity: int = 1024,
    ) -> None:
        if not audiences:
            raise ConfigError("bearer tokens need at least one audience to check")
        self.provider = provider
        self.mapper = mapper
        self.audiences = audiences
        self.capacity = capacity
        self._seen: dict[str, BearerCaller] = {}

    @classmethod
    def from_config(cls, config: WebConfig, audiences: tuple[str, ...] = ()) -> BearerVerifier:
        oauth2 = config.oauth2
        if oauth2 is None:
            raise ConfigError(
                "bearer tokens need a web config with authentication.type OAuth2 (the issuer "
                "and the claims mapping)"
            )
        provider = OIDCProvider(oauth2, config.redirect_uri, config.spec.insecure)
        return cls(provider, ClaimsMapper.compile(oauth2), audiences or (oauth2.client_id,))

    async def verify(self, token: str) -> BearerCaller:
        """The caller of ``token``; :class:`SignInError` says why it is refused."""
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.time()
        hit = self._seen.get(key)
        if hit is not None and hit.expires > now:
            return hit
        claims = await self.provider.verify_id_token(token, audiences=self.audiences)
        try:
            mapped = self.mapper.map(claims)
        except ClaimsError as e:
            raise SignInError(str(e)) from e
        aud = claims.get("aud")
        caller = BearerCaller(
            identity=identity_of(mapped, claims),
            profile_name=mapped.profile_name,
            subject=str(claims.get("sub", "")),
            expires=float(claims.get("exp", 0)),
            audiences=tuple(aud) if isinstance(aud, list) else (str(aud),),
        )
        if len(self._seen) >= self.capacity:
            self._seen = {k: v for k, v in self._seen.items() if v.expires > now}
            while len(self._seen) >= self.capacity:
                self._seen.pop(next(iter(self._seen)))
        self._seen[key] = caller
        return caller
