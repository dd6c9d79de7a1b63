"""OpenID Connect rules at their edges, against oidc-provider, over all four transports.

* Core §12.2: oidc-provider issues a new ID token with every refresh of an
  ``openid`` grant; the client validates it (signature, ``iss``, ``aud``,
  ``exp``, ``iat``) and compares it with the original (same ``iss`` and
  ``sub``, same ``auth_time``) before handing the token out.
* Core §5.3.2: the UserInfo ``sub`` must be the ID token's, for JSON, signed
  (``application/jwt``) and DPoP-bound calls alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from interop_api import Api, authorize

import oauth2_core as oc


def claiming(token: oc.Token, sub: str) -> oc.Token:
    """``token`` with an ID token that names another user (the substitution to catch)."""
    claims = token.id_token_claims
    assert isinstance(claims, oc.IdTokenClaims)
    other = attrs.evolve(claims, sub=sub, claims={**claims.claims, "sub": sub})
    # Without the compact ID token: a refresh answer resending it verbatim (oidc-provider
    # does within the same second) must not pass for "the same ID token" here.
    return attrs.evolve(token, id_token=None, id_token_claims=other)


def test_refresh_returns_a_new_id_token_that_is_validated(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api, scope="openid email read")
    probe = api.exchange_code(pending, callback)
    # oidc-provider answers a refresh of an openid grant with an id_token (seen raw).
    raw = api.send(oc.refresh_token_grant_request(api.client.server, api.client.client, probe))
    assert raw.status == 200 and "id_token" in json.loads(raw.body)
    pending, callback = authorize(oidc_server, api, scope="openid email read")
    token = api.exchange_code(pending, callback)
    original = token.id_token_claims
    assert isinstance(original, oc.IdTokenClaims)
    refreshed = api.refresh(token)
    assert refreshed.id_token  # it may equal the previous one, down to the second
    claims = refreshed.id_token_claims
    assert isinstance(claims, oc.IdTokenClaims)
    assert (claims.iss, claims.sub) == (original.iss, original.sub) == (oidc_server.issuer, "alice")
    assert claims.auth_time == original.auth_time
    assert claims.nonce in (None, original.nonce)  # §12.2: absent, or the original's
    # Refreshed again from the refreshed token: the chain keeps holding.
    again = api.refresh(refreshed)
    assert again.id_token_claims is not None and again.id_token_claims["sub"] == "alice"


def test_a_refreshed_id_token_for_another_user_is_refused(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    """The server's genuine ID token is for alice; the token we refresh says "mallory"."""
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api, scope="openid read")
    token = claiming(api.exchange_code(pending, callback), "mallory")
    with pytest.raises(oc.IdTokenError) as caught:
        api.refresh(token)
    assert caught.value.check == "sub"


@pytest.mark.parametrize("client_id", ["dpop-client", "dpop-nonce-client"])
def test_dpop_refresh_validates_the_id_token_and_userinfo_checks_sub(
    connect: Callable[..., Api], oidc_server: Any, client_id: str
) -> None:
    api = connect(client_id, options={"dpop_key": oc.generate_dpop_key("ES256")})
    pending, callback = authorize(oidc_server, api, scope="openid email")
    token = api.exchange_code(pending, callback)
    refreshed = api.refresh(token)
    assert refreshed.token_type == "DPoP"
    assert refreshed.id_token_claims is not None and refreshed.id_token_claims["sub"] == "alice"
    assert api.userinfo(refreshed).sub == "alice"
    with pytest.raises(oc.MalformedResponseError) as caught:
        api.userinfo(claiming(refreshed, "mallory"))
    assert caught.value.field == "sub"


@pytest.mark.parametrize("client_id", ["basic-client", "jwtuserinfo-client"])
def test_userinfo_about_another_user_than_the_id_token_is_refused(
    connect: Callable[..., Api], oidc_server: Any, client_id: str
) -> None:
    """JSON (basic-client) and signed application/jwt (jwtuserinfo-client) answers."""
    api = connect(client_id)
    pending, callback = authorize(oidc_server, api, scope="openid email")
    token = api.exchange_code(pending, callback)
    assert api.userinfo(token).sub == "alice"
    with pytest.raises(oc.MalformedResponseError) as caught:
        api.userinfo(claiming(token, "mallory"))
    assert caught.value.field == "sub"
    assert "alice" not in str(caught.value)
