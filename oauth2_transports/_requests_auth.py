"""The requests auth hook: ``oauth2_transports.requests.OAuth2Auth``.

Attaches the token to each request (RFC 6750 §2.1; ``DPoP`` with a proof for
DPoP-bound tokens, RFC 9449 §7.1) and, with a token manager, refreshes and
resends once after a 401 ``invalid_token`` (RFC 6750 §3.1).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import requests
import requests.adapters
import requests.auth

from oauth2_core import Token, UsageError
from oauth2_core.dpop import DPoPKey
from oauth2_core.dpop_nonce import DPOP_NONCE_FIELD
from oauth2_core.endpoints import check_resource_url
from oauth2_transports._clock import utc_now
from oauth2_transports._hooks import (
    DPoPSigner,
    RetryBudget,
    authorization_header,
    expected_authorization,
    is_dpop,
    next_retry,
    proof_is_stale,
)
from oauth2_transports.manager import AsyncTokenManager, TokenManager

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from oauth2_transports._requests_resource_auth import ResourceAuth
    from oauth2_transports._resource_hooks import ResourceOptions

__all__ = ["OAuth2Auth"]


class OAuth2Auth(requests.auth.AuthBase):
    """Send requests with the token (RFC 6750 §2.1, RFC 9449 §7.1); refresh and retry once on a 401.

    ``requests.get(api_url, auth=OAuth2Auth(manager))``. Each request asks the
    manager for a valid token (refreshed ahead of expiry). When the resource
    server still answers 401, unless its ``WWW-Authenticate`` names an error other
    than ``invalid_token`` (RFC 6750 §3.1: ``insufficient_scope`` needs another
    grant, not a new token), the token is invalidated, a new one obtained and the
    request sent once more, with the 401 kept in ``response.history``. Only a body
    that can be sent twice (bytes, str or none) is retried: never a generator or a
    file. With a plain :class:`~oauth2_core.Token` nothing is refreshed.

    A DPoP-bound token (``token_type`` DPoP) goes out as ``Authorization: DPoP``
    with a fresh ``DPoP`` proof for that request, dated by the manager's client's
    clock and signed with its ``dpop_key`` (or ``dpop_key`` given here). The last
    nonce of each origin goes into the next proof to it, and a 401 nonce
    challenge is answered by sending the request once more with the new nonce
    (RFC 9449 §9), also with a plain token.

    Args:
        token_or_manager: A :class:`~oauth2_core.Token`, or a
            :class:`~oauth2_transports.TokenManager`.
        dpop_key: The DPoP private key the tokens are bound to; by default the
            manager's client's ``dpop_key``.
        allow_insecure_http: Explicit opt-out of the https rule for the
            requests this hook authorizes. By default a token goes only to
            https URLs and to loopback hosts over http (RFC 6750 §5.3); any other
            plain-http request raises :class:`~oauth2_core.UsageError` before
            anything is sent.

    Raises:
        UsageError: an ``AsyncTokenManager``, a token type that is neither Bearer
            nor DPoP, or a DPoP token with no key to sign proofs; when a request
            is sent: its URL is plain http to a non-loopback host, or ambiguous.
    """

    def __init__(
        self,
        token_or_manager: Token | TokenManager,
        *,
        dpop_key: DPoPKey | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        self._allow_insecure_http = allow_insecure_http
        if isinstance(token_or_manager, AsyncTokenManager):
            raise UsageError("requests is synchronous: OAuth2Auth needs a TokenManager here")
        self._dpop = DPoPSigner(dpop_key)
        # A plain Bearer token never changes (Token is frozen): its header is built,
        # and checked, once here, so each request only sets it.
        self._bearer: str | None = None
        # The last Bearer token a manager gave and its checked header (a frozen
        # Token: same object, same header), replaced as a whole.
        self._last: tuple[Token | None, str] = (None, "")
        if isinstance(token_or_manager, Token):
            # Refuse an unusable token now, not per request.
            if not is_dpop(token_or_manager):
                self._bearer = authorization_header(token_or_manager)
            else:
                self._dpop.signing_key(None)
        elif not isinstance(token_or_manager, TokenManager):
            raise UsageError("OAuth2Auth takes an oauth2_core.Token or a TokenManager")
        self._source = token_or_manager

    @classmethod
    def for_resource(cls, **options: Unpack[ResourceOptions]) -> ResourceAuth:
        """Resource-first authorization (RFC 9728, 7591, 8707, 9470) for requests.

        See ``oauth2_transports._resource_hooks.FOR_RESOURCE_DOC`` (the docs'
        "Authorize an MCP client") for the keywords and what happens on a 401.
        """
        from oauth2_transports._requests_resource_auth import for_resource

        return for_resource(options)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        bearer = self._bearer
        if bearer is not None:  # fast path: nothing to refresh, no proof, no retry hook
            url = r.url
            if not (isinstance(url, str) and url.startswith("https://")):
                self._check_url(r)
            headers = r.headers
            # requests' CaseInsensitiveDict raises and catches a KeyError for a
            # missing name (~0.7 µs); its lower-cased store answers at once.
            store = getattr(headers, "_store", None)
            if "dpop" in store if isinstance(store, dict) else "DPoP" in headers:
                del headers["DPoP"]
            headers["Authorization"] = bearer
            return r
        source = self._source
        token = source if isinstance(source, Token) else source.token()
        last, header = self._last
        if token is last:
            # The manager's token is unchanged: its header was built and checked once.
            self._check_url(r)
            headers = r.headers
            if "DPoP" in headers:
                del headers["DPoP"]
            headers["Authorization"] = header
        else:
            self._authorize(r, token)
            if not is_dpop(token):
                self._last = (token, str(r.headers["Authorization"]))
        if isinstance(source, TokenManager) or is_dpop(token):
            retry = functools.partial(self._retry_401, token)
            r.register_hook("response", retry)  # type: ignore[no-untyped-call]
        return r

    def _check_url(self, r: requests.PreparedRequest) -> None:
        url = str(r.url)
        # https reaches the host requests parsed, with its certificate checked;
        # anything else goes through the one authority check (RFC 6750 §5.3).
        if not url.startswith("https://"):
            check_resource_url(url, allow_insecure_http=self._allow_insecure_http)

    def _authorize(self, r: requests.PreparedRequest, token: Token) -> None:
        self._check_url(r)
        if not is_dpop(token):
            r.headers.pop("DPoP", None)
            r.headers["Authorization"] = authorization_header(token)
            return
        source = self._source
        client = None if isinstance(source, Token) else source.client
        r.headers.update(
            self._dpop.headers(
                token,
                str(r.method),
                str(r.url),
                client_key=None if client is None else client.dpop_key,
                clock=utc_now if client is None else client.clock,
            )
        )

    def _retry_401(
        self, sent: Token, response: requests.Response, **kwargs: Any
    ) -> requests.Response:
        budget = RetryBudget()
        while True:
            request = response.request
            step = self._next_step(sent, response, budget)
            if step is None:
                return response
            if step == "refresh":
                manager = self._source
                assert isinstance(manager, TokenManager)
                manager.invalidate(sent)
                fresh = manager.token()
                if fresh.access_token == sent.access_token:
                    return response
                sent = fresh
            response.content  # noqa: B018 (read it all, so the connection goes back to the pool)
            response.close()
            retry = request.copy()
            retry.hooks = requests.hooks.default_hooks()  # the retries are driven from here
            jar = getattr(retry, "_cookies", None)
            if jar is not None:  # cookies the 401 set, as requests' own digest auth does
                requests.cookies.extract_cookies_to_jar(  # type: ignore[no-untyped-call]
                    jar, request, response.raw
                )
                retry.prepare_cookies(jar)
            self._authorize(retry, sent)
            again = response.connection.send(retry, **kwargs)
            again.history = [*response.history, response]
            again.request = retry
            response = again

    def _next_step(
        self, sent: Token, response: requests.Response, budget: RetryBudget
    ) -> str | None:
        request = response.request
        dpop = is_dpop(sent)
        raw_headers = response.raw.headers
        if dpop:
            self._dpop.remember(str(request.url), raw_headers.getlist(DPOP_NONCE_FIELD))
        if (
            response.status_code != 401
            # After a redirect to another host requests drops our header: not our 401.
            or request.headers.get("Authorization") != expected_authorization(sent)
            # A generator or a file was consumed by the first attempt.
            or not isinstance(request.body, (bytes, str, type(None)))
        ):
            return None
        return next_retry(
            budget,
            dpop=dpop,
            www_authenticate=raw_headers.getlist("WWW-Authenticate"),
            nonce_values=raw_headers.getlist(DPOP_NONCE_FIELD),
            can_refresh=isinstance(self._source, TokenManager),
            stale_proof=dpop
            and proof_is_stale(request.headers.get("DPoP"), str(request.method), str(request.url)),
        )
