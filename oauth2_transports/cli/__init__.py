"""``oauth2``: get, inspect and revoke OAuth 2.0 tokens from a terminal.

Subcommands: ``discover``, ``token`` (``--grant client_credentials | password |
authorization_code | device | refresh``), ``revoke``, ``introspect``,
``userinfo``, ``demo`` (every flow against the built-in mock server) and
``mock-server`` (that server, standalone, until Ctrl-C).

Secrets are read from an environment variable, a file or standard input (never
required on the command line). Exit codes: 0 success, 2 usage error (a missing
extra and a refused plain-http URL too), 3 the server refused or answered
something unusable, 4 network error, 5 the user did not finish in time (no
redirect within ``--callback-timeout``, or the device code expired), 1 anything
else (130 on Ctrl-C).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
import webbrowser
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

import oauth2_core as oc
from oauth2_core.discovery import discovery_flow
from oauth2_core.flows import step_flow
from oauth2_core.userinfo import process_userinfo_response, userinfo_request
from oauth2_transports._driver import run
from oauth2_transports._transport import Transport, TransportError
from oauth2_transports.cli._flows import CallbackTimeoutError, authorize_in_browser, device_flow
from oauth2_transports.cli._options import (
    Console,
    build_client,
    extra_params,
    format_mapping,
    format_token,
    read_password,
    read_token_input,
    resolve_server,
    terminal_text,
)
from oauth2_transports.cli._parser import build_parser
from oauth2_transports.client import OAuth2Client

__all__ = [
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_OTHER",
    "EXIT_REFUSED",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "main",
]

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_NETWORK = 4
EXIT_TIMEOUT = 5


def system_browser(environ: Mapping[str, str]) -> Callable[[str], bool]:
    """``webbrowser.open``, except where it could only start a text browser in our terminal."""

    def open_url(url: str) -> bool:
        graphical = environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")
        if sys.platform.startswith("linux") and not graphical:
            return False  # print the URL instead (e.g. over ssh)
        try:
            return webbrowser.open(url)
        except webbrowser.Error:
            return False

    return open_url


def _transport(args: argparse.Namespace, console: Console) -> Transport:
    if console.transport is not None:
        return console.transport
    from oauth2_transports.urllib3 import Urllib3Transport

    return Urllib3Transport(timeout=args.timeout)


def _client(args: argparse.Namespace, console: Console, transport: Transport) -> OAuth2Client:
    client = build_client(args, console)
    server = resolve_server(args, transport, allow_insecure_http=client.allow_insecure_http)
    return OAuth2Client(server, client, transport)


def cmd_discover(args: argparse.Namespace, console: Console, transport: Transport) -> int:
    """``oauth2 discover ISSUER``."""
    flow = discovery_flow(args.issuer, openid=args.openid, allow_insecure_http=args.insecure_http)
    server = run(flow, transport)
    console.stdout.write(format_mapping(server.to_dict(), args.format, what="metadata"))
    return EXIT_OK


def cmd_token(args: argparse.Namespace, console: Console, transport: Transport) -> int:
    """``oauth2 token --grant ...``."""
    if args.resource_url:
        return _resource_url_token(args, console, transport)
    if args.grant is None:
        raise oc.UsageError("oauth2 token needs --grant (or --resource-url)")
    params = extra_params(args)
    resource: dict[str, object] = {"resource": args.resource} if args.resource else {}
    if args.grant == "refresh":
        previous = read_token_input(args, console)
        if not previous.refresh_token:
            raise oc.UsageError("the token input has no refresh_token")
    c = _client(args, console, transport)
    if args.grant == "client_credentials":
        token = c.client_credentials(scope=args.scope, **params, **resource)
    elif args.grant == "password":
        if not args.username:
            raise oc.UsageError("--username is required for --grant password")
        password = read_password(args, console)
        token = c.password(args.username, password, scope=args.scope, **params, **resource)
    elif args.grant == "authorization_code":
        token, _ = authorize_in_browser(
            c,
            open_browser=None if args.no_browser else console.open_browser,
            notice=console.stderr,
            scope=args.scope,
            authorization_params={**params, **resource},
            token_params=resource,
            port=args.port,
            path=args.redirect_path,
            timeout=args.callback_timeout,
        )
    elif args.grant == "device":
        token = device_flow(
            c,
            notice=console.stderr,
            scope=args.scope,
            params={**params, **resource},
            sleep=console.sleep or time.sleep,
        )
    else:
        scope: dict[str, object] = {"scope": args.scope} if args.scope else {}
        token = c.refresh(previous, **scope, **params, **resource)
    console.stdout.write(format_token(token, args.format))
    return EXIT_OK


def _resource_url_token(args: argparse.Namespace, console: Console, transport: Transport) -> int:
    """``oauth2 token --resource-url URL``: the resource-first chain (``cli._resource``)."""
    from oauth2_transports.cli._resource import resource_token

    if args.grant not in (None, "authorization_code"):
        raise oc.UsageError("--resource-url runs the authorization code grant; drop --grant")
    token = resource_token(
        args.resource_url,
        transport,
        open_browser=None if args.no_browser else console.open_browser,
        notice=console.stderr,
        client_id=args.client_id,
        issuer=args.issuer,
        allow_insecure_http=bool(getattr(args, "insecure_http", False)),
        port=args.port,
        path=args.redirect_path,
        timeout=args.callback_timeout,
    )
    console.stdout.write(format_token(token, args.format))
    return EXIT_OK


def _input_token_value(args: argparse.Namespace, console: Console) -> str:
    token = read_token_input(args, console)
    if args.token_type_hint == "refresh_token":
        if not token.refresh_token:
            raise oc.UsageError("the token input has no refresh_token")
        return token.refresh_token
    if not token.access_token:
        raise oc.UsageError("the token input has no access_token")
    return token.access_token


def cmd_revoke(args: argparse.Namespace, console: Console, transport: Transport) -> int:
    """``oauth2 revoke``."""
    value = _input_token_value(args, console)
    _client(args, console, transport).revoke(value, token_type_hint=args.token_type_hint)
    console.stdout.write(format_mapping({"revoked": True}, args.format, what="revocation"))
    return EXIT_OK


def _introspection_dict(info: oc.Introspection) -> dict[str, object]:
    data: dict[str, object] = {"active": info.active}
    for name in ("scope", "client_id", "username", "token_type", "exp", "iat", "nbf"):
        value = getattr(info, name)
        if isinstance(value, tuple):
            value = " ".join(value)
        elif isinstance(value, _dt.datetime):
            value = int(value.timestamp())
        if value is not None:
            data[name] = value
    for name in ("sub", "aud", "iss", "jti"):
        value = getattr(info, name)
        if value is not None:
            data[name] = list(value) if isinstance(value, tuple) else value
    data.update(info.extra)
    return data


def cmd_introspect(args: argparse.Namespace, console: Console, transport: Transport) -> int:
    """``oauth2 introspect``."""
    value = _input_token_value(args, console)
    info = _client(args, console, transport).introspect(value, token_type_hint=args.token_type_hint)
    console.stdout.write(
        format_mapping(_introspection_dict(info), args.format, what="introspection")
    )
    return EXIT_OK


def cmd_userinfo(args: argparse.Namespace, console: Console, transport: Transport) -> int:
    """``oauth2 userinfo``."""
    token = read_token_input(args, console)
    if not token.access_token:
        raise oc.UsageError("the token input has no access_token")
    server = resolve_server(args, transport, allow_insecure_http=args.insecure_http)
    request = userinfo_request(server, token, allow_insecure_http=args.insecure_http)
    info = run(step_flow(request, process_userinfo_response), transport)
    console.stdout.write(format_mapping(info.claims, args.format, what="claims"))
    return EXIT_OK


_Command = Callable[[argparse.Namespace, Console, Transport], int]
_COMMANDS: Mapping[str, _Command] = {
    "discover": cmd_discover,
    "token": cmd_token,
    "revoke": cmd_revoke,
    "introspect": cmd_introspect,
    "userinfo": cmd_userinfo,
}


def _message(exc: BaseException) -> str:
    if isinstance(exc, oc.InsecureHttpError):
        # The library names its keyword; a terminal user needs the command's flag.
        return (
            f"{exc.what} uses plain http on a non-loopback host; use https, or pass "
            "--insecure-http (tokens and secrets then cross the network in the clear)"
        )
    return str(exc)


def _report(console: Console, exc: BaseException) -> None:
    # Library messages name fields, never values, and the driver masked what a
    # server echoed of our request; server text in them is escaped once more here.
    console.stderr.write(f"oauth2: error: {terminal_text(_message(exc))}\n")
    if isinstance(exc, oc.EndpointError):
        if exc.reauthorize:
            console.stderr.write("oauth2: hint: the grant is gone; authorize again\n")
        elif exc.retryable:
            wait = f" after {exc.retry_after:g} s" if exc.retry_after is not None else ""
            console.stderr.write(f"oauth2: hint: the server may accept a retry{wait}\n")


def execute(args: argparse.Namespace, console: Console) -> int:
    """Run a parsed command and map its outcome to an exit code."""
    if args.command == "demo":
        from oauth2_transports.cli._demo import run_demo

        return run_demo(console.stdout)
    if args.command == "mock-server":
        from oauth2_transports.cli._mock_server import run_mock_server

        return run_mock_server(args, console)
    transport: Transport | None = None
    try:
        transport = _transport(args, console)
        return _COMMANDS[args.command](args, console, transport)
    except oc.UsageError as exc:
        _report(console, exc)
        return EXIT_USAGE
    except (CallbackTimeoutError, oc.DeviceCodeExpiredError) as exc:
        _report(console, exc)
        return EXIT_TIMEOUT
    except (oc.ResponseError, oc.CallbackError) as exc:
        _report(console, exc)
        return EXIT_REFUSED
    except TransportError as exc:
        _report(console, exc)
        return EXIT_NETWORK
    except oc.OAuth2Error as exc:
        _report(console, exc)
        return EXIT_OTHER
    except KeyboardInterrupt:
        console.stderr.write("\noauth2: interrupted\n")
        return 130
    finally:
        close = getattr(transport, "close", None)
        if transport is not None and transport is not console.transport and callable(close):
            close()


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    open_browser: Callable[[str], bool] | None = None,
    transport: Transport | None = None,
    sleep: Callable[[float], object] | None = None,
) -> int:
    """The ``oauth2`` console script.

    Args:
        argv: The arguments (default ``sys.argv[1:]``).
        stdout: Where results go (default ``sys.stdout``).
        stderr: Where messages go (default ``sys.stderr``).
        stdin: Where ``--*-stdin`` secrets are read (default ``sys.stdin``).
        environ: Where ``--*-env`` secrets are read (default ``os.environ``).
        open_browser: Opens the authorization URL (default: the system browser).
        transport: Sends the requests (default ``Urllib3Transport``).
        sleep: Waits between device polls (default ``time.sleep``).

    Returns:
        The exit code.
    """
    environ = os.environ if environ is None else environ
    console = Console(
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
        stdin=stdin or sys.stdin,
        environ=environ,
        open_browser=open_browser or system_browser(environ),
        transport=transport,
        sleep=sleep,
    )
    try:
        args = build_parser(console).parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return execute(args, console)
