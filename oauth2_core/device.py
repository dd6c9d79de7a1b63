"""The device authorization grant (RFC 8628).

Steps: :func:`device_authorization_request` /
:func:`process_device_authorization_response` (§3.1, §3.2) give a
:class:`DeviceAuthorization`; show ``user_code`` and ``verification_uri`` to the
user; then poll the token endpoint with :func:`device_code_grant_request` /
:func:`process_device_poll_response` (§3.4, §3.5), or let
:func:`device_poll_flow` do the polling.

Polling outcomes the client can continue from are values (:class:`Pending`,
:class:`SlowDown`); the ones it cannot are errors (:class:`AccessDeniedError`,
:class:`DeviceCodeExpiredError`, any other :class:`EndpointError`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from oauth2_core._device_values import (
    _STANDARD,
    DEFAULT_INTERVAL,
    DEVICE_CODE_GRANT_TYPE,
    MIN_INTERVAL,
    SLOW_DOWN_INCREMENT,  # noqa: F401 - kept importable from here
    DeviceAuthorization,
    Pending,
    SlowDown,
)
from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send
from oauth2_core._params import Params, scope_string
from oauth2_core._parse import (
    add_seconds,
    finite_number,
    optional_str,
    parse_body,
    raise_for_error,
    require_object,
)
from oauth2_core.client import Client
from oauth2_core.dpop import DPoPKey, _latest_nonce, dpop_nonce_challenge, dpop_request
from oauth2_core.errors import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    EndpointError,
    MalformedResponseError,
    UsageError,
)
from oauth2_core.grants import endpoint_request
from oauth2_core.jose import load_signing_key
from oauth2_core.metadata import ServerMetadata
from oauth2_core.token import MAX_EXPIRES_IN, Token, process_token_response

__all__ = [
    "DEVICE_CODE_GRANT_TYPE",
    "DeviceAuthorization",
    "Pending",
    "SlowDown",
    "device_authorization_request",
    "device_code_grant_request",
    "device_poll_flow",
    "process_device_authorization_response",
    "process_device_poll_response",
]


def device_authorization_request(
    server: ServerMetadata,
    client: Client,
    *,
    scope: object = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Start a device authorization (RFC 8628 §3.1).

    The client authenticates as at the token endpoint (a public client sends
    its ``client_id``).

    Args:
        server: Server metadata with ``device_authorization_endpoint``.
        client: The client.
        scope: A string or an iterable of strings.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters (``resource`` ...); a list repeats the parameter.

    Returns:
        The request. Next: :func:`process_device_authorization_response`.

    Raises:
        UsageError: no device authorization endpoint, plain http, a bad parameter.
    """
    body: Params = []
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    return endpoint_request(
        server,
        client,
        endpoint="device_authorization_endpoint",
        params=body,
        extra=params,
        now=now,
    )


def _required_str(data: Mapping[str, object], name: str, status: int) -> str:
    value = optional_str(data, name, status=status)
    if not value:
        raise MalformedResponseError(
            f"device authorization response has no string member {name!r}",
            field=name,
            status=status,
        )
    return value


def _seconds(data: Mapping[str, object], name: str, status: int) -> float | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    seconds = finite_number(value)
    if seconds is None:
        raise MalformedResponseError(
            f"member {name!r} must be a number of seconds", field=name, status=status
        )
    return max(min(seconds, float(MAX_EXPIRES_IN)), -float(MAX_EXPIRES_IN))


def process_device_authorization_response(response: HttpResponse) -> DeviceAuthorization:
    """Read a device authorization answer (RFC 8628 §3.2).

    Args:
        response: The device authorization endpoint's answer.

    Returns:
        The device authorization; ``expires_at`` is ``received_at + expires_in``.
        Next: show ``user_code`` and ``verification_uri``, then
        :func:`device_poll_flow` (or :func:`device_code_grant_request`).

    Raises:
        EndpointError: an error object or an error status.
        MalformedResponseError: a required member missing or of the wrong type
            (``expires_in`` is required), named in ``field``.
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="device authorization")
    data = require_object(response, data, endpoint="device authorization")
    status = response.status
    device_code = _required_str(data, "device_code", status)
    user_code = _required_str(data, "user_code", status)
    if data.get("verification_uri") is None and data.get("verification_url") is not None:
        # Google's device endpoint answers `verification_url` (an early draft's name).
        verification_uri = _required_str(data, "verification_url", status)
    else:
        verification_uri = _required_str(data, "verification_uri", status)
    complete = optional_str(data, "verification_uri_complete", status=status) or None
    expires_in = _seconds(data, "expires_in", status)
    if expires_in is None:
        raise MalformedResponseError(
            "device authorization response has no member 'expires_in'",
            field="expires_in",
            status=status,
        )
    interval = _seconds(data, "interval", status)
    received = response.received_at
    return DeviceAuthorization(
        device_code,
        user_code,
        verification_uri,
        verification_uri_complete=complete,
        expires_at=add_seconds(received, expires_in),
        interval=DEFAULT_INTERVAL if interval is None else max(interval, MIN_INTERVAL),
        issued_at=received,
        extra={k: v for k, v in data.items() if k not in _STANDARD},
    )


def device_code_grant_request(
    server: ServerMetadata,
    client: Client,
    auth: DeviceAuthorization,
    *,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """One poll of the token endpoint (RFC 8628 §3.4).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client that started the device authorization.
        auth: From :func:`process_device_authorization_response`.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters.

    Returns:
        The request. Next: :func:`process_device_poll_response`.
    """
    if not isinstance(auth, DeviceAuthorization):
        raise UsageError("auth must be the DeviceAuthorization from the device endpoint")
    body: Params = [("grant_type", DEVICE_CODE_GRANT_TYPE), ("device_code", auth.device_code)]
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )


def process_device_poll_response(response: HttpResponse) -> Token | Pending | SlowDown:
    """Read the answer to one poll (RFC 8628 §3.5).

    Returns:
        The :class:`Token` once the user approved; :class:`Pending` while they
        have not; :class:`SlowDown` when the server asks to poll less often.

    Raises:
        AccessDeniedError: the user refused (``access_denied``).
        DeviceCodeExpiredError: the device code expired (``expired_token``).
        EndpointError: any other error; MalformedResponseError: as
            ``process_token_response``.
    """
    data = parse_body(response)
    try:
        raise_for_error(response, data, endpoint="token")
    except EndpointError as exc:
        if exc.error == "authorization_pending":
            return Pending()
        if exc.error == "slow_down":
            return SlowDown()
        if exc.error == "access_denied":
            raise AccessDeniedError(
                str(exc), error=exc.error, status=response.status, **_details(exc)
            ) from None
        if exc.error == "expired_token":
            raise DeviceCodeExpiredError(
                str(exc), error=exc.error, status=response.status, **_details(exc)
            ) from None
        raise
    return process_token_response(response)


def _details(exc: EndpointError) -> dict[str, Any]:
    return {
        "error_description": exc.error_description,
        "error_uri": exc.error_uri,
        "retry_after": exc.retry_after,
    }


def _expired(status: int | None) -> DeviceCodeExpiredError:
    return DeviceCodeExpiredError(
        "device code expired before the user approved", error="expired_token", status=status
    )


def device_poll_flow(
    server: ServerMetadata,
    client: Client,
    auth: DeviceAuthorization,
    *,
    now: _dt.datetime | None = None,
    dpop_key: DPoPKey | None = None,
    dpop_nonce: str | None = None,
    **params: object,
) -> Flow[Token]:
    """Poll the token endpoint until the user decides (RFC 8628 §3.4, §3.5).

    Waits ``auth.interval`` before the first poll and between polls; every
    ``slow_down`` adds 5 seconds to the interval for good. Time is read only
    from responses: no poll is sent whose time (last ``received_at`` plus the
    delay; ``auth.issued_at`` before the first answer) would be at or after
    ``auth.expires_at`` — the flow raises :class:`DeviceCodeExpiredError` instead.

    A 429 or 503 answer with ``Retry-After`` is not fatal: the next poll waits
    that long (at least the interval), and the interval is unchanged.

    Each poll is dated (for a JWT client assertion, RFC 7523 §3, and a DPoP
    proof's ``iat``) with its send time: the last ``received_at``
    (``auth.issued_at`` at first, else ``now``) plus the delay.

    With ``dpop_key`` every poll carries a fresh DPoP proof (RFC 9449 §5: every
    token request). The ``DPoP-Nonce`` of each answer goes into the next proof
    (§8.2); a ``use_dpop_nonce`` answer is not the user's decision: the poll is
    sent again at once with the new nonce — once in a row; a second one, or one
    refusing the nonce just sent, is an :class:`EndpointError`, never a loop.

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client that started the device authorization.
        auth: From :func:`process_device_authorization_response`.
        now: When polling starts; needed only for a ``DeviceAuthorization``
            built by hand (without ``issued_at``) and JWT client auth or DPoP.
        dpop_key: The DPoP private key (``generate_dpop_key``), or ``None``.
        dpop_nonce: The authorization server's last DPoP nonce, if known.
        **params: Extra parameters of every poll.

    Returns:
        The token (``token_type`` ``DPoP`` when the server bound it to the key).

    Raises:
        AccessDeniedError, DeviceCodeExpiredError, EndpointError,
        MalformedResponseError: as :func:`process_device_poll_response`.
        UsageError: a bad ``auth`` or key; DPoP without a time to date proofs.
    """
    if not isinstance(auth, DeviceAuthorization):
        raise UsageError("auth must be the DeviceAuthorization from the device endpoint")
    signing = None if dpop_key is None else load_signing_key(dpop_key, purpose="the DPoP key")
    if signing is not None and auth.issued_at is None and now is None:
        raise UsageError("DPoP proofs need the send time: pass now= (auth has no issued_at)")
    interval = auth.interval
    delay = interval
    last: _dt.datetime | None = auth.issued_at
    status: int | None = None
    nonce = dpop_nonce
    nonce_retry = False  # whether this poll is the immediate use_dpop_nonce one
    while True:
        if last is not None and add_seconds(last, delay) >= auth.expires_at:
            raise _expired(status)
        # A fresh request each time: a JWT client assertion needs a new jti per use.
        base = last if last is not None else now
        sent_at = add_seconds(base, delay) if base is not None else None
        request = device_code_grant_request(server, client, auth, now=sent_at, **params)
        sent_nonce = nonce
        if signing is not None and sent_at is not None:
            request = dpop_request(request, signing, now=sent_at, nonce=nonce)
        response = yield Send(request, delay=delay)
        last, status = response.received_at, response.status
        if signing is not None:
            # RFC 9449 §8.2: any answer may carry the nonce for the next proof.
            nonce = _latest_nonce(response, nonce)
            challenge = dpop_nonce_challenge(response)
            if challenge is not None and challenge != sent_nonce and not nonce_retry:
                nonce_retry, delay = True, 0.0
                continue
        nonce_retry = False
        try:
            outcome = process_device_poll_response(response)
        except (AccessDeniedError, DeviceCodeExpiredError):
            raise
        except EndpointError as exc:
            if exc.status in (429, 503) and exc.retry_after is not None:
                delay = max(interval, exc.retry_after)
                continue
            raise
        if isinstance(outcome, Token):
            return outcome
        if isinstance(outcome, SlowDown):
            interval += outcome.increment
        delay = interval
