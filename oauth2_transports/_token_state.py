"""The state and decisions both token managers share (no IO here).

A token is in one of three phases (docs/token-lifecycle.md draws them):

* **fresh** -- more than the margin (``leeway``, at most half its lifetime) before
  ``expires_at``: every caller gets it. This is the lock-free fast path: one clock
  read and one comparison against ``fresh_until``, computed once when the token
  arrived.
* **refresh window** -- within the margin, not expired: exactly one caller leads
  a refresh (RFC 6749 §6, §4.4); every other caller gets the current, still valid
  token at once (stale-while-revalidate). A failed refresh here fails nobody: the
  token stays in use and the next attempt waits :func:`retry_delay` (1 s, doubling
  to 60 s). With a cross-process lock that cannot be taken at once, the manager
  adopts a newer stored token or keeps its own and looks again
  :data:`LOCK_BUSY_RETRY` seconds later, never queueing on the lock.
* **expired** (or invalidated) -- callers wait for one refresh and get its result,
  the new token or the same error. After a failed one, the next attempt waits
  :func:`retry_delay` as well: until then a caller gets the failure again
  (:meth:`TokenState._gated_failure`) without a request, unless the store holds
  a newer token; a down or refusing server is not asked once per call.

:class:`TokenState` also applies the refetch-rate bound (``min_refresh_interval``):
a token the token endpoint issued moments ago is handed out again, even expired
(``expires_in`` <= 0) or refused by a resource server, rather than replaced by a
request per call. :class:`~oauth2_transports.TokenManager` and
:class:`~oauth2_transports.AsyncTokenManager` add the IO.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import threading
from collections.abc import Callable

from oauth2_core import Token, UsageError
from oauth2_core.token import UnsupportedTokenTypeError, token_scheme
from oauth2_transports._clock import Clock, utc_now
from oauth2_transports._lease import DEFAULT_REQUEST_DEADLINE
from oauth2_transports._lifecycle import (
    Flight,
    ReauthorizationRequiredError,
    TokenRefreshError,
    refresh_failure,
)
from oauth2_transports.store import TokenStore

__all__ = [
    "LOCK_BUSY_RETRY",
    "MIN_REFRESH_INTERVAL",
    "TokenState",
    "check_seconds",
    "retry_delay",
    "warn_unpresentable",
]

logger = logging.getLogger("oauth2_transports")

#: Default of ``min_refresh_interval``: at most one token request per 10 s per manager
#: for a server that issues unusable tokens. Tokens living 20 s or more (the leeway is
#: at most half the lifetime) are never held back by it.
MIN_REFRESH_INTERVAL = 10.0
#: Seconds before a manager in the refresh window tries the cross-process lock again
#: after finding it held (another process is refreshing) and nothing newer stored.
LOCK_BUSY_RETRY = 0.5
#: The first and the longest wait before retrying a failed refresh-window refresh.
FIRST_RETRY, LAST_RETRY = 1.0, 60.0

_UTC = _dt.timezone.utc
_NEVER = _dt.datetime.min.replace(tzinfo=_UTC)  # fresh until: not even now
_ALWAYS = _dt.datetime.max.replace(tzinfo=_UTC)  # no expires_at: fresh until refused


def retry_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failed refresh in a row (1, 2, 4, ... 60)."""
    return min(FIRST_RETRY * 2.0 ** max(failures - 1, 0), LAST_RETRY)


def _plus(when: _dt.datetime, seconds: float) -> _dt.datetime:
    try:
        return when + _dt.timedelta(seconds=seconds)
    except OverflowError:
        return _ALWAYS


def _minus(when: _dt.datetime, seconds: float) -> _dt.datetime:
    try:
        return when - _dt.timedelta(seconds=seconds)
    except OverflowError:
        return _NEVER


def check_seconds(name: str, value: object) -> None:
    """Refuse (UsageError) a duration that is not a finite, non-negative number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number of seconds")
    if not (math.isfinite(value) and value >= 0):
        raise UsageError(f"{name} must be a finite, non-negative number of seconds")


def warn_unpresentable(token: Token) -> None:
    """Say it when the server issued a token the auth hooks will refuse to send."""
    try:
        token_scheme(token)
    except UnsupportedTokenTypeError as exc:
        logger.warning("the token endpoint issued a token that cannot be used: %s", exc)


class TokenState:
    """The state and the decisions both managers share; no IO here."""

    def __init__(
        self,
        token: Token | None,
        *,
        on_token: Callable[[Token], object] | None,
        leeway: float,
        lock: object,
        store: TokenStore | None,
        scope: object,
        clock: Clock,
        params: dict[str, object],
        min_refresh_interval: float = MIN_REFRESH_INTERVAL,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
    ) -> None:
        if token is not None and not isinstance(token, Token):
            raise UsageError("token must be an oauth2_core.Token or None")
        check_seconds("leeway", leeway)
        check_seconds("min_refresh_interval", min_refresh_interval)
        check_seconds("request_deadline", request_deadline)
        if not request_deadline > 0:
            raise UsageError("request_deadline must be positive")
        if on_token is not None and not callable(on_token):
            raise UsageError("on_token must be callable")
        self._on_token = on_token
        self._leeway = float(leeway)
        self._min_interval = float(min_refresh_interval)
        self._request_deadline = float(request_deadline)
        self._store = store
        # A store may carry its cross-process lock (FileTokenStore(path, lock=...)).
        self._xlock = lock if lock is not None else getattr(store, "lock", None)
        self._scope = scope
        self._params = params
        self._clock = clock
        # RFC 6749 §4.4: no token to start from, or a scope to ask for, means this
        # manager fetches its own tokens with the client credentials grant.
        self._fetch_anew = token is None or scope is not None or bool(params)
        self._state = threading.Lock()
        self._flight: Flight | None = None
        self._rejected: str | None = None  # the access token last invalidated
        self._issued: str | None = None  # the access token the token endpoint last gave us
        self._held_back: str | None = None  # the access token last served by the bound
        self._failures = 0  # refreshes failed in a row
        self._retry_at = _NEVER  # no refresh-window refresh before this
        # The last failed refresh of an expired token and when the next may start.
        self._failed: tuple[TokenRefreshError, _dt.datetime, _dt.datetime] | None = None
        if token is None and store is not None:
            token = store.load()
        self._token = token
        self._obtained_at = self._now() if token is not None else None
        #: ``(token, fresh until)``, replaced as a whole (one reference: readers
        #: without the lock see either the old pair or the new one).
        self._current: tuple[Token | None, _dt.datetime] = (None, _NEVER)
        self._publish()

    def _now(self) -> _dt.datetime:
        now = self._clock()
        if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
            raise UsageError("the manager's clock must return a timezone-aware datetime")
        return now

    def _margin(self, token: Token, obtained_at: _dt.datetime) -> float:
        """Seconds before ``expires_at`` at which ``token`` stops being fresh.

        The margin never exceeds half the token's lifetime: a token issued for
        59 s is not "expired on arrival" with a 60 s leeway.
        """
        assert token.expires_at is not None
        lifetime = max((token.expires_at - obtained_at).total_seconds(), 0.0)
        return min(self._leeway, lifetime / 2)

    def _publish(self) -> None:
        """Recompute what the lock-free fast path reads (after any change of state)."""
        token, obtained_at = self._token, self._obtained_at
        if token is None or obtained_at is None or token.access_token == self._rejected:
            self._current = (token, _NEVER)
        elif token.expires_at is None:
            self._current = (token, _ALWAYS)
        else:
            self._current = (token, _minus(token.expires_at, self._margin(token, obtained_at)))

    def _fresh(self, token: Token, obtained_at: _dt.datetime, now: _dt.datetime) -> bool:
        if token.access_token == self._rejected:
            return False
        if token.expires_at is None:
            return True  # used until the server refuses it (then invalidate())
        margin = self._margin(token, obtained_at)
        return not token.is_expired(now, leeway=margin)

    def _fast(self) -> Token | None:
        """The current token if it is fresh: one clock read, one comparison, no lock."""
        token, fresh_until = self._current
        try:
            if self._clock() < fresh_until:
                return token
        except TypeError:  # not an aware datetime: the slow path says so
            pass
        return None

    def _enter(self) -> tuple[Token | None, Flight | None, bool, Token | None]:
        """``(token to use now, None, ...)`` or ``(None, flight, leads it, current token)``.

        A flight led in the refresh window is ``proactive``: its leader returns
        the current token if it fails.
        """
        now = self._now()
        with self._state:
            flight = self._flight
            token, obtained_at = self._token, self._obtained_at
            if token is not None and obtained_at is not None:
                if self._fresh(token, obtained_at, now):
                    return token, None, False, None
                if token.access_token != self._rejected and not token.is_expired(now):
                    # The refresh window: never wait while the token is valid.
                    if flight is not None or now < self._retry_at:
                        return token, None, False, None
                    if self._recently_issued(token, obtained_at, now):
                        return token, None, False, None  # the refetch bound, ahead of time
                    self._flight = flight = Flight(proactive=True)
                    return None, flight, True, token
            if flight is not None:
                return None, flight, False, None
            if token is not None and self._hold_back(token, obtained_at, now):
                return token, None, False, None
            self._flight = flight = Flight()
            return None, flight, True, token

    def _recently_issued(
        self, token: Token, obtained_at: _dt.datetime | None, now: _dt.datetime
    ) -> bool:
        """Whether the token endpoint issued ``token`` less than ``min_refresh_interval`` ago."""
        if token.access_token != self._issued or obtained_at is None:
            return False
        return 0 <= (now - obtained_at).total_seconds() < self._min_interval

    def _hold_back(self, token: Token, obtained_at: _dt.datetime | None, now: _dt.datetime) -> bool:
        """Whether to hand out ``token`` again instead of asking the token endpoint.

        It was issued less than ``min_refresh_interval`` ago: it expired on arrival
        (``expires_in`` <= 0) or the resource server refused it at once. Asking
        again right away would make every call a token request (call with the
        state lock held).
        """
        if not self._recently_issued(token, obtained_at, now):
            return False
        assert obtained_at is not None
        age = (now - obtained_at).total_seconds()
        if self._held_back != token.access_token:
            self._held_back = token.access_token
            logger.warning(
                "the token issued %.1f s ago is already expired or was refused; "
                "handing it out until min_refresh_interval (%g s) has passed instead "
                "of asking the token endpoint again",
                age,
                self._min_interval,
            )
        return True

    def _still_valid(self, token: Token | None) -> bool:
        """Whether ``token`` is still the current one, not refused and not expired."""
        if token is None:
            return False
        with self._state:
            if self._token is not token or token.access_token == self._rejected:
                return False
        try:
            return not token.is_expired(self._now())
        except UsageError:
            return False

    def _settling_now(self) -> _dt.datetime:
        """The manager's clock, or the wall clock if it broke: a flight must always settle."""
        try:
            return self._now()
        except Exception:
            return utc_now()

    def _postpone(self, flight: Flight, seconds: float) -> None:
        """End a refresh-window flight that got nothing: look again ``seconds`` later."""
        now = self._settling_now()
        with self._state:
            self._retry_at = _plus(now, seconds)
        self._settle(flight, None)

    def _load_quietly(self) -> Token | None:
        """The stored token, or ``None`` (no store, or it failed: the refresh reports that)."""
        try:
            return self._store.load() if self._store is not None else None
        except Exception:
            return None

    def _adoptable_quietly(self, stored: Token | None, stale: Token | None) -> bool:
        """:meth:`_adoptable`, false instead of raising (a flight must always settle)."""
        try:
            return self._adoptable(stored, stale)
        except Exception:
            return False

    def _adoptable(self, stored: Token | None, stale: Token | None) -> bool:
        """Whether a token found in the store can be used instead of refreshing."""
        if stored is None or (stale is not None and stored.access_token == stale.access_token):
            return False
        now = self._now()
        return self._fresh(stored, now, now)

    def _base(self, stored: Token | None, stale: Token | None) -> Token | None:
        """The token to refresh: the stored one holds the newest refresh token."""
        for candidate in (stored, stale):
            if candidate is not None and candidate.refresh_token:
                return candidate
        return stale if stale is not None else stored

    def _needs_fetch(self, base: Token | None) -> bool:
        """Whether to fetch anew (client credentials) rather than refresh ``base``."""
        if base is not None and base.refresh_token:
            return False
        if self._fetch_anew:
            return True
        raise ReauthorizationRequiredError(
            "the access token expired or was rejected, there is no refresh token, and this "
            "manager does not fetch tokens with client credentials: authorize again"
        )

    def _settle(
        self,
        flight: Flight,
        token: Token | None,
        error: BaseException | None = None,
        *,
        issued: bool = False,
    ) -> None:
        """Publish the outcome and wake every waiter.

        ``issued``: the token came from the token endpoint (not from the store).
        """
        now = self._settling_now()
        if issued and token is not None:
            warn_unpresentable(token)
        with self._state:
            if token is not None:
                self._token, self._obtained_at, self._rejected = token, now, None
                if issued:
                    self._issued = token.access_token
                self._failures, self._retry_at, self._failed = 0, _NEVER, None
                self._publish()
            self._flight = None
            flight.token = token
            flight.error = error
            flight.abandoned = token is None and error is None
            flight.finish()

    def _fail(self, flight: Flight, exc: BaseException) -> BaseException:
        """Settle a failed flight; return what the leader raises."""
        failure = refresh_failure(exc) if isinstance(exc, Exception) else None
        if failure is not None and flight.proactive:
            # The token is still valid: nobody fails now; a later call tries again.
            now = self._settling_now()
            with self._state:
                self._failures += 1
                delay = retry_delay(self._failures)
                self._retry_at = _plus(now, delay)
            logger.warning(
                "refreshing the token ahead of its expiry failed (%s, HTTP status %s); the "
                "current token stays in use, next attempt in %g s or once it expires",
                type(failure).__name__,
                getattr(failure, "status", None),
                delay,
            )
        elif isinstance(failure, TokenRefreshError):
            # The token is expired: callers fail now; the next attempt waits too.
            now = self._settling_now()
            with self._state:
                self._failures += 1
                self._failed = (failure, now, _plus(now, retry_delay(self._failures)))
        # An interrupted leader (KeyboardInterrupt, cancelled task) is not a failed
        # refresh: its waiters start over instead of seeing the interruption.
        self._settle(flight, None, failure)
        return failure if failure is not None else exc

    def _gated_failure(self) -> TokenRefreshError | None:
        """The last failure again, while the wait after a failed refresh of an expired token runs.

        A copy (same type and attributes, the original as ``__cause__``) whose
        message says when the last attempt failed and when the next may start;
        ``None`` when a refresh may be tried now (or the clock broke: the refresh
        path reports that).
        """
        try:
            now = self._now()
        except Exception:
            return None
        with self._state:
            failed = self._failed
        if failed is None:
            return None
        failure, failed_at, retry_at = failed
        if not now < retry_at:
            return None
        again = BaseException.__new__(type(failure))
        again.__dict__.update(failure.__dict__)
        again.args = (
            f"{failure} [not asked again: that attempt failed "
            f"{max((now - failed_at).total_seconds(), 0.0):.1f} s ago, the next may start in "
            f"{(retry_at - now).total_seconds():.1f} s]",
        )
        again.__cause__ = failure
        return again

    def _invalidate(self, token: Token | None) -> None:
        with self._state:
            current = self._token
            if current is None:
                return
            if token is not None and token.access_token != current.access_token:
                return  # already replaced: invalidating the new one would waste a refresh
            self._rejected = current.access_token
            self._publish()

    def __repr__(self) -> str:
        client = getattr(self, "client", None)
        return f"{type(self).__name__}(client={client!r}, token={self._token!r})"
