"""Refresh stampede: many callers find the token expired at the same moment.

Run ``python -m tests.bench.bench_stampede [--json PATH]`` from the repository root.

A loopback authorization server (``tests/lifecycle/_token_server.py``) rotates
single-use refresh tokens (a reused one gets ``400 invalid_grant``, RFC 9700
§4.14.2) and answers each refresh after 50 ms. Every client starts from the same
expired token; 32 threads (sync) or 1000 asyncio tasks (async) each call a
protected resource at once. For each library we count what the server saw and
what the callers got:

* refresh requests the token endpoint received (ideal: 1);
* failed callers: an exception, or no 200 from the resource (ideal: 0);
* token-updated callbacks (``on_token`` / ``token_updater`` / ``update_token``; ideal: 1).

Contenders: ours (``TokenManager`` + ``OAuth2Auth`` for requests,
``AsyncTokenManager`` + httpx ``OAuth2Auth``), requests-oauthlib (``OAuth2Session``
with ``auto_refresh_url`` and ``token_updater``), Authlib (requests ``OAuth2Session``
and httpx ``AsyncOAuth2Client`` with ``update_token``). Each shares one
client/session between its callers, the way a web application would.
A benchmark, not a test: a missed target is printed and recorded, the exit status is 0.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import requests

import oauth2_core as oc
from oauth2_transports import (
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    AsyncTokenManager,
    OAuth2Client,
    TokenManager,
)
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth
from tests.bench._harness import bench_args
from tests.lifecycle._token_server import TokenServer

THREADS = 32
TASKS = 1000
DELAY = 0.05
CLIENT_ID, CLIENT_SECRET = "app", "s3cr3t"


@dataclass
class Outcome:
    """What one library did in one scenario."""

    scenario: str
    library: str
    callers: int
    refresh_requests: int
    failed_callers: int
    token_callbacks: int
    first_error: str | None
    seconds: float

    @property
    def ideal(self) -> bool:
        return (self.refresh_requests, self.failed_callers, self.token_callbacks) == (1, 0, 1)


def expired_token(server: TokenServer) -> oc.Token:
    return server.issue(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5))


def as_dict(token: oc.Token) -> dict[str, Any]:
    """The token as requests-oauthlib and Authlib keep it."""
    assert token.expires_at is not None
    return {
        "access_token": token.access_token,
        "token_type": "Bearer",
        "refresh_token": token.refresh_token,
        "expires_at": int(token.expires_at.timestamp()),
        "expires_in": -5,
    }


def threads_at_once(n: int, call: Callable[[], bool]) -> tuple[int, str | None]:
    """Run ``call`` in ``n`` threads released together; ``(failures, first error)``."""
    barrier = threading.Barrier(n)
    failures: list[str] = []
    lock = threading.Lock()

    def target() -> None:
        barrier.wait()
        try:
            ok, why = call(), "no 200 from the resource"
        except Exception as exc:
            ok, why = False, f"{type(exc).__name__}: {str(exc)[:100]}"
        if not ok:
            with lock:
                failures.append(why)

    threads = [threading.Thread(target=target) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(failures), failures[0] if failures else None


async def tasks_at_once(n: int, call: Callable[[], Awaitable[bool]]) -> tuple[int, str | None]:
    results = await asyncio.gather(*(call() for _ in range(n)), return_exceptions=True)
    failures = [r for r in results if r is not True]
    first = failures[0] if failures else None
    if isinstance(first, BaseException):
        return len(failures), f"{type(first).__name__}: {str(first)[:100]}"
    return len(failures), None if first is None else "no 200 from the resource"


def sync_ours(server: TokenServer, updates: list[object]) -> Callable[[], bool]:
    client = OAuth2Client(server.metadata, oc.Client(CLIENT_ID, CLIENT_SECRET))
    manager = TokenManager(client, expired_token(server), on_token=updates.append)
    session = requests.Session()
    auth = OAuth2Auth(manager)
    return lambda: session.get(f"{server.url}/api", auth=auth, timeout=30).status_code == 200


def sync_requests_oauthlib(server: TokenServer, updates: list[object]) -> Callable[[], bool]:
    from requests_oauthlib import OAuth2Session  # type: ignore[import-untyped]

    session = OAuth2Session(
        CLIENT_ID,
        token=as_dict(expired_token(server)),
        auto_refresh_url=f"{server.url}/token",
        auto_refresh_kwargs={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        token_updater=updates.append,
    )
    return lambda: session.get(f"{server.url}/api", timeout=30).status_code == 200


def sync_authlib(server: TokenServer, updates: list[object]) -> Callable[[], bool]:
    from authlib.integrations.requests_client import (  # type: ignore[import-untyped]
        OAuth2Session,
    )

    def update_token(token: object, refresh_token: object = None, access_token: object = None):  # type: ignore[no-untyped-def]
        updates.append(token)

    session = OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        token=as_dict(expired_token(server)),
        token_endpoint=f"{server.url}/token",
        update_token=update_token,
    )
    return lambda: session.get(f"{server.url}/api", timeout=30).status_code == 200


async def async_ours(server: TokenServer, updates: list[object]) -> tuple[int, str | None]:
    async with AsyncHttpxTransport() as transport:
        client = AsyncOAuth2Client(server.metadata, oc.Client(CLIENT_ID, CLIENT_SECRET), transport)
        manager = AsyncTokenManager(client, expired_token(server), on_token=updates.append)
        async with httpx.AsyncClient(auth=HttpxAuth(manager), timeout=60) as http:

            async def call() -> bool:
                return (await http.get(f"{server.url}/api")).status_code == 200

            return await tasks_at_once(TASKS, call)


async def async_authlib(server: TokenServer, updates: list[object]) -> tuple[int, str | None]:
    with warnings.catch_warnings():  # Authlib warns about its own httpx module at import
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
            AsyncOAuth2Client as AuthlibAsync,
        )

    async def update_token(
        token: object, refresh_token: object = None, access_token: object = None
    ) -> None:
        updates.append(token)

    async with AuthlibAsync(
        CLIENT_ID,
        CLIENT_SECRET,
        token=as_dict(expired_token(server)),
        token_endpoint=f"{server.url}/token",
        update_token=update_token,
        timeout=60,
    ) as http:

        async def call() -> bool:
            response: httpx.Response = await http.get(f"{server.url}/api")
            return response.status_code == 200

        return await tasks_at_once(TASKS, call)


SYNC = {
    "oauth2-core": sync_ours,
    "requests-oauthlib": sync_requests_oauthlib,
    "Authlib (requests)": sync_authlib,
}
AsyncRun = Callable[[TokenServer, list[object]], Coroutine[Any, Any, tuple[int, str | None]]]
ASYNC: dict[str, AsyncRun] = {"oauth2-core": async_ours, "Authlib (httpx)": async_authlib}


def measure(
    scenario: str,
    library: str,
    callers: int,
    run: Callable[[TokenServer, list[object]], tuple[int, str | None]],
) -> Outcome:
    with TokenServer(delay=DELAY) as server:
        updates: list[object] = []
        start = time.perf_counter()
        failed, first_error = run(server, updates)
        seconds = time.perf_counter() - start
        return Outcome(
            scenario,
            library,
            callers,
            server.refresh_requests,
            failed,
            len(updates),
            first_error,
            seconds,
        )


def main(argv: list[str] | None = None) -> int:
    args = bench_args(__doc__.splitlines()[0] if __doc__ else "", argv)
    # Both peers refuse plain http unless told; the server is on loopback.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    outcomes: list[Outcome] = []
    sync_scenario = f"{THREADS} threads"
    for library, factory in SYNC.items():

        def run_sync(
            server: TokenServer, updates: list[object], factory: Any = factory
        ) -> tuple[int, str | None]:
            return threads_at_once(THREADS, factory(server, updates))

        outcomes.append(measure(sync_scenario, library, THREADS, run_sync))
    async_scenario = f"{TASKS} asyncio tasks"
    for library, coroutine in ASYNC.items():

        def run_async(
            server: TokenServer, updates: list[object], coroutine: AsyncRun = coroutine
        ) -> tuple[int, str | None]:
            return asyncio.run(coroutine(server, updates))

        outcomes.append(measure(async_scenario, library, TASKS, run_async))

    print("\nRefresh stampede: one expired token, single-use refresh tokens, 50 ms token endpoint")
    print(
        f"  {'scenario':<18} {'library':<20} {'refreshes':>9} {'failed':>7} {'callbacks':>9}"
        "  first error"
    )
    for o in outcomes:
        print(
            f"  {o.scenario:<18} {o.library:<20} {o.refresh_requests:>9} "
            f"{o.failed_callers:>7} {o.token_callbacks:>9}  {o.first_error or ''}"
        )
    targets = [o for o in outcomes if o.library == "oauth2-core"]
    print("\nTargets (oauth2-core: exactly 1 refresh, 0 failed callers, 1 callback)")
    for o in targets:
        print(f"  {o.scenario}: {'met' if o.ideal else 'MISSED'}")
    if args.json:
        payload = {
            "benchmark": "stampede",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "machine": platform.machine(),
            "results": [asdict(o) for o in outcomes],
            "targets": [
                {"scenario": o.scenario, "name": o.library, "met": o.ideal} for o in targets
            ],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
