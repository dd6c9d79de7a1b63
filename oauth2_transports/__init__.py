"""oauth2_transports: send oauth2_core's requests over real HTTP."""

from typing import TYPE_CHECKING

from oauth2_core._lazy import lazy_exports as _lazy_exports
from oauth2_transports._driver import arun, run
from oauth2_transports._transport import AsyncTransport, Transport, TransportError

if TYPE_CHECKING:
    from oauth2_transports.client import AsyncOAuth2Client, OAuth2Client
    from oauth2_transports.httpx import AsyncHttpxTransport, HttpxTransport
    from oauth2_transports.httpx2 import AsyncHttpx2Transport, Httpx2Transport
    from oauth2_transports.manager import (
        AsyncTokenManager,
        LeaseLostError,
        ReauthorizationRequiredError,
        TokenManager,
        TokenRefreshError,
    )
    from oauth2_transports.redis import RedisLock, RedisTokenStore
    from oauth2_transports.requests import RequestsTransport
    from oauth2_transports.store import (
        FileLock,
        FileTokenStore,
        LockTimeoutError,
        TokenStore,
        TokenStoreError,
    )
    from oauth2_transports.urllib3 import Urllib3Transport

__all__ = [
    "AsyncHttpx2Transport",
    "AsyncHttpxTransport",
    "AsyncOAuth2Client",
    "AsyncTokenManager",
    "AsyncTransport",
    "FileLock",
    "FileTokenStore",
    "Httpx2Transport",
    "HttpxTransport",
    "LeaseLostError",
    "LockTimeoutError",
    "OAuth2Client",
    "ReauthorizationRequiredError",
    "RedisLock",
    "RedisTokenStore",
    "RequestsTransport",
    "TokenManager",
    "TokenRefreshError",
    "TokenStore",
    "TokenStoreError",
    "Transport",
    "TransportError",
    "Urllib3Transport",
    "arun",
    "run",
]

# requests and httpx are optional extras: import them only when asked for.
_LAZY = {
    # The clients pull in most of oauth2_core (its attrs classes are built on import):
    # load them, the managers and the stores on first use, like the core's own names.
    "AsyncOAuth2Client": "oauth2_transports.client",
    "OAuth2Client": "oauth2_transports.client",
    "AsyncTokenManager": "oauth2_transports.manager",
    "LeaseLostError": "oauth2_transports.manager",
    "ReauthorizationRequiredError": "oauth2_transports.manager",
    "TokenManager": "oauth2_transports.manager",
    "TokenRefreshError": "oauth2_transports.manager",
    "FileLock": "oauth2_transports.store",
    "FileTokenStore": "oauth2_transports.store",
    "LockTimeoutError": "oauth2_transports.store",
    "TokenStore": "oauth2_transports.store",
    "TokenStoreError": "oauth2_transports.store",
    "AsyncHttpxTransport": "oauth2_transports.httpx",
    "HttpxTransport": "oauth2_transports.httpx",
    "AsyncHttpx2Transport": "oauth2_transports.httpx2",
    "Httpx2Transport": "oauth2_transports.httpx2",
    "RequestsTransport": "oauth2_transports.requests",
    # The default transport: an integrator with a transport of their own never
    # loads urllib3 (most of the package's import time).
    "Urllib3Transport": "oauth2_transports.urllib3",
    # The redis extra: the module needs redis-py only at run time, but stays lazy too.
    "RedisLock": "oauth2_transports.redis",
    "RedisTokenStore": "oauth2_transports.redis",
}


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, __all__)
