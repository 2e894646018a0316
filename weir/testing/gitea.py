"""A real forge for tests: Gitea on 127.0.0.1, with a typed client for what tests need.

Gitea gives tests real pull requests, branches, tags, labels, access tokens, push webhooks,
commit statuses and an OAuth2 / OpenID Connect provider. It is built from the Go module proxy by
``scripts/build-gitea.sh`` (``make tools``) into ``$WEIR_CACHE_DIR/gitea/<version>/`` with the
templates and locales it reads at run time (``share/``, its ``STATIC_ROOT_PATH``).

One server per test session (a start takes a few seconds: database migrations); tests make their
own users and repositories in it::

    with GiteaServer() as gitea:
        user = gitea.create_user()
        repo = gitea.client(user).create_repo("fleet")
        sha = repo.commit({"apps/app.yaml": "kind: ConfigMap\\n"})      # pushed over HTTP
        repo.commit({"apps/app.yaml": "x: 2\\n"}, branch="feature")
        pr = repo.open_pull_request("feature", labels=["preview"])
        repo.create_webhook(sink.url("/hook"))
        app = gitea.client(user).create_oauth2_application("weir", ["http://127.0.0.1:9/cb"])
        with gitea.sign_in(user) as session:                 # the HTML login form, cookies kept
            callback = gitea.authorize(session, gitea.authorize_url(app))  # consent granted

The web frontend bundle (JavaScript, CSS) is not part of the Go module, so pages render without
styles; the API, the OAuth2/OIDC endpoints and the plain HTML forms (login, consent) work.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from weir.devcluster.process import free_port
from weir.testing.gitea_api import (
    DEFAULT_BRANCH,
    CommitStatus,
    GiteaAPIError,
    GiteaClient,
    GiteaRepo,
    GiteaUser,
    OAuth2App,
    PullRequest,
)
from weir.testing.peers import PeerNotBuiltError, PeerProcess, PeerStartError, peer_binary, tail

if TYPE_CHECKING:
    from playwright.async_api import Page

__all__ = [
    "CommitStatus",
    "GiteaAPIError",
    "GiteaClient",
    "GiteaRepo",
    "GiteaServer",
    "GiteaUser",
    "OAuth2App",
    "PullRequest",
    "browser_sign_in",
    "gitea_binary",
    "html_forms",
    "pkce_pair",
]

ADMIN_USERNAME = "weir-admin"


def gitea_binary() -> Path:
    """The cached Gitea binary (``make tools`` builds it)."""
    return peer_binary("gitea", "GITEA_VERSION", "build-gitea.sh")


def gitea_static_root(binary: Path) -> Path:
    """``share/`` next to ``bin/``: templates, options (locales) and public files."""
    share = binary.parent.parent / "share"
    if not any((share / "options" / "locale").glob("locale_en-US.*")):
        raise PeerNotBuiltError(
            f"Gitea's templates and locales are missing from {share}: run `make tools` "
            "(scripts/build-gitea.sh copies them next to the binary)"
        )
    return share


# ----------------------------------------------------------------------------- HTML forms
class _Forms(HTMLParser):
    """The forms of an HTML page: action, method and the named inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get")})
            self.forms[-1]["fields"] = {}
            self.forms[-1]["buttons"] = []
        elif self.forms and tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def html_forms(page: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def _submit_login(session: httpx.Client, user: GiteaUser) -> None:
    """Fill in and post Gitea's login form; :class:`GiteaAPIError` when it is refused."""
    page = session.get("/user/login")
    page.raise_for_status()
    form = next((f for f in html_forms(page.text) if "user_name" in f["fields"]), None)
    if form is None:
        raise GiteaAPIError("GET", "/user/login", page.status_code, "no login form on the page")
    fields = {**form["fields"], "user_name": user.username, "password": user.password}
    action = form["action"] or "/user/login"
    response = session.post(action, data=fields)
    if response.status_code not in (302, 303):
        raise GiteaAPIError(
            "POST", action, response.status_code, f"login refused: {response.text[:300]}"
        )


async def browser_sign_in(page: Page, user: GiteaUser, *, consent: bool = True) -> None:
    """In a browser on Gitea's login page (where an OIDC client's redirect lands a signed-out
    user): fill in and submit the form, then, with ``consent``, authorize the application if
    Gitea asks. The page ends wherever Gitea redirects (the client's ``redirect_uri``)."""
    await page.fill("#user_name", user.username)
    await page.fill("#password", user.password)
    async with page.expect_navigation():
        await page.click("form.ui.form button.primary")
    if consent and await page.locator("#authorize-app").count():
        async with page.expect_navigation():
            await page.click("#authorize-app")


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``(code_verifier, code_challenge)`` pair for the S256 method."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


# --------------------------------------------------------------------------------- server
class GiteaServer:
    """A Gitea process on ``http://127.0.0.1:<port>`` with an admin account (context manager).

    ``api`` is a :class:`GiteaClient` for the admin; :meth:`create_user` and :meth:`client`
    give tests their own accounts.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="weir-gitea-")
        self.root = Path(root) if root else Path(self._tmp.name)  # type: ignore[union-attr]
        self.port = 0
        self.binary: Path | None = None
        self._process: PeerProcess | None = None
        self._admin: GiteaUser | None = None
        self._api: GiteaClient | None = None
        self._clients: list[GiteaClient] = []

    # ---------------------------------------------------------------------- addresses
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        """The OpenID Connect issuer (``iss``): Gitea's ROOT_URL without its trailing slash."""
        return self.base_url

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/.well-known/openid-configuration"

    @property
    def config_path(self) -> Path:
        return self.root / "custom" / "conf" / "app.ini"

    @property
    def log_path(self) -> Path:
        return self.root / "gitea.log"

    @property
    def admin(self) -> GiteaUser:
        if self._admin is None:
            raise RuntimeError("Gitea is not started")
        return self._admin

    @property
    def api(self) -> GiteaClient:
        """The admin's API client."""
        if self._api is None:
            raise RuntimeError("Gitea is not started")
        return self._api

    # ---------------------------------------------------------------------- lifecycle
    def _app_ini(self, static_root: Path) -> str:
        data = self.root / "data"
        root_line = "I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true\n" if os.geteuid() == 0 else ""
        return f"""\
APP_NAME = weir test forge
RUN_MODE = prod
RUN_USER = {getpass.getuser()}
WORK_PATH = {self.root}
{root_line}
[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = {self.port}
DOMAIN = 127.0.0.1
ROOT_URL = {self.base_url}/
LOCAL_ROOT_URL = {self.base_url}/
STATIC_ROOT_PATH = {static_root}
APP_DATA_PATH = {data}
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = {data}/gitea.db
SQLITE_JOURNAL_MODE = WAL

[repository]
ROOT = {self.root}/repositories
DEFAULT_BRANCH = {DEFAULT_BRANCH}

[security]
INSTALL_LOCK = true
SECRET_KEY = {secrets.token_hex(32)}
INTERNAL_TOKEN = {secrets.token_urlsafe(64)}
PASSWORD_COMPLEXITY = off
MIN_PASSWORD_LENGTH = 8

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false
ENABLE_NOTIFY_MAIL = false
DEFAULT_KEEP_EMAIL_PRIVATE = false

[oauth2]
ENABLED = true

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 10

[queue]
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[mailer]
ENABLED = false

[cron.update_checker]
ENABLED = false

[migrations]
ALLOW_LOCALNETWORKS = true

[log]
MODE = console
LEVEL = Warn
ROOT_PATH = {self.root}/log
"""

    def _cli(self, *args: str) -> str:
        assert self.binary is not None
        proc = subprocess.run(
            [str(self.binary), *args, "--config", str(self.config_path)],
            capture_output=True,
            text=True,
            env=self._env(),
            cwd=self.root,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise PeerStartError(
                f"gitea {args[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}"
                f"{proc.stdout[-1000:]}"
            )
        return proc.stdout

    def _env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.root / "home"),
            "USER": getpass.getuser(),
            "GITEA_WORK_DIR": str(self.root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "LC_ALL": "C",
        }

    def _create_admin(self) -> GiteaUser:
        """The admin account, with the CLI (before the server starts) and a token."""
        password = secrets.token_urlsafe(18)
        email = f"{ADMIN_USERNAME}@weir.invalid"
        out = self._cli(
            "admin",
            "user",
            "create",
            "--admin",
            "--username",
            ADMIN_USERNAME,
            "--password",
            password,
            "--email",
            email,
            "--must-change-password=false",
            "--access-token",
            "--access-token-name",
            "weir-admin",
            "--access-token-scopes",
            "all",
        )
        found = re.search(r"Access token was successfully created\.\.\. (\S+)", out)
        if found is None:
            raise PeerStartError(f"gitea admin user create printed no token: {out[-500:]}")
        return GiteaUser(ADMIN_USERNAME, password, email, found.group(1), 1)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/api/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 120.0) -> GiteaServer:
        if shutil.which("git") is None:
            raise PeerStartError("Gitea needs the git CLI on PATH: install git")
        self.binary = gitea_binary()
        static_root = gitea_static_root(self.binary)
        for sub in ("custom/conf", "data", "log", "home", "repositories"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config_path.write_text(self._app_ini(static_root))
        try:
            self._cli("migrate")
            self._admin = self._create_admin()
            self._process = PeerProcess(
                "gitea",
                [str(self.binary), "web", "--config", str(self.config_path)],
                self.log_path,
                env=self._env(),
                cwd=self.root,
            )
            self._process.start(self._ready, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        self._api = self.client(self._admin)
        return self

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._api = None
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> GiteaServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_tail(self, limit: int = 3000) -> str:
        """The end of Gitea's log, for failure messages."""
        return tail(self.log_path, limit)

    # ------------------------------------------------------------------------ users
    def create_user(self, username: str | None = None, *, admin: bool = False) -> GiteaUser:
        """A new account with a token (through the admin's API)."""
        return self.api.create_user(username, admin=admin)

    def client(self, user: GiteaUser) -> GiteaClient:
        """An API client acting as ``user`` (closed when the server stops)."""
        client = GiteaClient(self.base_url, user, self.root / "mirrors")
        self._clients.append(client)
        return client

    # ------------------------------------------------------------------ HTML sign-in
    @contextlib.contextmanager
    def sign_in(self, user: GiteaUser) -> Iterator[httpx.Client]:
        """A cookie session signed in through Gitea's HTML login form, as a person does
        (:class:`GiteaAPIError` when the form refuses the password); closed on exit."""
        with httpx.Client(base_url=self.base_url, timeout=30.0) as session:
            _submit_login(session, user)
            yield session

    def authorize(self, session: httpx.Client, authorize_url: str) -> str:
        """Follow an OAuth2 authorization request (``/login/oauth/authorize?...``) with a
        signed-in ``session``, granting consent when Gitea asks; returns the URL Gitea
        redirects to (the client's ``redirect_uri`` with ``code`` and ``state``, or ``error``).
        """
        response = session.get(authorize_url)
        if response.status_code == 200:
            grant = next(
                (f for f in html_forms(response.text) if f["action"].endswith("/oauth/grant")),
                None,
            )
            if grant is None:
                raise GiteaAPIError(
                    "GET", urlsplit(authorize_url).path, 200, f"no consent form: {response.text}"
                )
            response = session.post(
                urljoin(self.base_url, grant["action"]), data={**grant["fields"], "granted": "true"}
            )
        if response.status_code not in (302, 303):
            raise GiteaAPIError(
                "GET", urlsplit(authorize_url).path, response.status_code, response.text
            )
        return urljoin(self.base_url, response.headers["Location"])

    def authorize_url(
        self,
        app: OAuth2App,
        *,
        redirect_uri: str | None = None,
        scope: str = "openid profile email",
        state: str = "",
        nonce: str = "",
        code_challenge: str = "",
    ) -> str:
        """An authorization-code request URL for ``app`` (PKCE S256 when a challenge is
        given)."""
        params = {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri or app.redirect_uris[0],
            "response_type": "code",
            "scope": scope,
            "state": state or secrets.token_urlsafe(16),
        }
        if nonce:
            params["nonce"] = nonce
        if code_challenge:
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = "S256"
        return f"{self.base_url}/login/oauth/authorize?{urlencode(params)}"
