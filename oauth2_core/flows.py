"""Flows at the token endpoint: protocol steps chained into generators that a driver runs.

Each flow yields :class:`Send` (and, when it waits, :class:`Wait`) and returns
a value. ``oauth2_transports.run`` and ``arun`` drive the same flow over a sync
or an async transport, so both share every line of protocol code (the pattern
of httpx's auth flows), and the high-level clients only pick a flow and run it.

The decisions of chaining the steps live here, once:

* :func:`token_grant_flow`: one token request, with a DPoP proof and the
  nonce retry when the client has a DPoP key (RFC 9449 §5, §8), and the
  opt-in retry policy (:mod:`oauth2_core.retry`), each attempt dated when it
  is sent;
* :func:`exchange_code_flow`: check the redirect, exchange the code, validate
  the ID token (OpenID Connect Core §3.1.3.7) before anyone uses the tokens;
* :func:`refresh_flow`: refresh, keep what the server omits, validate a new
  ID token against the previous one (OpenID Connect Core §12.2).

With ``require_dpop_binding=True`` (what ``profile="fapi2"`` turns on) each of
them refuses a token the server did not bind to the DPoP key
(:func:`~oauth2_core.fapi.check_dpop_binding`) before anyone sees it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TypeVar, cast

import attrs

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send, TimedFlow, wait_flow
from oauth2_core.callback import parse_callback
from oauth2_core.ciba import BackchannelAuthentication, backchannel_poll_flow
from oauth2_core.client import Client
from oauth2_core.dpop import DPoPKey, dpop_send_flow
from oauth2_core.dpop_nonce import DPoPNonces
from oauth2_core.errors import UsageError
from oauth2_core.fapi import check_dpop_binding
from oauth2_core.grants import authorization_code_grant_request, refresh_token_grant_request
from oauth2_core.id_token import check_id_token_support, id_token_flow, validate_id_token_flow
from oauth2_core.id_token_refresh import refreshed_id_token_flow
from oauth2_core.introspection import Introspection, process_introspection_response
from oauth2_core.jarm_flow import authorization_response_flow
from oauth2_core.jwks import JwksCache
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization
from oauth2_core.retry import RetryPolicy, retry_dated_flow
from oauth2_core.revocation import process_revocation_response
from oauth2_core.token import Token, process_refresh_response, process_token_response

__all__ = [
    "code_exchange_flow",
    "exchange_code_flow",
    "introspection_flow",
    "refresh_flow",
    "revocation_flow",
    "step_flow",
    "token_flow",
    "token_grant_flow",
]

T = TypeVar("T")


def step_flow(request: HttpRequest, process: Callable[[HttpResponse], T]) -> Flow[T]:
    """One request, one processor: the smallest flow."""
    response = yield Send(request)
    return process(response)


def token_flow(request: HttpRequest) -> Flow[Token]:
    """Send a token request and process the answer (RFC 6749 §5)."""
    return (yield from step_flow(request, process_token_response))


def _answer(request: HttpRequest) -> Flow[HttpResponse]:
    return (yield Send(request))


def _token_response_flow(
    build: Callable[[_dt.datetime], HttpRequest],
    now: _dt.datetime,
    dpop_key: DPoPKey | None,
    dpop_nonces: DPoPNonces | None,
) -> Flow[HttpResponse]:
    """One token request sent at ``now``: plain, or with a DPoP proof (RFC 9449 §5)."""
    if dpop_key is None:
        return (yield Send(build(now)))
    nonces = dpop_nonces if dpop_nonces is not None else DPoPNonces()
    response, _ = yield from dpop_send_flow(build, dpop_key, now=now, nonces=nonces)
    return response


def _token_attempts(
    build: Callable[[_dt.datetime], HttpRequest],
    process: Callable[[HttpResponse], T],
    *,
    now: _dt.datetime,
    dpop_key: DPoPKey | None,
    dpop_nonces: DPoPNonces | None,
    retry: RetryPolicy | None,
) -> TimedFlow[tuple[T, _dt.datetime]]:
    """Send, process, retry by ``retry``; return the value and its answer's ``received_at``."""

    def attempt(when: _dt.datetime) -> Flow[tuple[T, _dt.datetime]]:
        response = yield from _token_response_flow(build, when, dpop_key, dpop_nonces)
        return process(response), response.received_at

    if retry is None:
        return (yield from attempt(now))
    return (yield from retry_dated_flow(attempt, retry, now=now))


def _bound(
    process: Callable[[HttpResponse], Token], dpop_key: DPoPKey | None, required: bool
) -> Callable[[HttpResponse], Token]:
    """``process``, then the DPoP binding check when it is required (RFC 9449 §5)."""
    if not required:
        return process
    if dpop_key is None:
        raise UsageError("require_dpop_binding needs a dpop_key: nothing would bind the token")

    def checked(response: HttpResponse) -> Token:
        return check_dpop_binding(process(response), status=response.status)

    return checked


def _check_now(now: object) -> _dt.datetime:
    if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
        raise UsageError("now must be a timezone-aware datetime: when the request is sent")
    return now


def token_grant_flow(
    build: Callable[[_dt.datetime], HttpRequest],
    *,
    now: _dt.datetime,
    dpop_key: DPoPKey | None = None,
    dpop_nonces: DPoPNonces | None = None,
    retry: RetryPolicy | None = None,
    previous: Token | None = None,
    require_dpop_binding: bool = False,
) -> TimedFlow[Token]:
    """Get a token with one request to the token endpoint (RFC 6749 §5, RFC 9449 §5).

    ``build(now)`` makes the request for the moment it is sent, so every
    attempt carries a fresh client assertion (RFC 7523 §3) and DPoP proof.
    With ``dpop_key`` the request carries a proof and a nonce challenge is
    answered once (:func:`~oauth2_core.dpop.dpop_send_flow`). With ``retry``
    a retryable failure is tried again after the policy's backoff: the flow
    yields ``Wait(delay)`` and dates the next attempt with the time the driver
    answers. Only for requests that can be sent twice: never a code exchange.

    Args:
        build: ``now -> HttpRequest``, e.g. ``lambda now:
            client_credentials_grant_request(server, client, now=now)``.
        now: When the first request is sent, an aware datetime.
        dpop_key: The DPoP private key, or ``None`` for a plain request.
        dpop_nonces: Your per-origin DPoP nonces (kept across calls);
            ``None`` starts with none.
        retry: The opt-in retry policy, or ``None``.
        previous: For a refresh: the token refreshed; the answer is then read
            by ``process_refresh_response`` (keeps what the server omits).
        require_dpop_binding: Refuse an answer whose ``token_type`` is not
            ``DPoP`` (RFC 9449 §5 lets a server not bind; FAPI 2.0 §5.3.2.1
            does not). Needs ``dpop_key``.

    Returns:
        The flow; next: ``oauth2_transports.run(flow, transport)``.

    Raises:
        EndpointError, MalformedResponseError: as ``process_token_response``.
        TokenBindingError: ``require_dpop_binding`` and the token is not DPoP-bound.
        UsageError: a bad key, request or ``now``; ``require_dpop_binding`` without a key.
    """
    _check_now(now)
    if dpop_key is None and retry is None and previous is None:
        # The common case, kept as short as token_flow: one request, one answer (a
        # Send is always answered with the response, never with a time).
        return process_token_response(cast("HttpResponse", (yield Send(build(now)))))
    process: Callable[[HttpResponse], Token] = _bound(
        process_token_response
        if previous is None
        else (lambda response: process_refresh_response(response, previous=previous)),
        dpop_key,
        require_dpop_binding,
    )
    token, _ = yield from _token_attempts(
        build, process, now=now, dpop_key=dpop_key, dpop_nonces=dpop_nonces, retry=retry
    )
    return token


def _wants_openid(pending: PendingAuthorization) -> bool:
    return pending.scope is not None and "openid" in pending.scope.split()


def exchange_code_flow(
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    callback: object,
    *,
    now: _dt.datetime,
    validate_id_token: bool = True,
    jwks_cache: JwksCache | None = None,
    dpop_key: DPoPKey | None = None,
    dpop_nonces: DPoPNonces | None = None,
    require_dpop_binding: bool = False,
    **params: object,
) -> Flow[Token]:
    """Check the redirect, exchange the code, validate the ID token (RFC 6749 §4.1, OIDC §3.1.3).

    1. ``parse_callback``: duplicates, ``state``, ``iss`` (RFC 9207), then
       ``error``, before anything is sent; a signed response (JARM, the
       callback's ``response``) is verified against the server's JWK set
       (fetched when the cache has none) before anything is read from it, and
       required when ``client.authorization_signed_response_alg`` is set;
    2. the code exchange (RFC 6749 §4.1.3), with a DPoP proof when
       ``dpop_key`` is given (RFC 9449 §5, the nonce retry included); never
       retried: the code is single-use (§4.1.2);
    3. the ID token, when the answer has one or ``openid`` was asked for, is
       validated (OIDC Core §3.1.3.7: signature, ``iss``, ``aud``, ``exp``,
       ``iat``, ``nonce``, ``at_hash``) at the answer's ``received_at``, and
       its claims put on the token, before anyone uses the tokens.

    Args:
        server, client: The server and the client.
        pending: What :func:`~oauth2_core.new_pending_authorization` made.
        callback: The redirect URL or its parameters.
        now: When the request is sent, an aware datetime.
        validate_id_token: ``False`` returns the ID token unvalidated
            (``id_token_claims`` ``None``); an explicit opt-out.
        jwks_cache: The server's JWK set cache (keep one per server).
        dpop_key: The DPoP private key, to bind the tokens (RFC 9449).
        dpop_nonces: Your per-origin DPoP nonces.
        require_dpop_binding: Refuse a token that is not ``DPoP``-bound
            (``profile="fapi2"`` turns it on), before its ID token is checked.
        params: Extra token request parameters.

    Returns:
        The flow; next: ``oauth2_transports.run(flow, transport)``.

    Raises:
        TokenBindingError: ``require_dpop_binding`` and the answer's
            ``token_type`` is not ``DPoP``.
        CallbackError: the redirect failed a check or carries an error.
        EndpointError, MalformedResponseError: as ``process_token_response``;
            no ``id_token`` although ``openid`` was asked for.
        IdTokenError: the ID token failed a check.
    """
    _check_now(now)
    process = _bound(process_token_response, dpop_key, require_dpop_binding)
    # A signed response (JARM) is verified first, the server's keys fetched
    # when needed; required when the client registered a signing alg (JARM §3).
    code = yield from authorization_response_flow(
        callback,
        server=server,
        client=client,
        pending=pending,
        now=now,
        jwks_cache=jwks_cache,
        require_signed=client.authorization_signed_response_alg is not None,
    )
    if validate_id_token:
        # Before the code is spent: a missing jwt extra names its pip line now.
        check_id_token_support(server, client, scope=pending.scope)

    def build(when: _dt.datetime) -> HttpRequest:
        return authorization_code_grant_request(server, client, code, pending, now=when, **params)

    response = yield from _token_response_flow(build, now, dpop_key, dpop_nonces)
    token = process(response)
    if not validate_id_token or (token.id_token is None and not _wants_openid(pending)):
        return token
    claims = yield from id_token_flow(
        token,
        server=server,
        client=client,
        pending=pending,
        now=response.received_at,
        jwks_cache=jwks_cache,
    )
    return attrs.evolve(token, id_token_claims=claims)


def refresh_flow(
    server: ServerMetadata,
    client: Client,
    token: Token,
    *,
    now: _dt.datetime | None = None,
    jwks_cache: JwksCache | None = None,
    validate_id_token: bool = True,
    dpop_key: DPoPKey | None = None,
    dpop_nonces: DPoPNonces | None = None,
    retry: RetryPolicy | None = None,
    require_dpop_binding: bool = False,
    **params: object,
) -> TimedFlow[Token]:
    """Refresh ``token``, keeping what the server omits (RFC 6749 §6, OIDC Core §12.2).

    The refresh token, scope and ID token (with its claims) of ``token`` stay
    when the answer has none. A new ID token is validated like the first one
    and against it (``refreshed_id_token_flow``: signature, ``iss``, ``sub``,
    ``aud``, ``exp``, ``iat``, ...), at the answer's ``received_at``; the JWK
    set is fetched only when needed. With ``dpop_key`` the request carries a
    DPoP proof (RFC 9449 §5); with ``retry`` only the refresh request is
    retried, never the validation (as :func:`token_grant_flow`).

    Args:
        server, client, token: The server, the client and the token to refresh.
        now: When the request is sent; required for JWT client authentication,
            DPoP and ``retry``.
        jwks_cache: The server's JWK set cache (keep one per server).
        validate_id_token: ``False`` leaves a new ID token unvalidated
            (``id_token_claims`` ``None``); an explicit opt-out.
        dpop_key: The DPoP private key the tokens are bound to.
        dpop_nonces: Your per-origin DPoP nonces.
        retry: The opt-in retry policy for the refresh request.
        require_dpop_binding: Refuse a refreshed token that is not
            ``DPoP``-bound (``profile="fapi2"`` turns it on).
        params: Extra request parameters (``scope``, ``resource``).

    Raises:
        EndpointError, MalformedResponseError: as ``process_refresh_response``.
        TokenBindingError: ``require_dpop_binding`` and the answer's
            ``token_type`` is not ``DPoP``; the old token stays yours.
        IdTokenError: the new ID token failed a check; the old token stays yours.
    """
    if not isinstance(token, Token):
        raise UsageError("refresh needs the Token to refresh")
    process = _bound(
        lambda response: process_refresh_response(response, previous=token),
        dpop_key,
        require_dpop_binding,
    )
    if now is None:
        if dpop_key is not None or retry is not None:
            raise UsageError("DPoP proofs and retries need the send time: pass now=")
        # Without a time: one plain request (JWT client authentication refuses it).
        request = refresh_token_grant_request(server, client, token, now=None, **params)
        response = yield from _answer(request)
        refreshed = process_refresh_response(response, previous=token)
        received_at = response.received_at
    else:

        def build(when: _dt.datetime) -> HttpRequest:
            return refresh_token_grant_request(server, client, token, now=when, **params)

        refreshed, received_at = yield from _token_attempts(
            build,
            process,
            now=_check_now(now),
            dpop_key=dpop_key,
            dpop_nonces=dpop_nonces,
            retry=retry,
        )
    if not validate_id_token:
        return refreshed
    return (
        yield from refreshed_id_token_flow(
            refreshed,
            previous=token,
            server=server,
            client=client,
            now=received_at,
            jwks_cache=jwks_cache,
        )
    )


def code_exchange_flow(
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    callback: object,
    *,
    now: _dt.datetime | None = None,
    **params: object,
) -> Flow[Token]:
    """Check the redirect, then exchange the code (RFC 6749 §4.1.2 and §4.1.3).

    Deprecated: it returns the ID token unvalidated. Use
    :func:`exchange_code_flow`, which also validates it (OIDC Core §3.1.3.7),
    binds the tokens with DPoP when asked, and is what ``OAuth2Client`` runs.

    ``now`` (when the request is sent) is required for JWT client authentication.
    """
    code = parse_callback(callback, server=server, pending=pending, client=client)
    request = authorization_code_grant_request(server, client, code, pending, now=now, **params)
    return (yield from token_flow(request))


def revocation_flow(request: HttpRequest) -> Flow[None]:
    """Send a revocation request (RFC 7009)."""
    return (yield from step_flow(request, process_revocation_response))


def introspection_flow(request: HttpRequest) -> Flow[Introspection]:
    """Send an introspection request (RFC 7662)."""
    return (yield from step_flow(request, process_introspection_response))


def backchannel_token_flow(
    server: ServerMetadata,
    client: Client,
    auth: BackchannelAuthentication,
    *,
    now: _dt.datetime | None = None,
    validate_id_token: bool = True,
    jwks_cache: JwksCache | None = None,
    dpop_key: DPoPKey | None = None,
    dpop_nonce: str | None = None,
    dpop_nonces: DPoPNonces | None = None,
    require_dpop_binding: bool = False,
    **params: object,
) -> TimedFlow[Token]:
    """Poll for a CIBA token and validate its ID token (CIBA Core 1.0 §10.1, §10.1.1).

    :func:`~oauth2_core.ciba.backchannel_poll_flow`, then, unless
    ``validate_id_token=False``, the ID token is validated as OpenID Connect
    Core §3.1.3.7 says, with no nonce (the request carried none) and its
    ``at_hash`` against the access token; the claims go on
    ``token.id_token_claims``. What ``OAuth2Client.poll_backchannel`` runs.
    With ``require_dpop_binding`` a token that is not ``DPoP``-bound is
    refused (RFC 9449 §5, FAPI 2.0 Security Profile §5.3.2.1) before its ID
    token is looked at.

    Raises:
        IdTokenError: the ID token failed validation.
        As :func:`~oauth2_core.ciba.backchannel_poll_flow` otherwise.
    """
    token = yield from backchannel_poll_flow(
        server,
        client,
        auth,
        now=now,
        dpop_key=dpop_key,
        dpop_nonce=dpop_nonce,
        dpop_nonces=dpop_nonces,
        require_dpop_binding=require_dpop_binding,
        **params,
    )
    if not validate_id_token or token.id_token is None:
        return token
    # Polling may have taken minutes: ask the driver for the time of the check.
    checked_at = yield from wait_flow(0)
    claims = yield from validate_id_token_flow(
        token.id_token,
        server=server,
        client=client,
        nonce=None,
        now=checked_at,
        jwks_cache=jwks_cache,
        access_token=token.access_token,
    )
    return attrs.evolve(token, id_token_claims=claims)
