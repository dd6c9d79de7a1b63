"""The interactive flows of the ``oauth2`` command: browser + loopback redirect, device code.

The authorization code flow follows RFC 8252 (OAuth 2.0 for native apps): the
command listens on ``http://127.0.0.1:<ephemeral port>/callback`` (§7.3, the IP
literal rather than ``localhost``, §8.3), opens the system browser (§6) and
checks the redirect with the core's ``parse_callback`` (state, iss, error)
before exchanging the code with PKCE.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import oauth2_core as oc
from oauth2_transports.cli._options import terminal_text
from oauth2_transports.client import OAuth2Client

__all__ = [
    "CallbackTimeoutError",
    "Countdown",
    "LoopbackListener",
    "authorize_in_browser",
    "device_flow",
]

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>oauth2</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)
_RETURN = "You can close this window and return to the terminal."


class CallbackTimeoutError(oc.OAuth2Error):
    """No authorization redirect reached the loopback listener in time (the user did not finish)."""


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer
    timeout = 10  # browsers open idle speculative connections

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the query holds the authorization code."""

    def _page(self, status: int, title: str, text: str) -> None:
        # Fixed texts only: the request's parameters are never reflected into the page.
        page = _PAGE.format(title=title, text=text).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(page)

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        if target.path != self.server.callback_path:
            self._page(404, "Not found", "This is the oauth2 command's redirect listener.")
            return
        params = parse_qsl(target.query, keep_blank_values=True)
        states = [value for name, value in params if name == "state"]
        if not self.server.state_matches(states):
            # Not the redirect of the login in progress (RFC 6749 §10.12): another
            # page or process found the port. Refuse it and keep waiting.
            self._page(
                400,
                "Authorization failed",
                "This redirect does not belong to the sign-in in progress; it was ignored.",
            )
            return
        if any(name == "error" for name, _ in params):
            # The redirect of this login, received: 200, with the bad news as text.
            self._page(200, "Authorization failed", "The authorization server refused. " + _RETURN)
        else:
            self._page(200, "Authorization complete", _RETURN)
        self.server.deliver(self.path)


class _CallbackServer(ThreadingHTTPServer):
    # Threads: a browser's idle pre-connection must not hold up the real redirect.
    daemon_threads = True

    def __init__(self, port: int, callback_path: str) -> None:
        self.callback_path = callback_path
        self.expected_state: str | None = None
        self.received: str | None = None
        self.arrived = threading.Event()
        super().__init__(("127.0.0.1", port), _CallbackHandler)

    def state_matches(self, states: list[str]) -> bool:
        expected = self.expected_state
        if expected is None or len(states) != 1:
            return False
        return hmac.compare_digest(states[0].encode("utf-8"), expected.encode("utf-8"))

    def deliver(self, target: str) -> None:
        if self.received is None:  # the first redirect wins; reloads are ignored
            self.received = target
        self.arrived.set()


class LoopbackListener:
    """Receives the authorization redirect on ``http://127.0.0.1:<port><path>``.

    Serves from a background thread as soon as it is constructed, so a browser
    (or a test's scripted one) may deliver the redirect at any time after
    :meth:`expect` named the ``state`` it must carry. A request to another path
    gets 404; a redirect without that exact ``state`` gets an error page and is
    ignored, and the listener keeps waiting for the real one (a local process
    or web page that finds the port cannot end the login). Pages are fixed
    texts, never the request's parameters, and are not cacheable.

    Args:
        port: 0 (default) for an ephemeral port (RFC 8252 §7.3).
        path: The redirect path.
    """

    def __init__(self, port: int = 0, path: str = "/callback") -> None:
        if not path.startswith("/"):
            raise oc.UsageError("the redirect path must start with '/'")
        try:
            self._server = _CallbackServer(port, path)
        except OSError as exc:
            raise oc.UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
        self.port = int(self._server.server_address[1])
        self.redirect_uri = f"http://127.0.0.1:{self.port}{path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def expect(self, state: str) -> None:
        """Accept only a redirect carrying this ``state`` (compared in constant time)."""
        self._server.expected_state = state

    def wait(self, timeout: float) -> str:
        """The redirect URL once it arrives.

        Raises:
            CallbackTimeoutError: nothing arrived within ``timeout`` seconds.
        """
        if not self._server.arrived.wait(timeout):
            raise CallbackTimeoutError(f"no authorization redirect arrived within {timeout:g} s")
        assert self._server.received is not None
        return f"http://127.0.0.1:{self.port}{self._server.received}"

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackListener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def authorize_in_browser(
    client: OAuth2Client,
    *,
    open_browser: Callable[[str], bool] | None,
    notice: TextIO,
    scope: str | None = None,
    authorization_params: Mapping[str, Any] | None = None,
    token_params: Mapping[str, Any] | None = None,
    port: int = 0,
    path: str = "/callback",
    timeout: float = 300.0,
) -> tuple[oc.Token, oc.PendingAuthorization]:
    """The authorization code grant with PKCE through the user's browser (RFC 8252).

    Args:
        client: The client; its ``redirect_uri`` is replaced by the listener's.
        open_browser: Opens a URL and returns ``False`` when it could not
            (``webbrowser.open`` in the command); ``None`` prints the URL instead.
        notice: Where to talk to the user (standard error).
        scope: The scope to request.
        authorization_params: Extra authorization request parameters.
        token_params: Extra token request parameters.
        port: The listener's port (0 for an ephemeral one).
        path: The redirect path.
        timeout: Seconds to wait for the redirect.

    Returns:
        The token, and the pending authorization it answers (its ``nonce`` is
        what the ID token must carry).

    Raises:
        CallbackError: the redirect failed a check or carried an error.
        CallbackTimeoutError: no redirect within ``timeout`` seconds.
        EndpointError: the token endpoint refused the code.
    """
    with LoopbackListener(port, path) as listener:
        pending = oc.new_pending_authorization(
            client.client, redirect_uri=listener.redirect_uri, scope=scope
        )
        listener.expect(pending.state)
        url = client.authorization_url(pending, **(authorization_params or {}))
        if open_browser is not None:
            notice.write("Opening the authorization page in your browser...\n")
            notice.flush()
        if open_browser is None or not open_browser(url):
            shown = terminal_text(url)
            notice.write(f"Open this URL in a browser to authorize:\n\n  {shown}\n\n")
        notice.write(f"Waiting for the redirect to {listener.redirect_uri} ...\n")
        notice.flush()
        callback = listener.wait(timeout)
    return client.exchange_code(pending, callback, **(token_params or {})), pending


class Countdown:
    """The ``sleep`` given to the device poll: waits, showing the time left.

    On a terminal it rewrites one line every second; elsewhere it writes one
    line per poll.
    """

    def __init__(
        self,
        expires_at: _dt.datetime,
        notice: TextIO,
        *,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._expires_at = expires_at
        self._notice = notice
        self._sleep = sleep
        self._tty = bool(getattr(notice, "isatty", lambda: False)())
        self.polls = 0

    def _line(self) -> str:
        left = (self._expires_at - _dt.datetime.now(_dt.timezone.utc)).total_seconds()
        minutes, seconds = divmod(max(0, int(left)), 60)
        return f"Waiting for approval... the code expires in {minutes}:{seconds:02d}"

    def __call__(self, seconds: float) -> None:
        self.polls += 1
        if not self._tty:
            self._notice.write(self._line() + "\n")
            self._notice.flush()
            self._sleep(seconds)
            return
        remaining = seconds
        while remaining > 0:
            self._notice.write("\r" + self._line() + " ")
            self._notice.flush()
            step = min(1.0, remaining)
            self._sleep(step)
            remaining -= step

    def finish(self) -> None:
        """End the rewritten line."""
        if self._tty and self.polls:
            self._notice.write("\n")


def device_flow(
    client: OAuth2Client,
    *,
    notice: TextIO,
    scope: str | None = None,
    params: Mapping[str, Any] | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> oc.Token:
    """The device authorization grant (RFC 8628): show the code, poll until decided.

    Returns:
        The token once the user approved.

    Raises:
        AccessDeniedError: the user refused.
        DeviceCodeExpiredError: nobody answered in time.
    """
    auth = client.device_authorization(scope=scope, **(params or {}))
    uri, code = terminal_text(auth.verification_uri), terminal_text(auth.user_code)
    notice.write(f"To sign in, open {uri} and enter the code {code}\n")
    if auth.verification_uri_complete:
        notice.write(f"  (or open {terminal_text(auth.verification_uri_complete)})\n")
    notice.flush()
    countdown = Countdown(auth.expires_at, notice, sleep=sleep)
    try:
        return client.poll_device(auth, sleep=countdown)
    finally:
        countdown.finish()
