"""Client-Initiated Backchannel Authentication, poll mode (OpenID Connect CIBA Core 1.0).

Steps: :func:`backchannel_authentication_request` /
:func:`process_backchannel_authentication_response` (§7.1, §7.3) give a
:class:`BackchannelAuthentication`; the user approves on their own device; then
poll the token endpoint with :func:`ciba_grant_request` /
:func:`process_backchannel_poll_response` (§10.1, §11), or let
:func:`backchannel_poll_flow` do the polling.

Polling outcomes the client can continue from are values (``Pending``,
``SlowDown``, the device grant's); the ones it cannot are errors
(:class:`AccessDeniedError`, :class:`BackchannelExpiredError`, any other
:class:`EndpointError`, ``transaction_failed`` included).

The poll loop is the device grant's (:func:`oauth2_core.polling.poll_flow`):
interval, ``slow_down`` adding 5 s for good, no poll at or after expiry,
``Retry-After`` on 429/503, ``Wait`` steps that date each poll, DPoP with the
one nonce retry of ``dpop_send_flow`` and the caller's ``DPoPNonces``.
"""

from __future__ import annotations

import datetime as _dt

from oauth2_core._http import HttpRequest, HttpResponse, TimedFlow
from oauth2_core._params import Params, scope_string
from oauth2_core._parse import (
    add_seconds,
    optional_seconds,
    optional_str,
    parse_body,
    raise_for_error,
    require_object,
)
from oauth2_core.ciba_values import (
    CIBA_MIN_INTERVAL,
    DEFAULT_CIBA_INTERVAL,
    BackchannelAuthentication,
)
from oauth2_core.client import Client
from oauth2_core.dpop import DPoPKey
from oauth2_core.dpop_nonce import DPoPNonces
from oauth2_core.errors import BackchannelExpiredError, MalformedResponseError, UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.metadata import ServerMetadata
from oauth2_core.polling import Pending, SlowDown, poll_flow, process_poll_response
from oauth2_core.token import Token

__all__ = [
    "CIBA_GRANT_TYPE",
    "BackchannelAuthentication",
    "backchannel_authentication_request",
    "backchannel_poll_flow",
    "ciba_grant_request",
    "process_backchannel_authentication_response",
    "process_backchannel_poll_response",
]

#: The ``grant_type`` of a CIBA token request (CIBA Core 1.0 §10.1).
CIBA_GRANT_TYPE = "urn:openid:params:grant-type:ciba"
_HINTS = ("login_hint", "login_hint_token", "id_token_hint")
_STANDARD = frozenset({"auth_req_id", "expires_in", "interval"})


def backchannel_authentication_request(
    server: ServerMetadata,
    client: Client,
    *,
    scope: object,
    login_hint: str | None = None,
    login_hint_token: str | None = None,
    id_token_hint: str | None = None,
    binding_message: str | None = None,
    user_code: str | None = None,
    requested_expiry: int | None = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Ask the server to authenticate a user out of band (CIBA Core 1.0 §7.1).

    §7.1: the ``scope`` is REQUIRED and must contain ``openid``, and "one and
    only one of the hints MUST be provided". The client authenticates as at the
    token endpoint (§7.1: "The Client MUST authenticate to the Backchannel
    Authentication Endpoint").

    Args:
        server: Metadata with ``backchannel_authentication_endpoint``.
        client: The client (a confidential one: CIBA has no public clients).
        scope: A string or an iterable of strings that includes ``openid``.
        login_hint: Who to authenticate (an e-mail, a phone number, a user id).
        login_hint_token: A token naming the user, instead of ``login_hint``.
        id_token_hint: A previous ID token of the user, instead of ``login_hint``.
        binding_message: A short text shown on both devices (§7.1).
        user_code: A secret the user knows, when the server asks for one.
        requested_expiry: The lifetime asked for ``auth_req_id``, in seconds.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters (``acr_values``, ``resource`` ...).

    Returns:
        The request. Next: :func:`process_backchannel_authentication_response`.

    Raises:
        UsageError: no endpoint, plain http, no ``openid`` in scope, not exactly
            one hint, a bad parameter.
    """
    scope_value = scope_string(scope)
    if not scope_value or "openid" not in scope_value.split():
        raise UsageError("a CIBA request needs a scope with 'openid' (CIBA Core 1.0 §7.1)")
    hints = dict(zip(_HINTS, (login_hint, login_hint_token, id_token_hint), strict=True))
    given = [(name, value) for name, value in hints.items() if value is not None]
    if len(given) != 1 or not all(isinstance(v, str) and v for _, v in given):
        raise UsageError(
            "give exactly one of login_hint, login_hint_token, id_token_hint "
            "as a non-empty string (CIBA Core 1.0 §7.1)"
        )
    body: Params = [("scope", scope_value), (given[0][0], str(given[0][1]))]
    for name, value in (("binding_message", binding_message), ("user_code", user_code)):
        if value is not None:
            if not isinstance(value, str):
                raise UsageError(f"{name} must be a string")
            body.append((name, value))
    if requested_expiry is not None:
        if isinstance(requested_expiry, bool) or not isinstance(requested_expiry, int):
            raise UsageError("requested_expiry must be a positive int of seconds")
        if requested_expiry <= 0:
            raise UsageError("requested_expiry must be a positive int of seconds")
        body.append(("requested_expiry", str(requested_expiry)))
    return endpoint_request(
        server,
        client,
        endpoint="backchannel_authentication_endpoint",
        params=body,
        extra=params,
        reserved=frozenset(_HINTS),
        now=now,
    )


def process_backchannel_authentication_response(
    response: HttpResponse,
) -> BackchannelAuthentication:
    """Read the acknowledgement of a CIBA request (CIBA Core 1.0 §7.3, §13).

    Args:
        response: The backchannel authentication endpoint's answer.

    Returns:
        The authentication: ``expires_at`` is ``received_at + expires_in``,
        ``interval`` 5 seconds when absent (§7.3). Next: :func:`backchannel_poll_flow`.

    Raises:
        EndpointError: an error object (§13: ``unknown_user_id``,
            ``expired_login_hint_token``, ``access_denied`` ...) or an error status.
        MalformedResponseError: ``auth_req_id`` or ``expires_in`` missing or of
            the wrong type (named in ``field``).
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="backchannel authentication")
    data = require_object(response, data, endpoint="backchannel authentication")
    status = response.status
    auth_req_id = optional_str(data, "auth_req_id", status=status)
    if not auth_req_id:
        raise MalformedResponseError(
            "backchannel authentication response has no string member 'auth_req_id'",
            field="auth_req_id",
            status=status,
        )
    expires_in = optional_seconds(data, "expires_in", status=status)
    if expires_in is None:
        raise MalformedResponseError(
            "backchannel authentication response has no member 'expires_in'",
            field="expires_in",
            status=status,
        )
    interval = optional_seconds(data, "interval", status=status)
    received = response.received_at
    return BackchannelAuthentication(
        auth_req_id,
        expires_at=add_seconds(received, expires_in),
        interval=DEFAULT_CIBA_INTERVAL if interval is None else max(interval, CIBA_MIN_INTERVAL),
        issued_at=received,
        extra={k: v for k, v in data.items() if k not in _STANDARD},
    )


def ciba_grant_request(
    server: ServerMetadata,
    client: Client,
    auth: BackchannelAuthentication,
    *,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """One poll of the token endpoint (CIBA Core 1.0 §10.1).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client that made the backchannel request (same authentication).
        auth: From :func:`process_backchannel_authentication_response`.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters.

    Returns:
        The request. Next: :func:`process_backchannel_poll_response`.

    Raises:
        UsageError: ``auth`` is not a :class:`BackchannelAuthentication`.
    """
    if not isinstance(auth, BackchannelAuthentication):
        raise UsageError("auth must be the BackchannelAuthentication from the CIBA endpoint")
    body: Params = [("grant_type", CIBA_GRANT_TYPE), ("auth_req_id", auth.auth_req_id)]
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )


def process_backchannel_poll_response(response: HttpResponse) -> Token | Pending | SlowDown:
    """Read the answer to one poll (CIBA Core 1.0 §11).

    Returns:
        The :class:`Token` once the user approved; ``Pending`` while they have
        not; ``SlowDown`` when the server asks to poll less often ("the interval
        MUST be increased by at least 5 seconds").

    Raises:
        AccessDeniedError: the user refused (``access_denied``).
        BackchannelExpiredError: ``auth_req_id`` expired (``expired_token``).
        EndpointError: any other error (``transaction_failed``, ``invalid_grant``);
            MalformedResponseError: as ``process_token_response``.
    """
    return process_poll_response(response, expired=BackchannelExpiredError)


def _expired(status: int | None) -> BackchannelExpiredError:
    return BackchannelExpiredError("auth_req_id expired before the user approved", status=status)


def backchannel_poll_flow(
    server: ServerMetadata,
    client: Client,
    auth: BackchannelAuthentication,
    *,
    now: _dt.datetime | None = None,
    dpop_key: DPoPKey | None = None,
    dpop_nonce: str | None = None,
    dpop_nonces: DPoPNonces | None = None,
    require_dpop_binding: bool = False,
    **params: object,
) -> TimedFlow[Token]:
    """Poll the token endpoint until the user decides (CIBA Core 1.0 §7.3, §10.1, §11).

    The loop of :func:`oauth2_core.polling.poll_flow`, the device grant's:
    waits ``auth.interval`` (a :class:`~oauth2_core.Wait` step, whose answer
    dates the poll: a JWT client assertion, a DPoP proof) before each poll;
    every ``slow_down`` adds 5 seconds for good; a 429 or 503 with
    ``Retry-After`` waits that long (at least the interval). No poll is sent
    at or after ``auth.expires_at`` (checked against the last ``received_at``
    plus the wait, ``auth.issued_at`` before the first answer, and against the
    time the wait answers): the flow raises :class:`BackchannelExpiredError`
    instead. With ``dpop_key`` every poll carries a fresh DPoP proof (RFC 9449
    §5) and a ``use_dpop_nonce`` answer is retried at once, once (§8), by
    :func:`~oauth2_core.dpop.dpop_send_flow`.

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client that made the backchannel request.
        auth: From :func:`process_backchannel_authentication_response`.
        now: The current time, read only when ``auth`` has no ``issued_at``
            (built by hand, or saved without it): an expired one is then refused
            before any wait or poll. Each poll is dated by its ``Wait``.
        dpop_key: The DPoP private key, or ``None``.
        dpop_nonce: The authorization server's last DPoP nonce, if known.
        dpop_nonces: Your per-origin DPoP nonces (read and kept up to date).
        require_dpop_binding: Refuse a token that is not ``DPoP``-bound
            (RFC 9449 §5; FAPI 2.0 Security Profile §5.3.2.1). Needs ``dpop_key``.
        **params: Extra parameters of every poll.

    Returns:
        The token.

    Raises:
        AccessDeniedError, BackchannelExpiredError, EndpointError,
        MalformedResponseError: as :func:`process_backchannel_poll_response`.
        UsageError: a bad ``auth`` or key.
    """
    if not isinstance(auth, BackchannelAuthentication):
        raise UsageError("auth must be the BackchannelAuthentication from the CIBA endpoint")

    def build(when: _dt.datetime) -> HttpRequest:
        return ciba_grant_request(server, client, auth, now=when, **params)

    return (
        yield from poll_flow(
            build,
            process_backchannel_poll_response,
            interval=auth.interval,
            expires_at=auth.expires_at,
            # Saved or built without issued_at: the caller's now, so an expired
            # request is refused before the first wait, never polled.
            issued_at=auth.issued_at if auth.issued_at is not None else now,
            expired=_expired,
            dpop_key=dpop_key,
            dpop_nonce=dpop_nonce,
            dpop_nonces=dpop_nonces,
            require_dpop_binding=require_dpop_binding,
        )
    )
