"""The requests integration (DESIGN.md §3): ``RequestsTransport``.

``RequestsTransport`` sends an ``oauth2_core.HttpRequest`` verbatim through a
``requests.Session`` and returns every status as an ``HttpResponse``. requests
would otherwise add credentials from ``~/.netrc``, the session's ``auth`` and
its cookie jar to OAuth requests; this module keeps all three out.

The auth hook ``OAuth2Auth`` (in ``_requests_auth``) is importable from here.
"""

from __future__ import annotations

import zlib
from types import TracebackType

import requests
import requests.adapters
import requests.auth
import requests.exceptions as rex
import urllib3.exceptions

from oauth2_core import Headers, HttpRequest, HttpResponse, UsageError
from oauth2_transports._body import ACCEPT_ENCODING, CHUNK_SIZE, read_body
from oauth2_transports._clock import Clock, stamp, utc_now
from oauth2_transports._deadline import arm_pool_manager, check_deadline, watch
from oauth2_transports._failures import ErrorKinds, timed_out, wrap_error
from oauth2_transports._requests_auth import OAuth2Auth  # re-exported: the hook's public home
from oauth2_transports._settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, check_settings

__all__ = ["OAuth2Auth", "RequestsTransport"]

_KINDS: ErrorKinds = (
    (rex.Timeout, "timed out"),  # before ConnectionError: ConnectTimeout is both
    (rex.SSLError, "TLS failure"),
    (rex.ProxyError, "proxy failure"),
    ((rex.ContentDecodingError, urllib3.exceptions.DecodeError, zlib.error), "undecodable body"),
    (rex.ChunkedEncodingError, "protocol error"),
    (rex.ConnectionError, "connection failed"),
    ((rex.InvalidURL, rex.MissingSchema, rex.InvalidSchema, rex.URLRequired), "invalid URL"),
)


_ERRORS = (rex.RequestException, urllib3.exceptions.HTTPError, OSError, zlib.error)


class _HeadersAsGiven(requests.auth.AuthBase):
    """An auth that changes nothing.

    Passing any ``auth`` stops requests from looking up ``~/.netrc`` (or
    ``$NETRC``), and this one also overrides the session's ``auth`` and
    credentials in the URL: the ``Authorization`` sent is the core's or none.
    """

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


_AS_GIVEN = _HeadersAsGiven()


class RequestsTransport:
    """A :class:`~oauth2_transports.Transport` over a ``requests.Session``.

    Safe to share between threads for this use: each send only reads the
    session's settings, and its connection pools are thread-safe.

    Args:
        session: The session to send with; its adapters (connection pools,
            ``max_retries``), ``verify``, ``cert``, ``proxies`` and default
            headers apply (and, when its ``trust_env`` is true, proxy and CA
            bundle environment variables). Its ``auth``, cookies, hooks and
            ``.netrc`` never do. Keep its adapters at ``max_retries=0`` (the
            requests default) for the no-retries guarantee. Default: a new
            session that ignores the environment, closed by :meth:`close`.
            The pool managers of its adapters are made to guard the deadline.
        timeout: Seconds allowed to connect and between two reads
            (default ``DEFAULT_TIMEOUT``, 30 s).
        deadline: Seconds allowed for the whole exchange: connect, send,
            status line, headers and body. Default: ``timeout``.
        max_body_bytes: The largest decoded body accepted.
        clock: Stamps ``HttpResponse.received_at``; must return an aware datetime.

    Raises:
        UsageError: ``timeout``, ``deadline`` or ``max_body_bytes`` is out of range.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        check_settings(timeout, max_body_bytes)
        self._deadline = check_deadline(deadline, timeout)
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            session.trust_env = False  # embeddable: no environment variables read
            del session.headers["Accept"]  # not needed by requests; the core sets its own
            session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what Inflater decodes
            for prefix in ("https://", "http://"):
                session.mount(prefix, requests.adapters.HTTPAdapter(max_retries=0))
        self._session = session
        self._timeout = (min(timeout, self._deadline), timeout)
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._closed = False

    @property
    def deadline(self) -> float:
        """Seconds one :meth:`send` may take in all, connect to last body byte."""
        return self._deadline

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed, outlived the deadline, or the
                body exceeds the cap or has a content coding that is refused.
        """
        if self._closed:
            raise UsageError("this transport is closed; create a new one")
        outgoing = requests.Request(
            request.method,
            request.url,
            # One value per name, repeated fields joined with ", " (RFC 9110 §5.3):
            # requests takes a mapping, and Headers joins them on lookup.
            headers=dict(request.headers),
            data=request.body or None,
            auth=_AS_GIVEN,
        )
        with watch(self._deadline) as alarm:
            try:
                response = self._open(request, outgoing)
                try:
                    received_at = stamp(self._clock)
                    coding = response.headers.get("content-encoding")
                    raw = response.raw.stream(CHUNK_SIZE, decode_content=False)
                    body = read_body(request, self._max_body_bytes, coding, raw)
                    if alarm.expired:  # a cut socket can look like the end of the body
                        raise timed_out(request, self._deadline) from TimeoutError(
                            "deadline passed"
                        )
                finally:
                    response.close()  # back to the pool when fully read, closed otherwise
            except _ERRORS as exc:
                expired = self._deadline if alarm.expired else None
                raise wrap_error(exc, request, _KINDS, deadline=expired) from exc
        return HttpResponse(
            status=response.status_code,
            # response.headers merges repeated fields; the urllib3 ones keep them apart.
            headers=Headers(list(response.raw.headers.items())),
            body=body,
            received_at=received_at,
        )

    def _open(self, request: HttpRequest, outgoing: requests.Request) -> requests.Response:
        session = self._session
        prepared = session.prepare_request(outgoing)
        if "cookie" not in request.headers:
            prepared.headers.pop("Cookie", None)  # from the session's jar
        url = prepared.url or request.url
        # The session's verify and cert passed explicitly: unlike Session.request, a
        # CA bundle set on the session then wins over REQUESTS_CA_BUNDLE (requests#3829).
        settings = session.merge_environment_settings(url, {}, True, session.verify, session.cert)
        verify: bool | str = True if settings["verify"] is None else settings["verify"]
        adapter = session.get_adapter(url)
        if isinstance(adapter, requests.adapters.HTTPAdapter):
            proxy = requests.utils.select_proxy(url, settings["proxies"])
            manager = adapter.poolmanager if proxy is None else adapter.proxy_manager_for(proxy)
            arm_pool_manager(manager)
        # The adapter, not session.send(): on a 3xx, session.send() reads the whole
        # body, uncapped, to prepare the next request, and it fills the cookie jar.
        return adapter.send(
            prepared,
            stream=True,
            timeout=self._timeout,
            verify=verify,
            cert=settings["cert"],
            proxies=settings["proxies"],
        )

    def close(self) -> None:
        """Close the session if this transport created it (a session passed in stays open)."""
        self._closed = True
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> RequestsTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
