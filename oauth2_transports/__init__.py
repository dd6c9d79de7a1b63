"""oauth2_transports: send oauth2_core's requests over real HTTP."""

from typing import TYPE_CHECKING

from oauth2_core._lazy import lazy_exports as _lazy_exports

# The one list of the public names: defining module -> the names it gives the package.
# Every name is imported on first use (PEP 562): requests and httpx are optional extras,
# urllib3 (most of the package's import time) loads only with the default transport, and
# the clients, managers and stores pull in most of oauth2_core. __all__ is derived from
# this table; the TYPE_CHECKING block below mirrors it for type checkers and IDEs, and
# tests/transports/test_public_names.py keeps the two identical.
_EXPORTS = {
    "oauth2_transports.access_token_verifier": (
        "AccessTokenVerifier",
        "AsyncAccessTokenVerifier",
    ),
    "oauth2_transports._driver": (
        "arun",
        "run",
    ),
    "oauth2_transports._transport": (
        "AsyncTransport",
        "Transport",
        "TransportError",
    ),
    "oauth2_transports.client": (
        "AsyncOAuth2Client",
        "OAuth2Client",
    ),
    "oauth2_transports.httpx": (
        "AsyncHttpxTransport",
        "HttpxTransport",
    ),
    "oauth2_transports.httpx2": (
        "AsyncHttpx2Transport",
        "Httpx2Transport",
    ),
    "oauth2_transports.manager": (
        "AsyncTokenManager",
        "LeaseLostError",
        "ReauthorizationRequiredError",
        "TokenManager",
        "TokenRefreshError",
    ),
    "oauth2_transports.redis": (
        "RedisLock",
        "RedisTokenStore",
    ),
    "oauth2_transports.requests": ("RequestsTransport",),
    "oauth2_transports.resource": (
        "adiscover_resource",
        "discover_resource",
    ),
    "oauth2_transports.store": (
        "FileLock",
        "FileTokenStore",
        "LockTimeoutError",
        "TokenStore",
        "TokenStoreError",
    ),
    "oauth2_transports.urllib3": ("Urllib3Transport",),
}

__all__, __getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the table above, as imports (`X as X`: an explicit re-export)
    from oauth2_transports._driver import arun as arun
    from oauth2_transports._driver import run as run
    from oauth2_transports._transport import AsyncTransport as AsyncTransport
    from oauth2_transports._transport import Transport as Transport
    from oauth2_transports._transport import TransportError as TransportError
    from oauth2_transports.access_token_verifier import AccessTokenVerifier as AccessTokenVerifier
    from oauth2_transports.access_token_verifier import (
        AsyncAccessTokenVerifier as AsyncAccessTokenVerifier,
    )
    from oauth2_transports.client import AsyncOAuth2Client as AsyncOAuth2Client
    from oauth2_transports.client import OAuth2Client as OAuth2Client
    from oauth2_transports.httpx import AsyncHttpxTransport as AsyncHttpxTransport
    from oauth2_transports.httpx import HttpxTransport as HttpxTransport
    from oauth2_transports.httpx2 import AsyncHttpx2Transport as AsyncHttpx2Transport
    from oauth2_transports.httpx2 import Httpx2Transport as Httpx2Transport
    from oauth2_transports.manager import AsyncTokenManager as AsyncTokenManager
    from oauth2_transports.manager import LeaseLostError as LeaseLostError
    from oauth2_transports.manager import (
        ReauthorizationRequiredError as ReauthorizationRequiredError,
    )
    from oauth2_transports.manager import TokenManager as TokenManager
    from oauth2_transports.manager import TokenRefreshError as TokenRefreshError
    from oauth2_transports.redis import RedisLock as RedisLock
    from oauth2_transports.redis import RedisTokenStore as RedisTokenStore
    from oauth2_transports.requests import RequestsTransport as RequestsTransport
    from oauth2_transports.resource import adiscover_resource as adiscover_resource
    from oauth2_transports.resource import discover_resource as discover_resource
    from oauth2_transports.store import FileLock as FileLock
    from oauth2_transports.store import FileTokenStore as FileTokenStore
    from oauth2_transports.store import LockTimeoutError as LockTimeoutError
    from oauth2_transports.store import TokenStore as TokenStore
    from oauth2_transports.store import TokenStoreError as TokenStoreError
    from oauth2_transports.urllib3 import Urllib3Transport as Urllib3Transport
