"""Polling the token endpoint until a user decides: the one loop of both polling grants.

The device authorization grant (RFC 8628 §3.4, §3.5) and CIBA poll mode (OpenID
Connect CIBA Core 1.0 §7.3, §10.1, §11) poll the token endpoint the same way:

* wait ``interval`` seconds (5 when the server gives none) before each poll;
* ``authorization_pending``: poll again; ``slow_down``: poll again with the
  interval raised by 5 seconds for good (RFC 8628 §3.5: "the interval MUST be
  increased by 5 seconds for this and all subsequent requests"; CIBA §11 "by
  at least 5 seconds");
* ``access_denied`` and ``expired_token`` end the polling (errors), as does
  any other error;
* no poll at or after the grant's ``expires_at``.

:func:`process_poll_response` reads one answer and :func:`poll_flow` runs the
loop; ``device_poll_flow`` and ``backchannel_poll_flow`` give it their request
builder and their expiry error, nothing else. Both are helpers for those two
modules (public inside the package, not re-exported at the top level).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

import attrs

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send, TimedFlow, wait_flow
from oauth2_core._parse import add_seconds, parse_body, raise_for_error
from oauth2_core.dpop import DPoPKey, dpop_send_flow
from oauth2_core.dpop_nonce import DPoPNonces
from oauth2_core.errors import AccessDeniedError, DeviceCodeExpiredError, EndpointError
from oauth2_core.fapi import check_dpop_binding, dpop_binding_required
from oauth2_core.jose import load_signing_key
from oauth2_core.token import Token, process_token_response

__all__ = [
    "SLOW_DOWN_INCREMENT",
    "Pending",
    "SlowDown",
    "poll_flow",
    "process_poll_response",
]

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


def process_poll_response(
    response: HttpResponse, *, expired: type[DeviceCodeExpiredError] = DeviceCodeExpiredError
) -> Token | Pending | SlowDown:
    """Read the answer to one poll (RFC 8628 §3.5, CIBA Core 1.0 §11).

    Args:
        response: The token endpoint's answer.
        expired: The error an ``expired_token`` answer becomes
            (``BackchannelExpiredError`` for CIBA).

    Returns:
        The :class:`Token` once the user approved; :class:`Pending` while they
        have not; :class:`SlowDown` when the server asks to poll less often.

    Raises:
        AccessDeniedError: the user refused (``access_denied``).
        DeviceCodeExpiredError: ``expired`` on ``expired_token``.
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
        details: dict[str, Any] = {
            "error_description": exc.error_description,
            "error_uri": exc.error_uri,
            "retry_after": exc.retry_after,
        }
        if exc.error == "access_denied":
            raise AccessDeniedError(
                str(exc), error=exc.error, status=response.status, **details
            ) from None
        if exc.error == "expired_token":
            raise expired(str(exc), error=exc.error, status=response.status, **details) from None
        raise
    return process_token_response(response)


def poll_flow(
    build: Callable[[_dt.datetime], HttpRequest],
    process: Callable[[HttpResponse], Token | Pending | SlowDown],
    *,
    interval: float,
    expires_at: _dt.datetime,
    issued_at: _dt.datetime | None,
    expired: Callable[[int | None], DeviceCodeExpiredError],
    dpop_key: DPoPKey | None = None,
    dpop_nonce: str | None = None,
    dpop_nonces: DPoPNonces | None = None,
    require_dpop_binding: bool = False,
) -> TimedFlow[Token]:
    """Poll until the user decides (RFC 8628 §3.4, §3.5; CIBA Core 1.0 §7.3, §10.1, §11).

    Waits ``interval`` before the first poll and between polls; every
    ``slow_down`` adds 5 seconds to the interval for good. Each wait is a
    :class:`~oauth2_core.Wait` step: the driver sleeps and answers with the
    time, which dates the poll (``build(time)``: a JWT client assertion,
    RFC 7523 §3; a DPoP proof's ``iat``). No poll is sent at or after
    ``expires_at``: the flow raises ``expired(last status)`` instead, without
    waiting when the last answer's ``received_at`` (``issued_at`` before the
    first) plus the wait is already too late.

    A 429 or 503 answer with ``Retry-After`` is not fatal: the next poll waits
    that long (at least the interval), and the interval is unchanged.

    With ``dpop_key`` every poll carries a fresh DPoP proof (RFC 9449 §5: every
    token request), sent by :func:`~oauth2_core.dpop.dpop_send_flow`: the
    ``DPoP-Nonce`` of each answer goes into the next proof (§8.2), and a nonce
    challenge is not the user's decision: the poll is sent again at once with
    the new nonce, once; a second one, or one refusing the nonce just sent, is
    an :class:`EndpointError`, never a loop. With ``require_dpop_binding``
    the token the user's approval brings must be ``DPoP``-bound
    (:func:`~oauth2_core.fapi.check_dpop_binding`; RFC 9449 §5 lets a server
    answer ``Bearer``, FAPI 2.0 Security Profile §5.3.2.1 does not), checked
    before it is returned.

    Args:
        build: The poll request for a send time (a fresh one each poll: a JWT
            client assertion needs a new ``jti`` per use).
        process: Reads one answer (:func:`process_poll_response` with the
            grant's expiry error).
        interval: Seconds between polls, as the server gave them.
        expires_at: When the grant expires.
        issued_at: When the grant was issued (``received_at``), or ``None``.
        expired: Makes the error raised when the next poll would be too late,
            from the last answer's status (``None`` before any).
        dpop_key: The DPoP private key, or ``None``.
        dpop_nonce: The server's last DPoP nonce, used when ``dpop_nonces``
            has none for the token endpoint.
        dpop_nonces: Per-origin DPoP nonces, read and kept up to date.
        require_dpop_binding: Refuse a token that is not ``DPoP``-bound.
            Needs ``dpop_key``.

    Returns:
        The token. Next: nothing; run the flow with ``oauth2_transports.run`` / ``arun``.

    Raises:
        AccessDeniedError, DeviceCodeExpiredError, EndpointError,
        MalformedResponseError: as ``process``.
        TokenBindingError: ``require_dpop_binding`` and the token is not DPoP-bound.
        UsageError: a bad key; ``require_dpop_binding`` without a key.
    """
    # Refused before the first wait: nothing would bind the token.
    bound = dpop_binding_required(
        profile=None, dpop_key=dpop_key, require_dpop_binding=require_dpop_binding
    )
    signing = None if dpop_key is None else load_signing_key(dpop_key, purpose="the DPoP key")
    nonces = dpop_nonces if dpop_nonces is not None else DPoPNonces()
    delay = interval
    last = issued_at
    status: int | None = None
    while True:
        if last is not None and add_seconds(last, delay) >= expires_at:
            raise expired(status)  # too late already: do not wait for nothing
        sent_at = yield from wait_flow(delay)
        if sent_at >= expires_at:
            raise expired(status)
        if signing is None:
            response = yield from _send(build(sent_at))
        else:
            response, _ = yield from dpop_send_flow(
                build, signing, now=sent_at, nonce=dpop_nonce, nonces=nonces
            )
        last, status = response.received_at, response.status
        try:
            outcome = process(response)
        except (AccessDeniedError, DeviceCodeExpiredError):
            raise
        except EndpointError as exc:
            if exc.status in (429, 503) and exc.retry_after is not None:
                delay = max(interval, exc.retry_after)
                continue
            raise
        if isinstance(outcome, Token):
            return check_dpop_binding(outcome, status=response.status) if bound else outcome
        if isinstance(outcome, SlowDown):
            interval += outcome.increment
        delay = interval


def _send(request: HttpRequest) -> Flow[HttpResponse]:
    return (yield Send(request))
