"""The stateful half of ``OAuth2Auth.for_resource``: one authorization at a time, then a manager.

:class:`ResourceAuthorizer` is shared by the requests, httpx and httpx2 hooks.
It holds the current :class:`~oauth2_transports._resource_session.Session` and
a :class:`~oauth2_transports.TokenManager` for its token (refresh ahead of
expiry, ``store=`` persistence), and answers three questions for a hook:

* :meth:`token_for` / :meth:`atoken_for`: the token for a request URL, or
  ``None`` when the URL is outside the authorized resource (RFC 8707: a token
  goes to its resource only) or there is none yet;
* :meth:`decide`: whether a response calls for authorizing (a 401), for a
  step-up (403 ``insufficient_scope``, 401 ``insufficient_user_authentication``)
  or for nothing (``oauth2_core.step_up`` refuses loops);
* :meth:`resolve` / :meth:`aresolve`: do it, once for any number of
  concurrent requests (single flight: who waited finds a newer session and
  uses its token), and return the token to resend with.

The chain itself is ``_resource_session``'s program, driven here over a sync
transport (``run``) or an async one (``arun``), with ``authorize(url)`` called
plainly, in a worker thread, or awaited when it is an ``async def``.
"""

from __future__ import annotations

import datetime
import inspect
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from oauth2_core import (
    AccessRequest,
    BearerChallenge,
    Token,
    UsageError,
    parse_www_authenticate,
    resource_covers,
    step_up,
)
from oauth2_transports._clock import Clock, utc_now
from oauth2_transports._driver import arun, run
from oauth2_transports._hooks import DPoPSigner, is_dpop
from oauth2_transports._resource_session import (
    AskUser,
    ChainSettings,
    Program,
    Session,
    SessionStore,
    authorization_program,
    restore_program,
)
from oauth2_transports._transport import AsyncTransport, Transport
from oauth2_transports.client import OAuth2Client
from oauth2_transports.manager import TokenManager, TokenRefreshError
from oauth2_transports.store import TokenStore

if TYPE_CHECKING:
    import asyncio

__all__ = ["Authorize", "Decision", "ResourceAuthorizer"]

T = TypeVar("T")

#: ``authorize(authorization_url) -> callback URL``, plain or ``async def``.
Authorize = Callable[[str], "str | Awaitable[str]"]


class Decision(NamedTuple):
    """What a response calls for: ``kind`` is ``"authorize"`` or ``"step_up"``."""

    kind: str
    challenge: BearerChallenge | None
    ask: AccessRequest | None


def _challenge(challenges: list[BearerChallenge], sent: Token | None) -> BearerChallenge | None:
    # RFC 9449 §7.1: a DPoP-bound token is refused with a DPoP challenge, which
    # carries RFC 6750 §3.1's error codes (and RFC 9728's resource_metadata).
    order = ("dpop", "bearer") if sent is not None and is_dpop(sent) else ("bearer", "dpop")
    for scheme in order:
        found = next((c for c in challenges if c.scheme.lower() == scheme), None)
        if found is not None:
            return found
    return None


class ResourceAuthorizer:
    """The chain, the session and the token manager behind ``OAuth2Auth.for_resource``.

    Args:
        settings: How to find the client and the server.
        authorize: Sends the user to the authorization URL and returns the
            callback URL; plain or ``async def``.
        store: Where the token and the session are kept between runs.
        transport: Makes the sync transport (chain and refresh).
        async_transport: Makes the async transport (chain in async clients).
        clock: Returns the current aware datetime: the token manager's (and
            its client's: assertions, DPoP proofs), and the age of an
            authorization for a repeated ``max_age`` step-up.
        dpop: Signs the DPoP proofs of resource requests with
            ``settings.dpop_key`` and keeps the per-origin nonces, which the
            chain's code exchange and the manager's refreshes share.
    """

    def __init__(
        self,
        settings: ChainSettings,
        authorize: Authorize,
        *,
        store: TokenStore | None,
        transport: Callable[[], Transport],
        async_transport: Callable[[], AsyncTransport] | None = None,
        clock: Clock = utc_now,
        dpop: DPoPSigner | None = None,
    ) -> None:
        if not callable(authorize):
            raise UsageError("authorize must be a function: (authorization_url) -> callback URL")
        if (
            settings.client is None
            and settings.client_metadata is None
            and settings.client_id_metadata_url is None
        ):
            raise UsageError("pass client=, client_metadata= or client_id_metadata_url=")
        self.settings = settings
        self._authorize = authorize
        self._store = None if store is None else SessionStore(store, lambda: self._session)
        self._make_transport = transport
        self._make_async_transport = async_transport
        self._transport: Transport | None = None
        self._session: Session | None = None
        self._manager: TokenManager | None = None
        self._generation = 0
        self._clock = clock
        self.dpop = dpop if dpop is not None else DPoPSigner(settings.dpop_key)
        self._authorized_at: datetime.datetime | None = None  # None: restored, unknown
        self._restored = store is None
        # One authorization at a time: threads share the lock, tasks of one loop theirs.
        self._lock = threading.RLock()
        self._async_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def clock(self) -> Clock:
        """The clock that dates DPoP proofs and ages authorizations."""
        return self._clock

    @property
    def session(self) -> Session | None:
        """The current session (resource, server, client, registration), or ``None``."""
        return self._session

    # -- transports -------------------------------------------------------------

    def _sync_transport(self) -> Transport:
        with self._lock:
            if self._transport is None:
                self._transport = self._make_transport()
            return self._transport

    def _async(self) -> AsyncTransport:
        # One per chain run, closed after it: an async client's connections
        # belong to one event loop, and the hook may serve several in turn.
        if self._make_async_transport is None:
            raise UsageError("this hook has no async transport")
        return self._make_async_transport()

    # -- tokens -----------------------------------------------------------------

    def _current(self, url: str) -> Token | None:
        session, manager = self._session, self._manager
        if session is None or manager is None or not resource_covers(session.resource, url):
            return None
        try:
            return manager.token()
        except TokenRefreshError as exc:
            if exc.retryable:
                raise
            return None  # cannot refresh: the 401 that follows authorizes again

    def token_for(self, url: str) -> tuple[int, Token | None]:
        """``(generation, token)`` for a request to ``url`` (``None``: send it without)."""
        if not self._restored:
            self._restore()
        return self._generation, self._current(url)

    async def atoken_for(self, url: str) -> tuple[int, Token | None]:
        """As :meth:`token_for`, off the event loop."""
        import asyncio

        if not self._restored:
            await self._arestore()
        generation = self._generation
        return generation, await asyncio.to_thread(self._current, url)

    # -- decisions --------------------------------------------------------------

    def decide(
        self, status: int, www_authenticate: list[str], url: str, sent: Token | None
    ) -> Decision | None:
        """What the answer to a request (sent with ``sent``) calls for, if anything."""
        if status not in (401, 403):
            return None
        challenges = [c for value in www_authenticate for c in parse_www_authenticate(value)]
        bearer = _challenge(challenges, sent)
        session = self._session
        if sent is None:
            if status != 401 or (
                session is not None and not resource_covers(session.resource, url)
            ):
                return None  # not ours to authorize: another resource's 401, or a 403
            return Decision("authorize", bearer, None)
        asked = session.asked if session is not None else None
        authorized_at = self._authorized_at
        age = None if authorized_at is None else (self._clock() - authorized_at).total_seconds()
        more = step_up(status, challenges, asked=asked, granted=sent.scope, age=age)
        if more is not None:
            return Decision("step_up", bearer, more)
        if status == 401 and (bearer is None or bearer.error in (None, "invalid_token")):
            return Decision("authorize", bearer, None)
        return None

    def _refreshed(self, sent: Token) -> Token | None:
        manager = self._manager
        if manager is None:
            return None
        manager.invalidate(sent)
        try:
            fresh = manager.token()
        except TokenRefreshError as exc:
            if exc.retryable:
                raise
            return None
        return fresh if fresh.access_token != sent.access_token else None

    # -- resolving (single flight) ----------------------------------------------

    def resolve(
        self, decision: Decision, url: str, generation: int, sent: Token | None
    ) -> Token | None:
        """Authorize (or refresh) for ``decision``, once across threads; the token to resend."""
        with self._lock:
            if self._generation != generation:
                return self._current(url)  # another request authorized meanwhile
            if decision.kind == "authorize" and sent is not None:
                fresh = self._refreshed(sent)
                if fresh is not None:
                    return fresh
            session = self._drive(self._program(decision, url))
            self._install(session, save=True)
            return session.token

    async def aresolve(
        self, decision: Decision, url: str, generation: int, sent: Token | None
    ) -> Token | None:
        """As :meth:`resolve`, once across the tasks of this event loop."""
        import asyncio

        async with self._async_lock():
            if self._generation != generation:
                return await asyncio.to_thread(self._current, url)
            if decision.kind == "authorize" and sent is not None:
                fresh = await asyncio.to_thread(self._refreshed, sent)
                if fresh is not None:
                    return fresh
            session = await self._adrive(self._program(decision, url))
            await asyncio.to_thread(self._install, session, save=True)
            return session.token

    def _async_lock(self) -> asyncio.Lock:
        import asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock

    def _program(self, decision: Decision, url: str) -> Program:
        previous = self._session
        if previous is not None and not resource_covers(previous.resource, url):
            previous = None
        return authorization_program(
            self.settings,
            url,
            decision.challenge,
            previous=previous,
            ask=decision.ask,
            dpop_nonces=self.dpop.nonces,
        )

    def _install(self, session: Session, *, save: bool) -> None:
        # The key is the caller's, never stored: a restored token is refreshed with it.
        client = OAuth2Client(
            session.server,
            session.client,
            self._sync_transport(),
            clock=self._clock,
            dpop_key=self.settings.dpop_key,
            dpop_nonces=self.dpop.nonces,
        )
        manager = TokenManager(client, session.token, store=self._store, clock=self._clock)
        with self._lock:
            self._session, self._manager = session, manager
            self._generation += 1
            # A new authorization (save) starts the max_age age; a restored one is unknown.
            self._authorized_at = self._clock() if save else None
        if save and self._store is not None:
            self._store.save(session.token)

    # -- restoring a stored session ---------------------------------------------

    def _stored(self) -> Program | None:
        assert self._store is not None
        token = self._store.load()
        record = self._store.loaded
        if token is None or record is None:
            return None
        try:
            return restore_program(self.settings, token, record)
        except (UsageError, ValueError):
            return None  # a record for other settings: start afresh

    def _restore(self) -> None:
        with self._lock:
            if self._restored:
                return
            program = self._stored()
            if program is not None:
                self._install(self._drive(program), save=False)
            self._restored = True

    async def _arestore(self) -> None:
        import asyncio

        async with self._async_lock():
            if self._restored:
                return
            program = await asyncio.to_thread(self._stored)
            if program is not None:
                session = await self._adrive(program)
                await asyncio.to_thread(self._install, session, save=False)
            self._restored = True

    # -- drivers ----------------------------------------------------------------

    def _drive(self, program: Program) -> Session:
        transport = self._sync_transport()
        value: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    step = program.throw(error) if error is not None else program.send(value)
                except StopIteration as stop:
                    session: Session = stop.value
                    return session
                value, error = None, None
                try:
                    if isinstance(step, AskUser):
                        value = self._ask(step.url)
                    else:
                        value = run(step, transport)
                except Exception as exc:
                    error = exc
        finally:
            program.close()

    async def _adrive(self, program: Program) -> Session:
        transport = self._async()
        value: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    step = program.throw(error) if error is not None else program.send(value)
                except StopIteration as stop:
                    session: Session = stop.value
                    return session
                value, error = None, None
                try:
                    if isinstance(step, AskUser):
                        value = await self._aask(step.url)
                    else:
                        value = await arun(step, transport)
                except Exception as exc:
                    error = exc
        finally:
            program.close()
            aclose = getattr(transport, "aclose", None)
            if callable(aclose):
                await aclose()

    def _ask(self, url: str) -> str:
        result = self._authorize(url)
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if callable(close):
                close()  # never awaited: no "coroutine was never awaited" warning
            raise UsageError(
                "authorize is an async function: use it with an async client "
                "(httpx.AsyncClient), or pass a plain function"
            )
        return _callback(result)

    async def _aask(self, url: str) -> str:
        import asyncio

        authorize = self._authorize
        if inspect.iscoroutinefunction(authorize) or inspect.iscoroutinefunction(
            getattr(authorize, "__call__", None)  # noqa: B004 (an async __call__)
        ):
            result: object = await authorize(url)  # type: ignore[misc]
        else:
            # A plain function may block (a browser, a loopback listener): not on the loop.
            result = await asyncio.to_thread(authorize, url)
            if inspect.isawaitable(result):
                result = await result
        return _callback(result)

    def close(self) -> None:
        """Close the transports this authorizer made."""
        close = getattr(self._transport, "close", None)
        if callable(close):
            close()


def _callback(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError("authorize(url) must return the callback URL (a non-empty string)")
    return value
