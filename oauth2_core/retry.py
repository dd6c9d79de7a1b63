"""An opt-in retry policy for flows: backoff, ``Retry-After`` and an attempt bound.

:func:`retry_flow` runs a flow again when it failed in a way that may succeed
later, waiting between attempts. It is sans-IO like every flow: between
attempts it yields :class:`~oauth2_core.Wait`, the driver
(``oauth2_transports.run`` / ``arun``) does the sleeping and answers with the
time, and the next attempt is built after the wait.

What is retried (:meth:`RetryPolicy.is_retryable`):

* an :class:`~oauth2_core.EndpointError` whose ``retryable`` is true: HTTP 5xx,
  HTTP 429, ``server_error``, ``temporarily_unavailable`` (RFC 6749 §5.2 and
  §4.1.2.1), unless the error says the grant is gone (``invalid_grant``, ...);
* a network failure. The core cannot import ``oauth2_transports.TransportError``,
  so the rule is structural: any :class:`~oauth2_core.OAuth2Error` that is
  neither a :class:`~oauth2_core.ResponseError` (the server answered),
  a :class:`~oauth2_core.UsageError` (the caller's mistake) nor a
  :class:`~oauth2_core.CallbackError` (the browser redirect) is a failure to
  exchange the request, and is retried. The drivers throw transport errors into
  the flow for exactly this purpose.

Nothing else is retried: not ``invalid_grant``, not a 4xx other than 429, not a
malformed answer, not an exception from outside the library.

Only retry requests that can be sent twice. A client-credentials or refresh
request can; an authorization-code exchange cannot: the first attempt may have
reached the server and consumed the single-use code (RFC 6749 §4.1.2, §10.5),
and a second redemption may revoke every token issued from it.

A request carrying a time-bound credential (a JWT client assertion, ``exp`` =
``iat`` + 60 s; a DPoP proof, whose ``iat`` servers accept within a short
window) must be dated when it is *sent*: :func:`retry_dated_flow` hands each
attempt that time (the ``now`` given for the first, the driver's answer to
the ``Wait`` for the others). :func:`retry_flow` builds each attempt after the
wait, so a ``make_flow`` that reads a clock dates it right as well.
"""

from __future__ import annotations

import datetime as _dt
import math
import secrets
from collections.abc import Callable
from functools import partial
from typing import TypeVar, cast

import attrs

from oauth2_core._http import Flow, TimedFlow, wait_flow
from oauth2_core.errors import (
    CallbackError,
    EndpointError,
    OAuth2Error,
    ResponseError,
    UsageError,
)

__all__ = ["RetryPolicy", "retry_dated_flow", "retry_flow"]

T = TypeVar("T")


def _count(_inst: object, attr: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"RetryPolicy.{attr.name} must be an int of at least 1")


def _seconds(_inst: object, attr: attrs.Attribute[float], value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise UsageError(f"RetryPolicy.{attr.name} must be a finite, non-negative number")


def _multiplier(_inst: object, _attr: object, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 1
    ):
        raise UsageError("RetryPolicy.multiplier must be a finite number of at least 1")


def _fraction(_inst: object, _attr: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UsageError("RetryPolicy.jitter must be a number between 0 and 1")


def _flag(_inst: object, attr: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise UsageError(f"RetryPolicy.{attr.name} must be a bool")


def _system_random() -> float:
    # Jitter needs no secrecy; SystemRandom just avoids any shared, seedable state.
    return secrets.SystemRandom().random()


@attrs.frozen
class RetryPolicy:
    """How often and how patiently :func:`retry_flow` tries again.

    The delay before retry ``n`` (1 for the second attempt) is
    ``min(max_delay, initial_delay * multiplier ** (n - 1))``, shortened by up
    to ``jitter`` of itself at random (``jitter=1`` is "full jitter": anywhere
    between 0 and the computed delay). When the server sent ``Retry-After``
    (RFC 9110 §10.2.3, on a 429 or 503) and ``honour_retry_after`` is set, its
    value, capped at ``max_retry_after``, replaces the computed delay.

    Args:
        attempts: Attempts in total, the first included (1 never retries).
        initial_delay: Seconds before the first retry.
        max_delay: The longest computed backoff, in seconds.
        multiplier: Growth of the delay from one retry to the next (at least 1).
        jitter: The fraction of each computed delay left to chance, 0 to 1.
        honour_retry_after: Wait as long as the server's ``Retry-After`` says.
        max_retry_after: The longest ``Retry-After`` honoured, in seconds.

    Raises:
        UsageError: a value out of range.
    """

    attempts: int = attrs.field(default=3, validator=_count)
    initial_delay: float = attrs.field(default=0.5, validator=_seconds)
    max_delay: float = attrs.field(default=30.0, validator=_seconds)
    multiplier: float = attrs.field(default=2.0, validator=_multiplier)
    jitter: float = attrs.field(default=0.0, validator=_fraction)
    honour_retry_after: bool = attrs.field(default=True, validator=_flag)
    max_retry_after: float = attrs.field(default=60.0, validator=_seconds)

    def is_retryable(self, error: BaseException) -> bool:
        """Whether ``error`` may go away if the same request is sent again later.

        Args:
            error: What the attempt raised.

        Returns:
            True for a retryable :class:`~oauth2_core.EndpointError` (5xx, 429,
            ``server_error``, ``temporarily_unavailable``; never one that asks
            to authorize again) and for a network failure (an
            :class:`~oauth2_core.OAuth2Error` that is not a ``ResponseError``,
            ``UsageError`` or ``CallbackError``); false for anything else.
        """
        if isinstance(error, EndpointError):
            return error.retryable and not error.reauthorize
        if isinstance(error, (ResponseError, UsageError, CallbackError)):
            return False
        return isinstance(error, OAuth2Error)

    def delay(self, retry: int, error: BaseException | None = None, *, draw: float = 1.0) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the second attempt).

        Args:
            retry: Which retry this is, from 1.
            error: The error that ended the previous attempt; its ``retry_after``
                is honoured as the class describes.
            draw: A number in ``[0, 1]`` that picks the jitter; 1 means none.

        Returns:
            A delay between 0 and ``max(max_delay, max_retry_after)``.
        """
        if self.honour_retry_after and isinstance(error, EndpointError):
            retry_after = error.retry_after
            if retry_after is not None and math.isfinite(retry_after):
                return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.initial_delay, self.max_delay)
        for _ in range(max(retry, 1) - 1):
            if backoff >= self.max_delay or self.multiplier == 1:
                break  # saturated: a huge ``retry`` must not loop for nothing
            # Multiplying step by step saturates at max_delay; ** could overflow.
            backoff = min(backoff * self.multiplier, self.max_delay)
        draw = min(max(draw, 0.0), 1.0) if math.isfinite(draw) else 1.0
        return backoff * (1.0 - self.jitter + self.jitter * draw)


def retry_flow(
    make_flow: Callable[[], Flow[T] | TimedFlow[T]] | Callable[[float], Flow[T] | TimedFlow[T]],
    policy: RetryPolicy,
    *,
    random: Callable[[], float] | None = None,
    wait_aware: bool = False,
) -> TimedFlow[T]:
    """Run a fresh ``make_flow()`` until it succeeds, for at most ``policy.attempts`` attempts.

    Each attempt is a new flow, so request builders run again (a new ``jti``
    for a client assertion, a new DPoP proof). Between attempts the flow
    yields ``Wait(delay)`` (see :class:`RetryPolicy`) and calls ``make_flow``
    once the driver has waited. The error of the last attempt, or the first
    error that is not retryable, propagates unchanged.

    Never wrap an authorization-code exchange: the code is single-use (RFC 6749
    §4.1.2) and the first attempt may have consumed it.

    Args:
        make_flow: Builds the flow of one attempt, e.g.
            ``lambda: token_flow(client_credentials_grant_request(server, client))``.
            For requests dated with ``now`` use :func:`retry_dated_flow`.
        policy: How often and how long to wait.
        random: Returns a number in ``[0, 1)`` for the jitter (inject for
            deterministic tests); default: the system's random source.
        wait_aware: Deprecated, kept for compatibility: call
            ``make_flow(0.0)`` instead of ``make_flow()``. Each attempt is
            built after its wait, so the wait still ahead of it is always 0.

    Returns:
        The flow. Next: ``oauth2_transports.run(flow, transport)``.

    Raises:
        UsageError: ``make_flow`` is not callable or ``policy`` not a RetryPolicy.
    """
    if not callable(make_flow):
        raise UsageError("retry_flow needs a callable that builds a new flow per attempt")
    if not isinstance(policy, RetryPolicy):
        raise UsageError("retry_flow needs an oauth2_core.RetryPolicy")
    if wait_aware:
        aware = cast("Callable[[float], Flow[T] | TimedFlow[T]]", make_flow)
        return _retrying(lambda _when: aware(0.0), policy, random, first=lambda: aware(0.0))
    plain = cast("Callable[[], Flow[T] | TimedFlow[T]]", make_flow)
    return _retrying(lambda _when: plain(), policy, random, first=plain)


def retry_dated_flow(
    make_flow: Callable[[_dt.datetime], Flow[T] | TimedFlow[T]],
    policy: RetryPolicy,
    *,
    now: _dt.datetime,
    random: Callable[[], float] | None = None,
) -> TimedFlow[T]:
    """:func:`retry_flow` for attempts dated when they are sent.

    ``make_flow(when)`` builds one attempt: the first with ``now``, each
    later one with the time the driver answers to the backoff's ``Wait``, so a
    JWT client assertion or a DPoP proof is never older than its send.

    Args:
        make_flow: ``when -> flow``, e.g. ``lambda when: token_flow(
            client_credentials_grant_request(server, client, now=when))``.
        policy: How often and how long to wait.
        now: When the first attempt is sent, an aware datetime.
        random: As :func:`retry_flow`.

    Returns:
        The flow. Next: ``oauth2_transports.run(flow, transport)``.

    Raises:
        UsageError: ``make_flow`` is not callable or ``policy`` not a RetryPolicy.
    """
    if not callable(make_flow):
        raise UsageError("retry_dated_flow needs a callable that builds a new flow per attempt")
    if not isinstance(policy, RetryPolicy):
        raise UsageError("retry_dated_flow needs an oauth2_core.RetryPolicy")
    return _retrying(make_flow, policy, random, first=lambda: make_flow(now))


def _retrying(
    make_flow: Callable[[_dt.datetime], Flow[T] | TimedFlow[T]],
    policy: RetryPolicy,
    random: Callable[[], float] | None,
    *,
    first: Callable[[], Flow[T] | TimedFlow[T]],
) -> TimedFlow[T]:
    draw = random if random is not None else _system_random
    attempt = 1
    make = first
    while True:
        try:
            return (yield from make())
        except OAuth2Error as exc:
            if attempt >= policy.attempts or not policy.is_retryable(exc):
                raise
            jitter_draw = draw() if policy.jitter > 0 else 1.0
            delay = policy.delay(attempt, exc, draw=jitter_draw)
        attempt += 1
        # Outside the except block: the next attempt's errors do not chain this one.
        when = yield from wait_flow(delay)
        make = partial(make_flow, when)
