"""Device polling (RFC 8628 §3.4, §3.5): ask the token endpoint until the user decides.

:func:`device_code_grant_request` / :func:`process_device_poll_response` are one
poll; :func:`device_poll_flow` polls at the server's pace, waiting with
:class:`~oauth2_core.Wait` steps. Outcomes the client can continue from are
values (:class:`Pending`, :class:`SlowDown`); the ones it cannot are errors
(:class:`AccessDeniedError`, :class:`DeviceCodeExpiredError`, any other
:class:`EndpointError`).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send, TimedFlow, wait_flow
from oauth2_core._params import Params
from oauth2_core._parse import add_seconds, parse_body, raise_for_error
from oauth2_core.client import Client
from oauth2_core.device_authorization import DeviceAuthorization
from oauth2_core.dpop import DPoPKey, dpop_send_flow
from oauth2_core.dpop_nonce import DPoPNonces
from oauth2_core.errors import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    EndpointError,
    UsageError,
)
from oauth2_core.grants import endpoint_request
from oauth2_core.jose import load_signing_key
from oauth2_core.metadata import ServerMetadata
from oauth2_core.token import Token, process_token_response

__all__ = [
    "DEVICE_CODE_GRANT_TYPE",
    "Pending",
    "SlowDown",
    "device_code_grant_request",
    "device_poll_flow",
    "process_device_poll_response",
]

#: The ``grant_type`` of the device code grant (RFC 8628 §3.4).
DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628 §3.5: on ``slow_down`` "the interval MUST be increased by 5 seconds".
SLOW_DOWN_INCREMENT = 5.0


@attrs.frozen
class Pending:
    """``authorization_pending``: the user has not finished yet; poll again (RFC 8628 §3.5)."""


@attrs.frozen
class SlowDown:
    """``slow_down``: poll again, with the interval raised for good (RFC 8628 §3.5).

    Attributes:
        increment: Seconds to add to the interval, for this and every later
            poll: 5, as the RFC says.
    """

    increment: float = SLOW_DOWN_INCREMENT


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
    dpop_nonces: DPoPNonces | None = None,
    **params: object,
) -> TimedFlow[Token]:
    """Poll the token endpoint until the user decides (RFC 8628 §3.4, §3.5).

    Waits ``auth.interval`` before the first poll and between polls; every
    ``slow_down`` adds 5 seconds to the interval for good. Each wait is a
    :class:`~oauth2_core.Wait` step: the driver sleeps and answers with the
    time, which dates the poll (a JWT client assertion, RFC 7523 §3; a DPoP
    proof's ``iat``). No poll is sent at or after ``auth.expires_at``: the
    flow raises :class:`DeviceCodeExpiredError` instead, without waiting when
    the last answer's ``received_at`` (``auth.issued_at`` before the first)
    plus the wait is already too late.

    A 429 or 503 answer with ``Retry-After`` is not fatal: the next poll waits
    that long (at least the interval), and the interval is unchanged.

    With ``dpop_key`` every poll carries a fresh DPoP proof (RFC 9449 §5: every
    token request), sent by :func:`~oauth2_core.dpop.dpop_send_flow`: the
    ``DPoP-Nonce`` of each answer goes into the next proof (§8.2), and a nonce
    challenge is not the user's decision: the poll is sent again at once with
    the new nonce, once; a second one, or one refusing the nonce just sent, is
    an :class:`EndpointError`, never a loop.

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client that started the device authorization.
        auth: From :func:`process_device_authorization_response`.
        now: Not needed any more (each poll is dated by its ``Wait``); kept
            for compatibility.
        dpop_key: The DPoP private key (``generate_dpop_key``), or ``None``.
        dpop_nonce: The authorization server's last DPoP nonce, if known.
        dpop_nonces: Your per-origin DPoP nonces (read and kept up to date).
        **params: Extra parameters of every poll.

    Returns:
        The token (``token_type`` ``DPoP`` when the server bound it to the key).
        Next: nothing; the flow is run by ``oauth2_transports.run`` / ``arun``.

    Raises:
        AccessDeniedError, DeviceCodeExpiredError, EndpointError,
        MalformedResponseError: as :func:`process_device_poll_response`.
        UsageError: a bad ``auth`` or key.
    """
    if not isinstance(auth, DeviceAuthorization):
        raise UsageError("auth must be the DeviceAuthorization from the device endpoint")
    signing = None if dpop_key is None else load_signing_key(dpop_key, purpose="the DPoP key")
    nonces = dpop_nonces if dpop_nonces is not None else DPoPNonces()
    token_endpoint = server.token_endpoint
    if signing is not None and token_endpoint and nonces.get(token_endpoint) is None:
        nonces.set(token_endpoint, dpop_nonce)  # the caller's last nonce, if any
    interval = auth.interval
    delay = interval
    last: _dt.datetime | None = auth.issued_at
    status: int | None = None

    def build(when: _dt.datetime) -> HttpRequest:
        # A fresh request each time: a JWT client assertion needs a new jti per use.
        return device_code_grant_request(server, client, auth, now=when, **params)

    while True:
        if last is not None and add_seconds(last, delay) >= auth.expires_at:
            raise _expired(status)  # too late already: do not wait for nothing
        sent_at = yield from wait_flow(delay)
        if sent_at >= auth.expires_at:
            raise _expired(status)
        if signing is None:
            response = yield from _send(build(sent_at))
        else:
            response, _ = yield from dpop_send_flow(build, signing, now=sent_at, nonces=nonces)
        last, status = response.received_at, response.status
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


def _send(request: HttpRequest) -> Flow[HttpResponse]:
    return (yield Send(request))
