"""Gitea as the OpenID Connect provider of a browser sign-in: headless Chromium (Debian's, driven
by Playwright) goes to the authorization endpoint signed out, is sent to Gitea's real login page,
signs in, authorizes the application and lands on the client's redirect URI with a code that
exchanges for a valid ID token. This is the path weir's OIDC sign-in will take (issue 19)."""

from __future__ import annotations

import os

import httpx
import jwt
from playwright.async_api import async_playwright

from weir.testing.gitea import GiteaServer, GiteaUser, browser_sign_in
from weir.testing.sink import HttpSink

CHROMIUM = os.environ.get("WEIR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


async def test_sign_in_through_gitea_login_page(
    gitea: GiteaServer, gitea_user: GiteaUser, http_sink: HttpSink
) -> None:
    redirect_uri = http_sink.url("/oauth2/callback")
    app = gitea.client(gitea_user).create_oauth2_application("weir-ui", [redirect_uri])
    url = gitea.authorize_url(app, state="state-b", nonce="nonce-b")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(url)
            assert "/user/login" in page.url, "a signed-out user is sent to the login page"
            await browser_sign_in(page, gitea_user)
            assert page.url.startswith(redirect_uri + "?")
        finally:
            await browser.close()

    callback = http_sink.wait_for(lambda r: r.path == "/oauth2/callback", timeout=5)
    assert callback.query["state"] == ["state-b"]
    async with httpx.AsyncClient() as http:
        tokens = await http.post(
            f"{gitea.base_url}/login/oauth/access_token",
            data={
                "grant_type": "authorization_code",
                "code": callback.query["code"][0],
                "redirect_uri": redirect_uri,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        )
        jwks = (await http.get(f"{gitea.base_url}/login/oauth/keys")).json()
    assert tokens.status_code == 200, tokens.text
    id_token = tokens.json()["id_token"]
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(id_token)["kid"]]
    claims = jwt.decode(
        id_token, key.key, algorithms=["RS256"], audience=app.client_id, issuer=gitea.issuer
    )
    assert claims["nonce"] == "nonce-b"
    assert claims["preferred_username"] == gitea_user.username
