"""Mutual TLS (RFC 8705) against oidc-provider over HTTPS on loopback, every transport.

The server (``mtls_server``: server.mjs in HTTPS mode) has its issuer on a listener
that asks for no client certificate and its ``mtls_endpoint_aliases`` (§5) on a
second one that does. Each transport gets the client certificate and the test CA
the way its docstring says: ``urllib3.PoolManager(ca_certs=..., cert_file=...,
key_file=...)``, ``requests.Session`` with ``verify`` and ``cert``, an
``ssl.SSLContext`` with ``load_cert_chain`` as ``httpx.Client(verify=...)``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
import urllib3
from interop_api import Api, authorize
from mtls_pki import CertFiles, Pki

import oauth2_core as oc
from oauth2_transports import AsyncOAuth2Client, OAuth2Client
from oauth2_transports.httpx import AsyncHttpxTransport, HttpxTransport
from oauth2_transports.requests import RequestsTransport
from oauth2_transports.urllib3 import Urllib3Transport


def tls_transport(kind: str, ca: str, cert: CertFiles | None) -> tuple[Any, Callable[[], Any]]:
    """The transport ``kind`` trusting ``ca`` and presenting ``cert``, and how to close it."""
    if kind == "urllib3":
        files = {"cert_file": str(cert.cert), "key_file": str(cert.key)} if cert else {}
        pool = urllib3.PoolManager(ca_certs=ca, **files)
        return Urllib3Transport(pool), pool.clear
    if kind == "requests":
        session = requests.Session()
        session.trust_env = False  # no proxy or CA bundle from the environment
        session.verify = ca
        session.cert = cert.pair if cert else None
        return RequestsTransport(session), session.close
    context = ssl.create_default_context(cafile=ca)
    if cert is not None:
        context.load_cert_chain(*cert.pair)
    if kind == "httpx":
        client = httpx.Client(verify=context, trust_env=False)
        return HttpxTransport(client), client.close
    aclient = httpx.AsyncClient(verify=context, trust_env=False)
    return AsyncHttpxTransport(aclient), aclient.aclose


@pytest.fixture
def mtls_connect(
    mtls_server: Any, mtls_pki: Pki, kind: str, loop: asyncio.AbstractEventLoop
) -> Iterator[Callable[..., Api]]:
    """``mtls_connect(client_id, cert=..., **client_kwargs) -> Api`` over HTTPS.

    ``cert`` is a :class:`CertFiles` of ``mtls_pki`` or ``None`` (no certificate).
    """
    closers: list[Callable[[], Any]] = []

    def make(
        client_id: str,
        *,
        cert: CertFiles | None,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Api:
        info = mtls_server.clients[client_id]
        client = oc.Client(
            client_id,
            info.client_secret,
            auth_method=info.auth_method,
            redirect_uri="http://127.0.0.1/cb",
            **kwargs,
        )
        transport, close = tls_transport(kind, str(mtls_pki.ca), cert)
        closers.append(close)
        if kind == "async-httpx":
            found = AsyncOAuth2Client.discover(
                mtls_server.issuer, client, transport, **(options or {})
            )
            return Api(loop.run_until_complete(found), loop)
        return Api(
            OAuth2Client.discover(mtls_server.issuer, client, transport, **(options or {})), loop
        )

    yield make
    for close in closers:
        result = close()
        if asyncio.iscoroutine(result):
            loop.run_until_complete(result)


def bound_to(api: Api, token: oc.Token) -> str:
    """The ``x5t#S256`` the server bound ``token`` to (RFC 8705 §3.2, via introspection)."""
    info = api.introspect(token.access_token)
    assert info.active is True
    return str(info.extra["cnf"]["x5t#S256"])


def test_discovery_over_https_lists_the_mtls_aliases(mtls_connect: Any, mtls_server: Any) -> None:
    api = mtls_connect("mtls-dn-client", cert=None)
    server = api.client.server
    assert server.issuer == mtls_server.issuer and server.issuer.startswith("https://127.0.0.1:")
    assert server.tls_client_certificate_bound_access_tokens is True
    aliases = server.mtls_endpoint_aliases
    assert aliases is not None
    for name in (
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
    ):
        conventional = getattr(server, name)
        assert urlsplit(aliases[name]).path == urlsplit(conventional).path
        assert urlsplit(aliases[name]).port != urlsplit(conventional).port  # the other listener
    assert {"tls_client_auth", "self_signed_tls_client_auth"} <= set(
        server.token_endpoint_auth_methods_supported or ()
    )


@pytest.mark.parametrize(
    ("client_id", "which"),
    [
        ("mtls-dn-client", "client"),  # tls_client_auth_subject_dn (§2.1.2)
        ("mtls-san-client", "client"),  # tls_client_auth_san_dns (§2.1.2)
        ("mtls-self-signed-client", "self_signed"),  # §2.2, the registered x5c
    ],
)
def test_client_credentials_with_mtls_auth_gets_a_certificate_bound_token(
    mtls_connect: Any, mtls_pki: Pki, client_id: str, which: str
) -> None:
    cert: CertFiles = getattr(mtls_pki, which)
    api = mtls_connect(client_id, cert=cert)
    assert api.client.client.use_mtls_endpoint_aliases is True  # the default for mTLS auth
    token = api.client_credentials(scope="read")
    assert token.token_type == "Bearer"
    # introspection is authenticated by the same certificate, at its alias
    assert bound_to(api, token) == cert.thumbprint()


@pytest.mark.parametrize(
    ("client_id", "which"),
    [("mtls-dn-client", "client"), ("mtls-self-signed-client", "self_signed")],
)
def test_code_flow_refresh_userinfo_and_revocation_over_mtls(
    mtls_connect: Any, mtls_server: Any, mtls_pki: Pki, client_id: str, which: str
) -> None:
    cert: CertFiles = getattr(mtls_pki, which)
    api = mtls_connect(client_id, cert=cert)
    pending, callback = authorize(mtls_server, api, scope="openid email offline_access")
    token = api.exchange_code(pending, callback)
    assert token.id_token_claims is not None and token.refresh_token
    assert bound_to(api, token) == cert.thumbprint()
    # the bound token works at the UserInfo alias, where the certificate goes along
    assert api.userinfo(token).sub == "alice"
    # §3: the conventional UserInfo endpoint asks for no certificate, so it refuses the token
    plain = mtls_connect(client_id, cert=cert, use_mtls_endpoint_aliases=False)
    with pytest.raises(oc.EndpointError) as caught:
        plain.userinfo(token)
    assert caught.value.error == "invalid_token"

    renewed = api.refresh(token)
    assert renewed.access_token != token.access_token
    assert bound_to(api, renewed) == cert.thumbprint()

    api.revoke(renewed.access_token, token_type_hint="access_token")
    assert api.introspect(renewed.access_token).active is False


def test_without_the_aliases_the_certificate_is_never_asked_for(
    mtls_connect: Any, mtls_pki: Pki
) -> None:
    """§5: the conventional token endpoint asks for no certificate, so mTLS auth fails there."""
    api = mtls_connect("mtls-dn-client", cert=mtls_pki.client, use_mtls_endpoint_aliases=False)
    with pytest.raises(oc.EndpointError) as caught:
        api.client_credentials(scope="read")
    assert caught.value.error == "invalid_client"


@pytest.mark.parametrize(
    ("client_id", "which"),
    [
        ("mtls-dn-client", None),  # no certificate at all
        ("mtls-dn-client", "other_client"),  # CA-signed, another subject DN
        ("mtls-san-client", "other_client"),  # CA-signed, another SAN
        ("mtls-dn-client", "other_self_signed"),  # not signed by the CA (§2.1)
        ("mtls-self-signed-client", "other_self_signed"),  # not the registered one (§2.2)
        ("mtls-self-signed-client", "client"),
    ],
)
def test_a_wrong_client_certificate_is_invalid_client(
    mtls_connect: Any, mtls_pki: Pki, client_id: str, which: str | None
) -> None:
    api = mtls_connect(client_id, cert=getattr(mtls_pki, which) if which else None)
    with pytest.raises(oc.EndpointError) as caught:
        api.client_credentials(scope="read")
    assert caught.value.error == "invalid_client"


def test_fapi2_with_mtls_client_auth_and_mtls_bound_tokens(
    mtls_connect: Any, mtls_server: Any, mtls_pki: Pki
) -> None:
    """FAPI 2.0 §5.3.2.1: mTLS as client authentication and as the sender constraint, no DPoP."""
    api = mtls_connect("fapi2-mtls-client", cert=mtls_pki.client, options={"profile": "fapi2"})
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope="openid")  # pushed to the PAR alias
    assert set(parse_qs(urlsplit(url).query)) == {"client_id", "request_uri"}
    callback = mtls_server.authorize(url)
    assert "iss" in parse_qs(urlsplit(callback).query)  # RFC 9207, required by the profile
    token = api.exchange_code(pending, callback)
    assert token.token_type == "Bearer" and token.id_token_claims is not None
    assert bound_to(api, token) == mtls_pki.client.thumbprint()
    renewed = api.refresh(token)
    assert bound_to(api, renewed) == mtls_pki.client.thumbprint()
