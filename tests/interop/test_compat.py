"""The original requests-oauth2 0.2.0 API against a real server (DESIGN §5)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import oauth2_core as oc
from oauth2_transports.compat import OAuth2

REDIRECT_URI = "http://127.0.0.1/cb"


def make(oidc_server: Any, client_id: str = "post-client", secret: str | None = None) -> OAuth2:
    info = oidc_server.clients[client_id]
    # site + paths, exactly the positional shape of 0.2.0
    return OAuth2(
        client_id,
        secret if secret is not None else info.client_secret,
        oidc_server.issuer,
        REDIRECT_URI,
        "auth",
        "token",
    )


def test_authorize_url_then_get_token(oidc_server: Any) -> None:
    h = make(oidc_server)
    verifier = oc.generate_code_verifier()
    url = h.authorize_url(
        "openid read",
        response_type="code",
        state="legacy-state",
        code_challenge=oc.code_challenge(verifier),
        code_challenge_method="S256",
    )
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["post-client"]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["scope"] == ["openid read"]
    callback = parse_qs(urlsplit(oidc_server.authorize(url)).query)
    assert callback["state"] == ["legacy-state"]
    data = h.get_token(callback["code"][0], code_verifier=verifier)
    assert isinstance(data, dict)
    assert data["access_token"]
    assert data["token_type"] == "Bearer"
    # The 0.2.0 README's next line: use the token as a query parameter.
    response = requests.get(
        oidc_server.userinfo_endpoint,
        params={"access_token": data["access_token"]},
        timeout=10,
    )
    assert response.status_code in (200, 400)  # oidc-provider may refuse query tokens


def test_site_may_change_between_steps(oidc_server: Any) -> None:
    h = make(oidc_server)
    h.site = "https://www.example.invalid/"
    url = h.authorize_url("", response_type="code")
    assert url.startswith("https://www.example.invalid/auth?")
    h.site = oidc_server.issuer  # token step on the real server
    with pytest.raises(oc.EndpointError) as caught:
        h.get_token("not-a-real-code")
    assert caught.value.error == "invalid_grant"


def test_wrong_secret_raises_typed_error(oidc_server: Any) -> None:
    h = make(oidc_server, secret="wrong")
    with pytest.raises(oc.EndpointError) as caught:
        h.get_token("whatever")
    assert caught.value.error == "invalid_client"
    assert "wrong" not in repr(h)
