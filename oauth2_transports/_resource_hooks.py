"""What the ``for_resource`` hooks of requests, httpx and httpx2 share.

:func:`authorizer` turns the ``for_resource`` keywords into a
:class:`~oauth2_transports._resource_auth.ResourceAuthorizer`;
:func:`sync_flow` and :func:`async_flow` are the httpx-style auth flows (httpx
and httpx2 have the same request and response API): send with the token of the
request's resource (or none yet), and on a 401 / 403 that
``ResourceAuthorizer.decide`` takes up, authorize (once for all concurrent
requests), then resend once with the new token. Only a body held in memory is
resent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from oauth2_core import (
    Client,
    InsecureHttpError,
    Token,
    UsageError,
    check_client_id_metadata_url,
)
from oauth2_core.dpop import DPoPKey
from oauth2_core.dpop_nonce import DPOP_NONCE_FIELD
from oauth2_core.endpoints import check_resource_url, is_loopback_host, url_origin
from oauth2_transports._clock import Clock, utc_now
from oauth2_transports._hooks import (
    DPoPSigner,
    RetryBudget,
    authorization_header,
    is_dpop,
    next_retry,
)
from oauth2_transports._resource_auth import Authorize, Decision, ResourceAuthorizer
from oauth2_transports._resource_session import ChainSettings
from oauth2_transports._transport import AsyncTransport, Transport
from oauth2_transports.store import TokenStore

if TYPE_CHECKING:
    from typing_extensions import Required, TypedDict

    class ResourceOptions(TypedDict, total=False):
        """The keywords of ``OAuth2Auth.for_resource`` (see its docstring)."""

        authorize: Required[Authorize]
        client: Client
        client_metadata: Mapping[str, object]
        client_id_metadata_url: str
        redirect_uri: str
        issuer: str
        store: TokenStore
        allow_insecure_http: bool
        clock: Clock
        dpop_key: DPoPKey


__all__ = [
    "FOR_RESOURCE_DOC",
    "async_flow",
    "authorization_fields",
    "authorizer",
    "bearer",
    "check_request_url",
    "next_step",
    "sync_flow",
]

#: The documentation of every ``for_resource`` classmethod.
FOR_RESOURCE_DOC = """Authorize on demand, starting from nothing but the resource's 401.

        The first request goes out without a token. When the resource answers
        401, the hook finds the resource's metadata (RFC 9728, the challenge's
        ``resource_metadata``), an authorization server it lists and that
        server's metadata (RFC 8414 / OIDC, issuer checked), registers a client
        (RFC 7591, unless ``client=`` is given or the server takes
        ``client_id_metadata_url=``), sends the user to the authorization URL
        through ``authorize(url)`` (PKCE S256, ``resource=`` the metadata's
        ``resource``, RFC 8707; scope: the challenge's ``scope``, else the
        resource's ``scopes_supported``), exchanges the code and sends the
        request once more. Concurrent requests that all get a 401 cause one
        authorization. Tokens then come from a ``TokenManager`` (refreshed
        ahead of expiry; a rejected token is refreshed before authorizing
        again) and go only to URLs of that resource.

        A later 403 ``insufficient_scope`` (RFC 6750 §3.1) or 401
        ``insufficient_user_authentication`` (RFC 9470) authorizes again with
        the union of the scopes asked, granted and named, or the
        ``acr_values`` / ``max_age`` asked for, and resends once; a resource
        that asks for nothing new gets no new authorization (no loops). If the
        server refuses a step-up scope as ``invalid_scope`` for a client we
        registered, the client registers once more with it.

        Refused: an authorization server the resource does not list, resource
        metadata about another resource (a same-origin parent path is accepted,
        as servers built with the ``mcp`` SDK publish it), plain http to
        anything but loopback (unless ``allow_insecure_http=True``).

        Args:
            authorize: ``(authorization_url) -> callback URL``: open a browser
                and wait for the redirect; a plain function (run in a worker
                thread by async clients) or an ``async def`` (async clients only).
            client: A pre-registered ``oauth2_core.Client`` (with its
                ``redirect_uri``); nothing is registered.
            client_metadata: RFC 7591 metadata to register with
                (``client_name``, ``redirect_uris`` ...); defaults added: a
                public PKCE client (``token_endpoint_auth_method`` ``none``), the
                code and refresh grants, the union of the resource's and the
                server's ``scopes_supported``.
            client_id_metadata_url: An https URL (with a path) serving this
                client's Client ID Metadata Document, used as ``client_id``
                (a public client, PKCE) when the server advertises
                ``client_id_metadata_document_supported``; otherwise the
                client registers with ``client_metadata`` if given, and the
                chain fails with a ``UsageError`` if not. ``client=`` wins
                over both (the MCP authorization spec's order).
            redirect_uri: The redirect URI; default the first of
                ``client_metadata["redirect_uris"]``.
            issuer: Use this authorization server (it must be listed by the resource).
            store: A ``TokenStore``: the token, the registration, the issuer
                and the resource are saved in it (the session under the token's
                ``extra``), so a restarted process neither registers nor
                authorizes again.
            allow_insecure_http: Allow plain http to non-loopback hosts.
            dpop_key: A private JWK (``oauth2_core.generate_dpop_key``) to
                bind the tokens to (RFC 9449): the authorization names its
                thumbprint (``dpop_jkt``, §10), the code exchange and every
                refresh carry a proof (§5), and each resource request goes out
                as ``Authorization: DPoP`` with a fresh proof (``ath``, §7.1);
                a nonce challenge (§9) from the token endpoint or the
                resource is answered once. The key is yours: it is never
                stored; pass the same one to a restarted process whose
                ``store=`` holds a bound token.
            clock: Returns the current aware datetime (inject for tests): the
                token manager's clock, and the age of an authorization, so a
                ``max_age`` asked for before is asked again once the last
                authorization is older than it.

        Raises:
            UsageError: neither ``client``, ``client_metadata`` nor
                ``client_id_metadata_url``, a ``client_id_metadata_url`` the
                draft forbids (``check_client_id_metadata_url``), or
                ``authorize`` is not callable.
            InsecureHttpError: (when a request is sent) a plain-http request
                URL on a non-loopback host, refused before anything is sent;
                and, during the chain, resource metadata naming such an
                authorization server, or server metadata naming such a token
                or registration endpoint (a ``UsageError``).
        """


def authorizer(
    options: Mapping[str, Any],
    transport: Callable[[], Transport],
    async_transport: Callable[[], AsyncTransport] | None = None,
) -> ResourceAuthorizer:
    """A :class:`ResourceAuthorizer` for the ``for_resource`` keywords ``options``.

    Raises:
        UsageError: an unknown keyword, or a bad combination.
    """
    known = {
        "authorize",
        "client",
        "client_metadata",
        "client_id_metadata_url",
        "redirect_uri",
        "issuer",
        "store",
        "allow_insecure_http",
        "clock",
        "dpop_key",
    }
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(f"for_resource() got unknown keywords {unknown}")
    if "authorize" not in options:
        raise UsageError("for_resource() needs authorize=: (authorization_url) -> callback URL")
    client = options.get("client")
    if client is not None and not isinstance(client, Client):
        raise UsageError("client must be an oauth2_core.Client")
    insecure = bool(options.get("allow_insecure_http", False))
    cimd = options.get("client_id_metadata_url")
    if cimd is not None:
        check_client_id_metadata_url(cimd, allow_insecure_http=insecure)
    settings = ChainSettings(
        client=client,
        client_metadata=options.get("client_metadata"),
        client_id_metadata_url=cimd,
        redirect_uri=options.get("redirect_uri"),
        issuer=options.get("issuer"),
        allow_insecure_http=insecure,
        dpop_key=options.get("dpop_key"),
    )
    # A bad key fails here, not on the first request.
    dpop = DPoPSigner(settings.dpop_key)
    return ResourceAuthorizer(
        settings,
        options["authorize"],
        store=options.get("store"),
        transport=transport,
        async_transport=async_transport,
        clock=options.get("clock", utc_now),
        dpop=dpop,
    )


def check_request_url(url: str, *, allow_insecure_http: bool) -> None:
    """Refuse a plain-http request to a non-loopback host before it is sent (RFC 6750 §5.3).

    Even the first request, which carries no token: its 401 would start the
    chain, whose token then goes to that host in clear.

    Raises:
        InsecureHttpError: plain http to a non-loopback host.
        UsageError: an ambiguous URL.
    """
    if url.startswith("https://") or allow_insecure_http:
        return
    origin, _ = url_origin(url, what="the resource URL")
    if origin.scheme == "http" and not is_loopback_host(origin.host):
        raise InsecureHttpError(
            "the resource URL uses plain http on a non-loopback host: the token the "
            "hook would get for it must not travel in clear (RFC 6750 §5.3); use "
            "https, or pass allow_insecure_http=True to for_resource()",
            what="the resource URL",
        )


def bearer(url: str, token: Token, *, allow_insecure_http: bool) -> str:
    """The ``Authorization`` value for a request to ``url`` (RFC 6750 §2.1, §5.3).

    Raises:
        UsageError: plain http to a non-loopback host, or an unusable token.
    """
    if not url.startswith("https://"):
        check_resource_url(url, allow_insecure_http=allow_insecure_http)
    return authorization_header(token)


def authorization_fields(
    authz: ResourceAuthorizer, method: str, url: str, token: Token
) -> dict[str, str]:
    """``Authorization`` (and ``DPoP``) for one send of a request with ``token``.

    A Bearer token as RFC 6750 §2.1; a DPoP-bound one as RFC 9449 §7.1, with a
    fresh proof (``ath``, the origin's last nonce) signed by the hook's
    :class:`~oauth2_transports._hooks.DPoPSigner`, the Bearer hooks' own.

    Raises:
        UsageError: plain http to a non-loopback host, an unusable token, or
            a DPoP-bound token and no ``dpop_key``.
    """
    insecure = authz.settings.allow_insecure_http
    if not is_dpop(token):
        return {"Authorization": bearer(url, token, allow_insecure_http=insecure)}
    if not url.startswith("https://"):
        check_resource_url(url, allow_insecure_http=insecure)
    return authz.dpop.headers(
        token, method, url, client_key=authz.settings.dpop_key, clock=authz.clock
    )


def next_step(
    authz: ResourceAuthorizer,
    budget: RetryBudget,
    sent: Token | None,
    url: str,
    *,
    status: int,
    www_authenticate: list[str],
    nonce_values: list[str],
    resendable: bool,
    resolved: bool,
) -> Literal["nonce"] | Decision | None:
    """What the answer to a request sent with ``sent`` calls for (RFC 9449 §9, RFC 9728).

    The nonce of an answer to a DPoP request is kept for its origin.
    ``"nonce"``: a nonce challenge, answered once per request by the Bearer
    hooks' rule (:func:`~oauth2_transports._hooks.next_retry`): send again with
    a new proof. A :class:`Decision`: authorize, refresh or step up, then send
    again (once: not after ``resolved``). ``None``: give the answer to the caller.
    """
    dpop = sent is not None and is_dpop(sent)
    if dpop:
        authz.dpop.remember(url, nonce_values)
    if not resendable:
        return None
    if (
        dpop
        and status == 401
        and next_retry(
            budget,
            dpop=True,
            www_authenticate=www_authenticate,
            nonce_values=nonce_values,
            can_refresh=False,
        )
        == "nonce"
    ):
        return "nonce"
    if resolved:
        return None
    return authz.decide(status, www_authenticate, url, sent)


def _sign(authz: ResourceAuthorizer, request: Any, url: str, token: Token) -> None:
    request.headers.pop("DPoP", None)
    request.headers.update(authorization_fields(authz, request.method, url, token))


def _step(
    authz: ResourceAuthorizer,
    budget: RetryBudget,
    sent: Token | None,
    url: str,
    response: Any,
    *,
    resendable: bool,
    resolved: bool,
) -> Literal["nonce"] | Decision | None:
    headers = response.headers
    return next_step(
        authz,
        budget,
        sent,
        url,
        status=response.status_code,
        www_authenticate=headers.get_list("www-authenticate"),
        nonce_values=headers.get_list(DPOP_NONCE_FIELD),
        resendable=resendable,
        resolved=resolved,
    )


def sync_flow(
    authz: ResourceAuthorizer, request: Any, resendable: bool
) -> Generator[Any, Any, None]:
    """The httpx / httpx2 ``sync_auth_flow``."""
    url = str(request.url)
    check_request_url(url, allow_insecure_http=authz.settings.allow_insecure_http)
    generation, token = authz.token_for(url)
    if token is not None:
        _sign(authz, request, url, token)
    response = yield request
    budget, resolved = RetryBudget(), False
    while (
        step := _step(authz, budget, token, url, response, resendable=resendable, resolved=resolved)
    ) is not None:
        if step != "nonce":
            fresh = authz.resolve(step, url, generation, token)
            if fresh is None:
                return
            token, resolved = fresh, True
        assert token is not None
        _sign(authz, request, url, token)
        response = yield request


async def async_flow(
    authz: ResourceAuthorizer, request: Any, resendable: bool
) -> AsyncGenerator[Any, Any]:
    """The httpx / httpx2 ``async_auth_flow``."""
    url = str(request.url)
    check_request_url(url, allow_insecure_http=authz.settings.allow_insecure_http)
    generation, token = await authz.atoken_for(url)
    if token is not None:
        _sign(authz, request, url, token)
    response = yield request
    budget, resolved = RetryBudget(), False
    while (
        step := _step(authz, budget, token, url, response, resendable=resendable, resolved=resolved)
    ) is not None:
        if step != "nonce":
            fresh = await authz.aresolve(step, url, generation, token)
            if fresh is None:
                return
            token, resolved = fresh, True
        assert token is not None
        _sign(authz, request, url, token)
        response = yield request
