"""An in-process OAuth 2.0 authorization server for tests: :class:`MockAuthorizationServer`.

**A test tool, not a production server.** It keeps everything in memory,
auto-approves authorizations (or shows a login page, ``login_page=True``),
ships well-known demo credentials and is hardened only as far as a client test
needs. It listens on a free loopback port (``127.0.0.1``; ``port=`` and
``host=`` choose others) in a daemon thread and speaks plain ``http``
(loopback endpoints need no ``allow_insecure_http``). ``oauth2 mock-server``
runs it from a terminal or a CI container.

It serves RFC 8414 / OpenID Connect discovery, JWKS, the authorization
endpoint (code + PKCE, RFC 9207 ``iss``), the token endpoint (authorization
code, client credentials, password, refresh with rotation, device code, token
exchange, JWT bearer, CIBA), device authorization (RFC 8628), CIBA poll mode
(``/bc-authorize``, ``approve_backchannel``), revocation (RFC 7009),
introspection (RFC 7662), UserInfo, PAR (RFC 9126), dynamic client registration
(RFC 7591, managed per RFC 7592) and a protected test resource with its RFC 9728
metadata (``resource_url``, see ``_mock_resource``). DPoP (RFC 9449, see
``_mock_dpop``): a proof at the token endpoint binds the tokens of every grant
(``token_type`` ``DPoP``), ``dpop_jkt`` or a proof at PAR binds the code, and the
resource and UserInfo want a bound token with a proof of its key; nonces on demand
(``require_dpop_nonce``, :meth:`rotate_dpop_nonce`). It validates client
authentication like a real server, records every request, and injects faults
on demand (``fail_next``, ``echo_next``, ``delay_next``, ``drop_next``,
``slow_down_next``, ``answer_next``, ``deny_next``). Every method is thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from oauth2_transports.testing import _mock_authorize as front
from oauth2_transports.testing import _mock_ciba as ciba
from oauth2_transports.testing import _mock_dpop as dpop
from oauth2_transports.testing._mock_control import CONTROL_PATH, control_answer
from oauth2_transports.testing._mock_faults import QUIRKS, Echo, Quirk, failure_answer
from oauth2_transports.testing._mock_jose import IdTokenSigner
from oauth2_transports.testing._mock_jwt_bearer import trusted_keys
from oauth2_transports.testing._mock_model import (
    DEFAULT_CLIENTS,
    DEFAULT_USERS,
    Answer,
    MockClient,
    MockUser,
    RecordedRequest,
)
from oauth2_transports.testing._mock_server_http import MockHTTPServer, default_issuer
from oauth2_transports.testing._mock_service import MockService, discovery_document
from oauth2_transports.testing._mock_state import (
    Grant,
    Lifetimes,
    MockState,
    default_clock,
    format_user_code,
    new_secret,
)

if TYPE_CHECKING:
    import oauth2_core

__all__ = ["MockAuthorizationServer", "MockClient", "MockUser", "RecordedRequest"]


class MockAuthorizationServer:
    """An authorization server on a free loopback port, for tests. Not for production.

    It starts serving when constructed; use it as a context manager or call
    :meth:`stop`. Without arguments it registers :data:`DEFAULT_CLIENTS`
    (``app`` / ``app-secret`` with ``client_secret_basic``, ``post-app`` /
    ``post-secret`` with ``client_secret_post``, public ``cli``) and the users
    ``alice`` / ``wonderland`` and ``bob`` / ``builder``.

    Args:
        clients: The registered clients.
        users: The resource owners.
        rotate_refresh_tokens: Issue a new refresh token on every refresh and make
            the old one single-use (reuse answers ``invalid_grant`` and revokes
            the grant, RFC 9700 §4.14.2).
        require_pkce: Require PKCE from confidential clients too (public clients
            always need it).
        require_par: Accept only pushed authorization requests (RFC 9126 §5).
        scopes_supported: Accepted scope values; ``None`` accepts any.
        access_token_lifetime: Seconds.
        refresh_token_lifetime: Seconds, or ``None`` for no expiry.
        code_lifetime: Seconds an authorization code stays valid.
        device_code_lifetime: Seconds a device code stays valid.
        device_interval: The polling ``interval`` announced (RFC 8628 §3.2).
        clock: Returns POSIX seconds; default ``time.time``. See also :meth:`advance`.
        sign_id_tokens: ``None`` signs ID tokens when PyJWT is installed.
        host: The address to listen on. Keep the loopback default in tests; a
            container that serves other containers needs ``"0.0.0.0"``.
        port: The port; 0 (default) picks a free one. A fixed port is reused
            at once after a stop (``SO_REUSEADDR``).
        issuer: The issuer identifier to announce, when clients reach the
            server by another name (``http://mock-oauth:8080`` in a CI network);
            default ``http://<host>:<port>``. A path (``http://host/realm``)
            puts every endpoint under it.
        login_page: Show a sign-in page at the authorization endpoint (user
            name, password, Approve / Deny) instead of approving at once.
        control: Accept scripted faults over HTTP at ``POST /_mock/faults``
            (``{"fault": "fail_next", "status": 503}``), for a server in another
            process or container; ``oauth2 mock-server`` turns it on.
        resource_scopes: The scopes the protected test resource demands
            (403 ``insufficient_scope`` without them); see :meth:`set_resource_scopes`.
        client_id_metadata_documents: Advertise
            ``client_id_metadata_document_supported`` and take a client_id that
            is the URL of a Client ID Metadata Document, fetched from loopback
            hosts only (see ``_mock_client_metadata``).
        allow_http_client_id_urls: Also take plain ``http://`` loopback client_id
            URLs (for tests; the draft requires https).
        trusted_issuers: ``{iss: public JWK}``: the parties whose signed JWTs the
            JWT bearer grant accepts (RFC 7523 §2.1, §3; needs PyJWT). The
            assertion's ``aud`` must name this server's issuer or token endpoint.
        require_dpop_nonce: Every DPoP proof must carry the server's nonce
            (RFC 9449 §8, §9): a proof without it is answered ``use_dpop_nonce``
            with a ``DPoP-Nonce`` header (400 at the token and PAR endpoints, 401
            with a ``DPoP`` challenge at the resource and UserInfo). One nonce
            for the whole server (one origin), renewed every 300 seconds of the
            server's clock and by :meth:`rotate_dpop_nonce`. ``MockClient(
            require_dpop_nonce=True)`` asks it of one client only.
        dpop: ``False`` plays a server without DPoP: proofs are ignored and
            tokens answered ``Bearer`` (RFC 9449 §5 allows it; a client with
            ``profile="fapi2"`` must refuse them), and the metadata names no
            ``dpop_signing_alg_values_supported``.

    Example:
        >>> with MockAuthorizationServer() as server:  # doctest: +SKIP
        ...     client = OAuth2Client(server.server_metadata(), server.client("app"))
        ...     token = client.client_credentials(scope="read")
    """

    def __init__(
        self,
        *,
        clients: Iterable[MockClient] | None = None,
        users: Iterable[MockUser] | None = None,
        rotate_refresh_tokens: bool = True,
        require_pkce: bool = False,
        require_par: bool = False,
        scopes_supported: Iterable[str] | None = None,
        access_token_lifetime: float = 3600,
        refresh_token_lifetime: float | None = None,
        code_lifetime: float = 60,
        device_code_lifetime: float = 600,
        device_interval: int = 5,
        clock: Callable[[], float] | None = None,
        sign_id_tokens: bool | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        issuer: str | None = None,
        login_page: bool = False,
        control: bool = False,
        resource_scopes: Iterable[str] = ("resource:read",),
        trusted_issuers: Mapping[str, Mapping[str, object]] | None = None,
        client_id_metadata_documents: bool = False,
        allow_http_client_id_urls: bool = False,
        require_dpop_nonce: bool = False,
        dpop: bool = True,
    ) -> None:
        trusted = trusted_keys(trusted_issuers or {})  # before the port is taken
        self._control = control
        self._httpd = MockHTTPServer(self._respond, host=host, port=port)
        self._issuer = (issuer or default_issuer(host, self._httpd.server_address[1])).rstrip("/")
        self._state = MockState(
            issuer=self._issuer,
            clients=DEFAULT_CLIENTS if clients is None else clients,
            users=DEFAULT_USERS if users is None else users,
            lifetimes=Lifetimes(
                access_token=access_token_lifetime,
                refresh_token=refresh_token_lifetime,
                code=code_lifetime,
                device_code=device_code_lifetime,
            ),
            rotate_refresh_tokens=rotate_refresh_tokens,
            device_interval=device_interval,
            require_pkce=require_pkce,
            require_par=require_par,
            scopes_supported=None if scopes_supported is None else tuple(scopes_supported),
            clock=clock or default_clock,
            signer=IdTokenSigner(sign_id_tokens),
            login_page=login_page,
        )
        self._state.resource_scopes = tuple(resource_scopes)
        self._state.trusted_issuers = trusted
        self._state.client_id_metadata_documents = client_id_metadata_documents
        self._state.allow_http_client_id_urls = allow_http_client_id_urls
        self._state.require_dpop_nonce = require_dpop_nonce
        self._state.dpop = dpop
        self._service = MockService(self._state, self._httpd.stopping)
        self._faults = self._service.faults
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # how soon stop() takes effect
            name="MockAuthorizationServer",
            daemon=True,
        )
        self._thread.start()

    # -- life cycle -------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The issuer identifier, ``http://127.0.0.1:<port>`` by default (no trailing slash)."""
        return self._issuer

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    def url(self, path: str = "") -> str:
        """An absolute URL on this server: ``server.url("/token")``."""
        return self._issuer + ("" if not path or path.startswith("/") else "/") + path

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        self._httpd.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MockAuthorizationServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MockAuthorizationServer(issuer={self._issuer!r})"

    # -- what clients need -------------------------------------------------------------

    def metadata(self) -> dict[str, object]:
        """The discovery document (RFC 8414 §2) served at both well-known URLs."""
        return discovery_document(self._state)

    def server_metadata(self) -> oauth2_core.ServerMetadata:
        """The discovery document as an ``oauth2_core.ServerMetadata``."""
        import oauth2_core

        return oauth2_core.ServerMetadata.from_dict(self.metadata())

    @property
    def resource_url(self) -> str:
        """The protected test resource (RFC 9728 resource identifier): ``<issuer>/resource``."""
        return self._issuer + "/resource"

    def set_resource_scopes(self, scopes: Iterable[str]) -> None:
        """Make the test resource demand ``scopes`` from now on (to provoke a step-up)."""
        with self._state.lock:
            self._state.resource_scopes = tuple(scopes)

    def set_resource_authentication(
        self, *, acr_values: Iterable[str] = (), max_age: int | None = None
    ) -> None:
        """Make the test resource demand a user authentication (RFC 9470), to provoke a step-up.

        A token whose authorization's ``acr`` is not among ``acr_values``, or
        whose user signed in more than ``max_age`` seconds ago (server clock,
        see :meth:`advance`), is answered 401 ``insufficient_user_authentication``
        with the challenge's ``acr_values`` / ``max_age`` (§3). The authorization
        endpoint meets such a request: a sign-in at the first ``acr_values``
        asked, and a new sign-in when the last is older than ``max_age``
        (plain authorizations reuse the user's sign-in, as a browser session
        would). ``()`` and ``None`` demand nothing.
        """
        with self._state.lock:
            self._state.resource_acr_values = tuple(acr_values)
            self._state.resource_max_age = max_age

    def client(self, client_id: str = "app", **options: Any) -> oauth2_core.Client:
        """An ``oauth2_core.Client`` for a registered client (secret and auth method set).

        Args:
            client_id: A registered client id.
            **options: More ``Client`` keywords (``redirect_uri``, ...).
        """
        import oauth2_core

        with self._state.lock:
            registered = self._state.clients[client_id]
        return oauth2_core.Client(
            registered.client_id,
            registered.client_secret,
            auth_method=options.pop("auth_method", registered.auth_method),
            **options,
        )

    def issue_token(
        self,
        client_id: str = "app",
        *,
        user: str | None = "alice",
        scope: str = "",
        dpop_jkt: str | None = None,
    ) -> dict[str, object]:
        """Mint a token without any HTTP (to test a resource server or UserInfo call).

        Args:
            client_id: The client the token is issued to.
            user: The resource owner, or ``None`` for a client's own token.
            scope: Space-separated scope values.
            dpop_jkt: Bind the access token to the DPoP key with this JWK
                thumbprint (RFC 9449 §6, ``oauth2_core.dpop_jkt(key)``):
                ``token_type`` is then ``DPoP``.

        Returns:
            The token response members (``access_token``, ``refresh_token``, ...).
        """
        with self._state.lock:
            grant = Grant(client_id, user, tuple(scope.split()))
            answer = self._state.issue_tokens(grant, scope=grant.scope, refresh=user is not None)
            if dpop_jkt is not None:
                self._state.access_tokens[str(answer["access_token"])].jkt = dpop_jkt
                answer["token_type"] = "DPoP"
            return answer

    def issue_jwt_access_token(
        self,
        client_id: str = "app",
        *,
        audience: str | list[str],
        user: str = "alice",
        scope: str = "",
        lifetime: float | None = None,
    ) -> str:
        """Mint a JWT access token (RFC 9068 §2) signed with the server's key, without HTTP.

        For testing a resource server's ``AccessTokenVerifier``: the key is the
        one the server's ``jwks_uri`` publishes.

        Raises:
            RuntimeError: PyJWT is not installed (the server has no signing key).
        """
        with self._state.lock:
            now = self._state.now()
            life = self._state.lifetimes.access_token if lifetime is None else lifetime
            claims: dict[str, object] = {
                "iss": self._issuer,
                "aud": audience,
                "sub": user,
                "client_id": client_id,
                "jti": new_secret("mock_jti_"),
                "iat": int(now),
                "exp": int(now + life),
            }
            if scope:
                claims["scope"] = scope
            return self._state.signer.access_token(claims)

    # -- time ------------------------------------------------------------------------------

    def now(self) -> float:
        """The server's clock in POSIX seconds."""
        with self._state.lock:
            return self._state.now()

    def advance(self, seconds: float) -> None:
        """Move the server's clock forward: codes and tokens expire without waiting."""
        with self._state.lock:
            self._state.clock_offset += seconds

    # -- fault injection --------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        error: str | None = "temporarily_unavailable",
        error_description: str | None = None,
        retry_after: int | str | None = None,
        body: bytes | str | None = None,
        content_type: str = "text/html; charset=utf-8",
        path: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests (to ``path``, or to any path) with an error.

        Args:
            n: How many requests.
            status: The HTTP status.
            error: The RFC 6749 ``error`` code; ``None`` with no ``body`` sends an empty body.
            error_description: Its description.
            retry_after: A ``Retry-After`` value (seconds or an HTTP date).
            body: A fixed body instead of an error object (an HTML error page).
            content_type: The media type of ``body``.
            path: Only requests to this path (``"/token"``); ``None`` for any.
        """
        answer = failure_answer(
            status=status,
            error=error,
            error_description=error_description,
            retry_after=retry_after,
            body=body,
            content_type=content_type,
        )
        with self._state.lock:
            self._faults.add("fail", n, path, answer=answer)

    def echo_next(
        self,
        n: int = 1,
        *,
        status: int = 400,
        error: str = "invalid_request",
        www_authenticate: bool = False,
        path: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests with an error that quotes the request back.

        The ``error_description`` and ``error_uri`` (and, with ``www_authenticate``,
        a Bearer challenge's parameters) repeat the ``Authorization`` header, its
        decoded Basic credentials, the DPoP proof, the query and the body, raw,
        form-decoded and JSON-encoded: what a careless server does. A client must
        not let any of it reach a message, a log or a terminal.

        Args:
            n: How many requests.
            status: The HTTP status.
            error: The ``error`` code.
            www_authenticate: Also send the echo in a ``WWW-Authenticate`` Bearer
                challenge (RFC 6750 §3), as a resource server would.
            path: Only requests to this path; ``None`` for any.
        """
        echo = Echo(status=status, error=error, www_authenticate=www_authenticate)
        with self._state.lock:
            self._faults.add("echo", n, path, echo=echo)

    def delay_next(self, n: int = 1, seconds: float = 1.0, *, path: str | None = None) -> None:
        """Wait ``seconds`` before answering the next ``n`` requests (to trip client timeouts)."""
        with self._state.lock:
            self._faults.add("delay", n, path, seconds=seconds)

    def drop_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Close the connection without answering the next ``n`` requests."""
        with self._state.lock:
            self._faults.add("drop", n, path)

    def answer_next(
        self,
        quirk: Quirk,
        n: int = 1,
        *,
        error: str = "invalid_auth",
        path: str | None = "/token",
    ) -> None:
        """Answer the next ``n`` token requests the non-standard way a provider does.

        Args:
            quirk: ``"form"`` (form-encoded body, GitHub), ``"error_200"`` (HTTP 200
                with ``{"ok": false, "error": ...}``, Slack), ``"facebook"``
                (``expires`` instead of ``expires_in``, ``text/plain`` form body),
                ``"string_expires_in"`` (``"3600"``) or ``"lowercase_bearer"``.
            n: How many answers.
            error: The error code for ``"error_200"``.
            path: Which endpoint; default the token endpoint.
        """
        if quirk not in QUIRKS:
            raise ValueError(f"unknown quirk {quirk!r}; expected one of {sorted(QUIRKS)}")
        with self._state.lock:
            self._faults.add("quirk", n, path, quirk=quirk, error=error)

    def slow_down_next(self, n: int = 1) -> None:
        """Answer the next ``n`` device or CIBA polls with ``slow_down`` (RFC 8628 §3.5)."""
        with self._state.lock:
            self._state.slow_downs += n

    def rotate_dpop_nonce(self) -> None:
        """A new DPoP nonce; proofs with the old one get ``use_dpop_nonce`` (RFC 9449 §8.2).

        Only matters with ``require_dpop_nonce`` (or a client's). Also over HTTP:
        ``{"fault": "rotate_dpop_nonce"}`` at the control endpoint.
        """
        with self._state.lock:
            dpop.rotate_nonce(self._state)

    def deny_next(self, n: int = 1) -> None:
        """Deny the next ``n`` authorization requests (``access_denied``)."""
        with self._state.lock:
            self._state.deny_authorizations += n

    def _respond(self, handler: BaseHTTPRequestHandler, body: bytes) -> Answer | None:
        if self._control and (
            self._service.endpoint_path(urlsplit(handler.path).path) == CONTROL_PATH
        ):
            return control_answer(handler, body, self._scripted_fault)
        return self._service.handle(handler, body)

    def _scripted_fault(self, name: str, arguments: dict[str, object]) -> None:
        if name == "clear":
            self.clear_faults()
            return
        getattr(self, name)(**arguments)

    def clear_faults(self) -> None:
        """Forget every queued fault, slow-down and denial."""
        with self._state.lock:
            self._faults.clear()
            self._state.slow_downs = 0
            self._state.deny_authorizations = 0

    # -- device flow -------------------------------------------------------------------

    def approve_device(self, user_code: str, *, user: str | None = None) -> None:
        """Approve a pending device authorization, as the user would on ``/device``.

        Raises:
            ValueError: no pending authorization has this user code, or the user is unknown.
        """
        with self._state.lock:
            name = user or self._state.default_user
            if not front.set_device_decision(self._state, user_code, approve=True, user=name):
                raise ValueError("no pending device authorization with this user_code")

    def deny_device(self, user_code: str) -> None:
        """Deny a pending device authorization (polls then answer ``access_denied``).

        Raises:
            ValueError: no pending authorization has this user code.
        """
        with self._state.lock:
            if not front.set_device_decision(self._state, user_code, approve=False, user=""):
                raise ValueError("no pending device authorization with this user_code")

    def pending_user_codes(self) -> list[str]:
        """The user codes still waiting for the user, oldest first (``ABCD-EFGH``)."""
        with self._state.lock:
            now = self._state.now()
            return [
                format_user_code(d.user_code)
                for d in self._state.devices.values()
                if d.status == "pending" and now < d.expires_at
            ]

    # -- CIBA (poll mode) ------------------------------------------------------------

    def approve_backchannel(self, auth_req_id: str | None = None) -> None:
        """Approve a pending CIBA request (the oldest when ``auth_req_id`` is ``None``).

        Raises:
            ValueError: no such pending request.
        """
        self._decide_backchannel(auth_req_id, approve=True)

    def deny_backchannel(self, auth_req_id: str | None = None) -> None:
        """Deny a pending CIBA request (polls then answer ``access_denied``).

        Raises:
            ValueError: no such pending request.
        """
        self._decide_backchannel(auth_req_id, approve=False)

    def pending_backchannel(self) -> list[tuple[str, str | None]]:
        """The CIBA requests waiting for the user: ``(login_hint user, binding_message)``."""
        with self._state.lock:
            return [(r.user, r.binding_message) for r in ciba.pending_backchannel(self._state)]

    def _decide_backchannel(self, auth_req_id: str | None, *, approve: bool) -> None:
        with self._state.lock:
            if auth_req_id is None:
                waiting = ciba.pending_backchannel(self._state)
                auth_req_id = waiting[0].auth_req_id if waiting else ""
            if not ciba.set_backchannel_decision(self._state, auth_req_id, approve=approve):
                raise ValueError("no pending CIBA request with this auth_req_id")

    # -- recorded requests ----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (a copy)."""
        with self._state.lock:
            return list(self._service.requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._state.lock:
            self._service.requests.clear()

    def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], *, timeout: float = 10.0
    ) -> RecordedRequest:
        """Block until a recorded request satisfies ``predicate``; return it.

        Raises:
            TimeoutError: none did within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._service.changed:
            while True:
                for request in self._service.requests:
                    if predicate(request):
                        return request
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no matching request reached the mock server")
                self._service.changed.wait(left)
