"""A valid access token on demand: refresh ahead of expiry, once at a time (RFC 6749 §6, §4.4).

:class:`TokenManager` (threads) and :class:`AsyncTokenManager` (asyncio tasks, on any
number of event loops) hand out a token that is not about to expire. When it is, exactly
one caller refreshes it (RFC 6749 §6) or, in client-credentials mode, fetches a new one
(§4.4); every other caller waits for that one request and gets its result: the new token,
or the same error. Single flight matters because refresh tokens are often single-use
(RFC 9700 §4.14.2 rotation): a second refresh with the same refresh token is refused with
``invalid_grant`` and may even revoke the grant.

Every new token goes to ``store.save`` and ``on_token`` before any caller gets it. A
failed refresh leaves the current token in place. With a cross-process ``lock``, the
manager reloads the store inside the lock first, so a fleet of processes refreshes once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import inspect
import math
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Union

from oauth2_core import OAuth2Error, Token, UsageError
from oauth2_transports._common import Clock, utc_now
from oauth2_transports._flight import Flight, Handoff, refresh_failure
from oauth2_transports.client import AsyncOAuth2Client, OAuth2Client
from oauth2_transports.store import TokenStore

__all__ = ["AsyncTokenManager", "ReauthorizationRequired", "TokenManager", "TokenRefreshError"]

from oauth2_transports._flight import ReauthorizationRequired, TokenRefreshError  # noqa: E402

SyncLock = AbstractContextManager[object]
AsyncLock = Union[AbstractContextManager[object], AbstractAsyncContextManager[object]]
