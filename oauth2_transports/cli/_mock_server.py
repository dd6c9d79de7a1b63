"""``oauth2 mock-server``: the mock authorization server as a standalone process.

For trying the command or a browser flow by hand, and for CI containers that
need an authorization server to test against. It serves
:class:`~oauth2_transports.testing.MockAuthorizationServer` (a test tool, not a
production server: in-memory, published demo credentials) until SIGINT (Ctrl-C)
or SIGTERM, then exits 0. By default the authorization endpoint shows a login
page a browser can click through; ``--auto-approve`` approves at once.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

import oauth2_core as oc
from oauth2_transports.cli._options import Console, terminal_text

if TYPE_CHECKING:  # the server loads only for this command, not for every `oauth2` run
    from oauth2_transports.testing.mock_server import MockAuthorizationServer

__all__ = ["READY", "add_mock_server_arguments", "check_issuer", "run_mock_server"]

#: The line that says the server accepts requests (scripts and tests wait for it).
READY = "oauth2 mock-server: ready"
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def add_mock_server_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``mock-server`` options."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "--issuer",
        metavar="URL",
        help="the issuer to announce when clients use another name (default http://HOST:PORT)",
    )
    parser.add_argument(
        "--auto-approve",
        action="store_true",
        help="approve authorization requests at once (as alice, or login_hint) instead of "
        "showing the login page",
    )
    parser.add_argument(
        "--dpop-require-nonce",
        action="store_true",
        help="DPoP proofs must carry the server's nonce (RFC 9449 section 8): a proof "
        'without it gets a nonce challenge; POST {"fault": "rotate_dpop_nonce"} to '
        "/_mock/faults hands out a new one",
    )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    # SIGTERM (docker stop, kill) and SIGINT end the server. Only the main
    # thread may install a handler; elsewhere (a test calling main()) skip it.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    # A shell starts background jobs (`oauth2 mock-server &` in a script) with
    # SIGINT ignored, and Python then never turns it into KeyboardInterrupt;
    # the command promises that Ctrl-C (kill -INT) stops it, so it listens anyway.
    previous_int = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def _describe(server: MockAuthorizationServer, out: TextIO, *, login_page: bool) -> None:
    from oauth2_transports.testing._mock_model import DEFAULT_CLIENTS, DEFAULT_USERS

    def line(text: str = "") -> None:
        out.write(terminal_text(text) + "\n" if text else "\n")

    line("oauth2 mock-server: a test tool, not a production server (in-memory, no TLS).")
    line(f"issuer     {server.issuer}")
    line(f"discovery  {server.url('/.well-known/openid-configuration')}")
    if login_page:
        line("authorize  a login page: enter a user below and click Approve or Deny")
    else:
        line("authorize  approves at once (as alice, or the login_hint user)")
    line(f"faults     POST {server.url('/_mock/faults')} with JSON, e.g.")
    line('           {"fault": "fail_next", "status": 503, "path": "/token"}; {"fault": "clear"}')
    line()
    line("clients (published demo credentials: never use them for anything real):")
    for client in DEFAULT_CLIENTS:
        secret = client.client_secret or "(public client, no secret)"
        line(f"  {client.client_id:<9} {secret:<28} {client.auth_method}")
    line("  redirect URIs: http://127.0.0.1:<any port>/callback, https://app.example/cb")
    line()
    line("users (published demo credentials):")
    for user in DEFAULT_USERS:
        line(f"  {user.username:<9} password {user.password}")
    line()


def run_mock_server(
    args: argparse.Namespace, console: Console, *, stop: threading.Event | None = None
) -> int:
    """Serve until SIGINT / SIGTERM (or ``stop`` is set); print issuer, clients and users.

    Returns:
        0 after a clean stop; 2 when the address cannot be used.
    """
    stop = stop or threading.Event()
    login_page = not args.auto_approve
    try:
        check_issuer(args.issuer)
    except oc.UsageError as exc:
        console.stderr.write(f"oauth2: error: {terminal_text(str(exc))}\n")
        return 2
    if args.host not in _LOOPBACK:
        console.warn(
            f"listening on {args.host}: whoever reaches this port can get tokens with the "
            "published demo credentials"
        )
    from oauth2_transports.testing.mock_server import MockAuthorizationServer

    try:
        server = MockAuthorizationServer(
            host=args.host,
            port=args.port,
            issuer=args.issuer,
            login_page=login_page,
            control=True,
            require_dpop_nonce=args.dpop_require_nonce,
        )
    except OSError as exc:
        where = f"{args.host}:{args.port}"
        message = f"cannot listen on {where}: {exc.strerror or exc}"
        console.stderr.write(f"oauth2: error: {terminal_text(message)}\n")
        return 2
    out = console.stdout
    try:
        with _stop_on_signals(stop):
            _describe(server, out, login_page=login_page)
            out.write(f"{READY} (port {server.port}); Ctrl-C or SIGTERM stops it\n")
            out.flush()
            try:
                while not stop.wait(0.2):
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        server.stop()
    out.write("oauth2 mock-server: stopped\n")
    out.flush()
    return 0


def check_issuer(value: str | None) -> None:
    """An ``--issuer`` must be an absolute http(s) URL without query or fragment (RFC 8414 §2)."""
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise oc.UsageError("--issuer must be an http(s) URL without query or fragment")
