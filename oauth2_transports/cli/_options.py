"""The ``oauth2`` command's inputs and outputs: secrets, server, client, formats.

Secrets (client secret, password, tokens) come from an environment variable, a
file or standard input, never from the command line, where other users of the
machine can read them in the process list. Nothing here prints a secret except
the token a command was asked for.

Everything the server chose (token values, claim names and values, metadata,
error texts, URLs) reaches the terminal through :func:`terminal_text`, which
escapes control and bidi characters visibly, and ``--format env`` names every
variable ``OAUTH2_<NAME>`` with ``NAME`` in ``[A-Z0-9_]``: a server cannot
set ``PATH`` or ``LD_PRELOAD`` in a shell that evaluates the output.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import getpass
import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import urlsplit

import attrs

import oauth2_core as oc
from oauth2_core.discovery import discovery_flow
from oauth2_core.errors import escape_controls
from oauth2_transports._driver import run
from oauth2_transports._transport import Transport

__all__ = [
    "ENDPOINT_FLAGS",
    "ENV_PREFIX",
    "Console",
    "build_client",
    "extra_params",
    "format_mapping",
    "format_token",
    "read_client_secret",
    "read_password",
    "read_token_input",
    "resolve_server",
    "shell_name",
    "terminal_text",
]

#: Metadata members that may be given on the command line instead of discovered.
ENDPOINT_FLAGS = (
    "authorization_endpoint",
    "token_endpoint",
    "device_authorization_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "userinfo_endpoint",
)


@attrs.define
class Console:
    """Where the command reads and writes, and what it may do: injectable for tests."""

    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    environ: Mapping[str, str]
    open_browser: Callable[[str], bool]
    transport: Transport | None = None
    sleep: Callable[[float], object] | None = None
    _stdin_used: str | None = None

    def read_stdin(self, what: str, *, whole: bool = False) -> str:
        """Standard input, at most once per command: one line (a secret), or all of it.

        ``whole`` reads to the end: a token may be the multi-line JSON that
        ``oauth2 token`` prints.
        """
        if self._stdin_used is not None:
            raise oc.UsageError(f"standard input already holds the {self._stdin_used}")
        self._stdin_used = what
        text = self.stdin.read() if whole else self.stdin.readline()
        if not text.strip(" \t\r\n"):
            raise oc.UsageError(f"standard input is empty; expected the {what}")
        return text.strip(" \t\r\n") if whole else text.rstrip("\r\n")

    def warn(self, text: str) -> None:
        """A warning on standard error."""
        self.stderr.write(f"oauth2: warning: {text}\n")


def _from_sources(
    console: Console,
    what: str,
    env: str | None,
    path: str | None,
    stdin: bool,
    *,
    whole: bool = False,
) -> str | None:
    given = [x for x in (env, path, stdin or None) if x]
    if len(given) > 1:
        raise oc.UsageError(f"give the {what} one way only (env, file or stdin)")
    if env:
        value = console.environ.get(env)
        if value is None:
            raise oc.UsageError(f"environment variable {env} (for the {what}) is not set")
        return value
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise oc.UsageError(f"the {what} file is not UTF-8") from exc
        except OSError as exc:
            raise oc.UsageError(f"cannot read the {what} file: {exc.strerror}") from exc
    if stdin:
        return console.read_stdin(what, whole=whole)
    return None


def read_client_secret(args: argparse.Namespace, console: Console) -> str | None:
    """The client secret from ``--client-secret-env/-file/-stdin``.

    ``--client-secret SECRET`` works too, with a warning: the process list shows it.
    """
    value = _from_sources(
        console,
        "client secret",
        args.client_secret_env,
        args.client_secret_file,
        args.client_secret_stdin,
    )
    if args.client_secret is not None:
        if value is not None:
            raise oc.UsageError("give the client secret one way only")
        console.warn(
            "--client-secret puts the secret in the process list and shell history; "
            "use --client-secret-env, --client-secret-file or --client-secret-stdin"
        )
        value = args.client_secret
    return value or None


def read_password(args: argparse.Namespace, console: Console) -> str:
    """The resource owner's password from ``--password-env/-file/-stdin`` or a prompt."""
    value = _from_sources(
        console, "password", args.password_env, args.password_file, args.password_stdin
    )
    if value is not None:
        return value
    if console.stdin.isatty():
        return getpass.getpass(f"Password for {args.username}: ")
    raise oc.UsageError("no password: use --password-env, --password-file or --password-stdin")


def read_token_input(args: argparse.Namespace, console: Console) -> oc.Token:
    """The token a command works on: a raw token string, or the JSON ``oauth2 token`` printed.

    A raw string is taken as the access token, or as the refresh token for
    ``--grant refresh`` and ``--token-type-hint refresh_token``.
    """
    raw = _from_sources(
        console, "token", args.token_env, args.token_file, args.token_stdin, whole=True
    )
    if raw is None:
        raise oc.UsageError("no token: use --token-env, --token-file or --token-stdin")
    text = raw.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise oc.UsageError("the token input looks like JSON but does not parse") from exc
        if isinstance(data, dict) and "access_token" not in data and "refresh_token" in data:
            data = {**data, "access_token": ""}
        return oc.Token.from_dict(data)
    if not text:
        raise oc.UsageError("the token input is empty")
    wants_refresh = (
        getattr(args, "grant", None) == "refresh"
        or getattr(args, "token_type_hint", None) == "refresh_token"
    )
    if wants_refresh:
        return oc.Token(access_token="", refresh_token=text)
    return oc.Token(access_token=text)


def build_client(args: argparse.Namespace, console: Console) -> oc.Client:
    """The ``oauth2_core.Client`` the options describe."""
    if not args.client_id:
        raise oc.UsageError("--client-id is required")
    secret = read_client_secret(args, console)
    options: dict[str, Any] = {
        "allow_insecure_http": args.insecure_http,
        "basic_encoding": args.basic_encoding,
    }
    if args.auth_method:
        options["auth_method"] = args.auth_method
    return oc.Client(args.client_id, secret, **options)


def resolve_server(
    args: argparse.Namespace, transport: Transport, *, allow_insecure_http: bool
) -> oc.ServerMetadata:
    """Endpoints given as options, or else the issuer's discovered metadata."""
    given = {name: getattr(args, name) for name in ENDPOINT_FLAGS if getattr(args, name, None)}
    if given:
        issuer = args.issuer
        if not issuer:
            parts = urlsplit(next(iter(given.values())))
            issuer = f"{parts.scheme}://{parts.netloc}"
        return oc.ServerMetadata(issuer, **given)
    if not args.issuer:
        raise oc.UsageError("--issuer is required (or give the endpoints, e.g. --token-endpoint)")
    flow = discovery_flow(args.issuer, openid=args.openid, allow_insecure_http=allow_insecure_http)
    return run(flow, transport)


def extra_params(args: argparse.Namespace) -> dict[str, object]:
    """``--param NAME=VALUE`` (repeatable) as keyword parameters; repeats become lists."""
    params: dict[str, object] = {}
    for item in args.param or ():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise oc.UsageError("--param takes NAME=VALUE")
        previous = params.get(name)
        if previous is None:
            params[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            params[name] = [previous, value]
    return params


# -- output ---------------------------------------------------------------------------


def _seconds_left(when: _dt.datetime | None) -> int | None:
    if when is None:
        return None
    return int((when - _dt.datetime.now(_dt.timezone.utc)).total_seconds())


#: The prefix of every ``--format env`` variable: the server names none of them.
ENV_PREFIX = "OAUTH2_"
_NOT_NAME = re.compile(r"[^A-Z0-9_]")


def terminal_text(value: object) -> str:
    """``value`` as the command prints it: the one way server text reaches the terminal.

    C0 and C1 controls (ESC, CSI, OSC 8 hyperlinks, BEL, backspace, CR, LF), DEL
    and Unicode bidi overrides and isolates are escaped visibly (``\\x1b``,
    ``\\u202e``), never passed to the terminal and never silently dropped.
    """
    return escape_controls(_text(value))


def shell_name(name: str) -> str | None:
    """The ``--format env`` variable for the member ``name``: ``OAUTH2_`` + ``[A-Z0-9_]``.

    Other characters (``$``, ``(``, spaces, non-ASCII letters) become ``_``; a
    name with nothing left is dropped (``None``).
    """
    key = _NOT_NAME.sub("_", name.upper())
    return ENV_PREFIX + key if key.strip("_") else None


def _env_lines(rows: Iterable[tuple[str, object]]) -> str:
    lines = []
    seen: set[str] = set()
    for name, value in rows:
        key = shell_name(name)
        if value is None or key is None or key in seen:
            continue  # two names mapped to one variable: the first (sorted) wins
        seen.add(key)
        lines.append(f"{key}={shlex.quote(terminal_text(value))}")
    return "\n".join(lines) + "\n"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, (dict, Mapping)):
        return json.dumps(dict(value), sort_keys=True)
    return str(value)


def _table(rows: Iterable[tuple[str, object]]) -> str:
    kept = [
        (terminal_text(name), terminal_text(value)) for name, value in rows if value is not None
    ]
    width = max((len(name) for name, _ in kept), default=0)
    return "".join(f"{name.ljust(width)}  {value}\n" for name, value in kept)


def format_token(token: oc.Token, fmt: str) -> str:
    """The token as ``json`` (``Token.to_dict`` + ``expires_in``), ``env``, ``header`` or ``table``.

    Only ``json`` keeps everything ``Token.from_dict`` needs to rebuild the token.
    """
    if fmt == "header":
        # Only a type the library knows how to present (RFC 6749 §7.1): never "mac ...".
        kind, value = oc.token_scheme(token), terminal_text(token.access_token)
        return f"Authorization: {kind} {value}\n"
    rows: list[tuple[str, object]] = [
        ("access_token", token.access_token),
        ("token_type", token.token_type),
        ("expires_in", _seconds_left(token.expires_at)),
        ("expires_at", token.expires_at),
        ("refresh_token", token.refresh_token),
        ("scope", token.scope),
        ("id_token", token.id_token),
    ]
    if fmt == "env":
        return _env_lines(rows)
    if fmt == "table":
        return _table(rows + sorted(token.extra.items()))
    data = token.to_dict()
    left = _seconds_left(token.expires_at)
    if left is not None:
        data["expires_in"] = left
    # ensure_ascii (the default) escapes every control, C1 and bidi character.
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def format_mapping(data: Mapping[str, object], fmt: str, *, what: str) -> str:
    """Metadata, introspection or claims as ``json``, ``env`` or ``table``."""
    if fmt == "header":
        raise oc.UsageError(f"--format header is only for tokens, not for {what}")
    rows = sorted(data.items())
    if fmt == "env":
        return _env_lines(rows)
    if fmt == "table":
        return _table(rows)
    return json.dumps(dict(data), indent=2, sort_keys=True, default=_text, ensure_ascii=True) + "\n"
