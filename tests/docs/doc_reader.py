"""The reader of the documentation: a real authorization server and the values a reader types in.

The pages are templates: they talk to ``https://as.example`` and call an API at
``https://api.example`` (RFC 2606 reserves ``.example`` for exactly that), and they use names
the reader fills in: ``client_secret``, ``session``, ``redirect``, the ``callback_url`` the
browser came back to. :class:`Reader` is that reader, on loopback only:

- the authorization server is a real :class:`MockAuthorizationServer` on ``127.0.0.1`` with
  the clients the pages name registered (secret :data:`SECRET`); ``https://as.example`` (and
  ``https://auth.example/o``) become its issuer, ``https://api.example`` a small loopback API
  that wants a ``Bearer`` or ``DPoP`` token; the mock trusts the JWTs of an identity
  provider the reader holds the key of (an ``assertion`` for the JWT bearer grant);
- requests-oauth2's sites (``site``, Facebook's two hosts) become a loopback provider with that
  library's path layout in front of the mock (:mod:`doc_legacy`); another library's blocks
  run in a worker process of their own (:mod:`doc_peer`);
- a name a page uses without defining it is looked up in :class:`Namespace`, which asks the
  reader for it: a callback URL comes from really driving the authorization endpoint with the
  last authorization URL the page produced, a token from a real password grant, and so on;
- the user approves every device code at once (as on a phone), and the browser of the CLI's
  authorization code grant is played by following the URL the command prints, signing in as
  ``alice`` / ``wonderland`` when the server shows its login page;
- ``oauth2 mock-server ... &`` (docs/cli.md) is started as a child the test owns, on a free
  port instead of the page's ``9400`` (which a parallel run may hold), and stopped by its pid
  with Ctrl-C (SIGINT) when the page ends; no other command may end in ``&``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from doc_legacy import LegacyProvider
from doc_parties import ApiServer, IdentityProvider, client_certificates, kms
from doc_shell import Background, Shell

import oauth2_core as oc
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer, MockClient
from oauth2_transports.urllib3 import Urllib3Transport

ROOT = Path(__file__).resolve().parents[2]

SECRET = "s3cr3t"
"""The client secret the reader registered and exports (``client_secret``, ``CLIENT_SECRET``)."""

_CONFIDENTIAL = ("app", "my-service", "web-app", "reporting-job", "svc")
_PUBLIC = ("cli", "tv-app", "my-cli")
# Registered redirect URIs: the default ones and the logout page of docs/howto/logout.md.
_URIS = ("http://127.0.0.1/callback", "https://app.example/cb", "https://app.example/bye")
DOC_CLIENTS = (
    *(MockClient(client_id, SECRET, redirect_uris=_URIS) for client_id in _CONFIDENTIAL),
    MockClient("post-app", SECRET, auth_method="client_secret_post"),
    *(MockClient(client_id) for client_id in _PUBLIC),
)

_DOC_MOCK_PORT = "9400"  # docs/cli.md's `oauth2 mock-server --port 9400`
_AUTHORIZE_URL = re.compile(r"http://127\.0\.0\.1:\d+(?:/\S*)?/authorize\?\S+")


@dataclass
class WebRequest:
    """The request a web framework hands to a view (``request.url``, ``.args``, ``.session``)."""

    url: str = "https://app.example/login"
    session: dict[str, object] = field(default_factory=dict)

    @property
    def args(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}


class Sender:
    """``send(request)`` / ``my_http_stack.send(request)``: the reader's own HTTP stack."""

    def __init__(self, transport: Urllib3Transport) -> None:
        self._transport = transport

    def __call__(self, request: oc.HttpRequest) -> oc.HttpResponse:
        return self._transport.send(request)

    def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        return self._transport.send(request)


class Recorder:
    """A function of the reader's application (``save``, ``retry_later``, ...): records calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> object:
        self.calls.append(args)
        return args[0] if args else None


class Namespace(dict[str, Any]):
    """A page's globals: a name the page uses without defining it is asked of the reader."""

    def __init__(self, reader: Reader, page: str) -> None:
        super().__init__(__name__=f"docs:{page}", __builtins__=builtins)
        self.reader = reader
        self.asked: list[str] = []

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name):
            raise KeyError(name)
        provide = self.reader.providers.get(name)
        if provide is None:
            raise KeyError(name)
        self.asked.append(name)
        value = provide(self)
        if name not in _FRESH:
            self[name] = value  # the reader types it once: the same value for the whole page
        return value


# Values that depend on the moment they are asked for: each use drives the server anew.
_FRESH = frozenset(
    {"callback_url", "callback", "code", "request", "now", "received_at", "assertion"}
)


class Reader:
    """The reader of every page: servers on loopback and the values the pages leave open."""

    def __init__(self, workdir: Path) -> None:
        self.idp = IdentityProvider()
        # docs/howto/fapi2.md: a private_key_jwt client (RFC 7523 §2.2); the server has the
        # public half of its key, the page loads the private JWK from /var/lib/app/.
        fapi_key = oc.generate_dpop_key("ES256")
        (workdir / "fapi-app.jwk").write_text(json.dumps(fapi_key))
        fapi_public = {k: v for k, v in fapi_key.items() if k != "d"}
        fapi_app = MockClient("fapi-app", jwks={"keys": [fapi_public]}, redirect_uris=_URIS)
        client_certificates(workdir)  # docs/howto/mtls.md: /var/lib/app/client.pem, ca.pem ...
        self.mock = MockAuthorizationServer(
            clients=(*DOC_CLIENTS, fapi_app),
            device_interval=1,
            trusted_issuers=self.idp.trust(),
        )
        self.legacy = LegacyProvider(self.mock.issuer)
        self.api = ApiServer()
        self.transport = Urllib3Transport(timeout=10)
        self.workdir = workdir
        self.redirected: list[str] = []
        self.followed: set[str] = set()
        self._stopping = threading.Event()
        self._user = threading.Thread(target=self._approve_devices, daemon=True)
        self._user.start()
        self._redis: subprocess.Popen[bytes] | None = None
        self.mock_server_port = str(_free_port())
        self._background: list[Background] = []
        self._bin = workdir / "bin"
        self._bin.mkdir()
        wrapper = self._bin / "oauth2"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m oauth2_transports "$@"\n')
        wrapper.chmod(0o755)
        self.providers: dict[str, Callable[[Namespace], object]] = self._providers()

    def close(self) -> None:
        self.stop_background()
        self._stopping.set()
        self._user.join(timeout=5)
        self.legacy.stop()
        self.mock.stop()
        self.api.stop()
        self.transport.close()
        if self._redis is not None:
            self._redis.terminate()
            self._redis.wait(timeout=10)

    # -- the templates' hosts ------------------------------------------------------------

    def rewrite(self, text: str) -> str:
        """The page's example hosts replaced by the loopback servers."""
        issuer = self.mock.issuer
        text = self.legacy.rewrite(text)
        text = text.replace("https://as.example", issuer)
        text = text.replace("https://auth.example/o", issuer)
        text = text.replace("https://api.example", self.api.url)
        text = text.replace(f"127.0.0.1:{_DOC_MOCK_PORT}", f"127.0.0.1:{self.mock_server_port}")
        text = text.replace(f"--port {_DOC_MOCK_PORT}", f"--port {self.mock_server_port}")
        return text.replace("/var/lib/app/", f"{self.workdir}/")

    # -- the user ------------------------------------------------------------------------

    def _approve_devices(self) -> None:
        """The user approves every device code as soon as it is shown (RFC 8628 §3.3),
        and every CIBA request on her phone (CIBA Core 1.0 §7.1)."""
        while not self._stopping.wait(0.02):
            for _ in self.mock.pending_backchannel():
                try:
                    self.mock.approve_backchannel()
                except ValueError:  # decided meanwhile
                    continue
            for user_code in self.mock.pending_user_codes():
                try:
                    self.mock.approve_device(user_code, user="alice")
                except Exception:  # decided meanwhile
                    continue

    def follow(self, url: str) -> str:
        """What the browser does with an authorization URL: the callback URL it lands on."""
        self.followed.add(url)
        response = self.transport.send(oc.HttpRequest("GET", url))
        if response.status == 200 and b"name='mock_login'" in response.body:
            response = self._sign_in(url, response.body.decode("utf-8"))
        location = response.headers.get("location")
        assert response.status in (302, 303), f"authorization endpoint answered {response.status}"
        assert location is not None
        return location

    def _sign_in(self, url: str, page: str) -> oc.HttpResponse:
        """The person at the mock server's login page: alice signs in and approves."""
        login = re.search(r"name='mock_login' value='([^']+)'", page)
        assert login is not None, "the login page has no mock_login field"
        form = {"mock_login": html.unescape(login.group(1)), "username": "alice"}
        form.update(password="wonderland", action="approve")
        headers = {"content-type": "application/x-www-form-urlencoded"}
        body = urlencode(form).encode()
        return self.transport.send(oc.HttpRequest("POST", url.split("?")[0], headers, body))

    def _latest_authorization_url(self, ns: Namespace) -> str:
        names = ("url", "uri", "authorization_url")
        candidates = [*reversed(self.redirected), *(dict.get(ns, n) for n in names)]
        for url in candidates:
            if isinstance(url, str) and url not in self.followed and self._is_authorize(url):
                return url
        raise KeyError("callback_url: the page produced no authorization URL to follow")

    def _is_authorize(self, url: str) -> bool:
        return url.startswith(self.mock.url("/authorize?")) or self.legacy.is_authorize(url)

    # -- the names the pages leave to the reader -----------------------------------------

    def _providers(self) -> dict[str, Callable[[Namespace], object]]:
        mock = self.mock

        def client(ns: Namespace) -> object:
            c = dict.get(ns, "c")
            if isinstance(c, OAuth2Client):
                return c.client
            return oc.Client("app", SECRET, redirect_uri="https://app.example/cb")

        def server(ns: Namespace) -> object:
            c = dict.get(ns, "c")
            return c.server if isinstance(c, OAuth2Client) else mock.server_metadata()

        def high_level(ns: Namespace) -> object:
            return OAuth2Client(ns["server"], ns["client"], transport=self.transport)

        def token(ns: Namespace) -> object:
            c = ns["c"]
            return c.password("alice", "wonderland", scope="openid offline_access read write")

        def callback(ns: Namespace) -> object:
            return self.follow(self._latest_authorization_url(ns))

        def code(ns: Namespace) -> object:
            return parse_qs(urlsplit(callback(ns)).query)["code"][0]

        def web_request(ns: Namespace) -> object:
            return WebRequest(callback(ns), ns["session"])

        def device_auth(ns: Namespace) -> object:
            return OAuth2Client(ns["server"], ns["client"], self.transport).device_authorization(
                scope="read"
            )

        def redirect(url: str) -> str:
            self.redirected.append(url)
            return url

        def now(_ns: Namespace) -> object:
            return dt.datetime.now(dt.timezone.utc)

        def constant(value: object) -> Callable[[Namespace], object]:
            return lambda _ns: value

        def recorder(name: str) -> Callable[[Namespace], object]:
            return lambda _ns: Recorder(name)

        providers: dict[str, Callable[[Namespace], object]] = {
            "client_secret": constant(SECRET),
            "secret": constant(SECRET),
            "client_id": constant("app"),
            "issuer": constant(mock.issuer),
            "redirect_uri": constant("https://app.example/cb"),
            "password": constant("wonderland"),
            "server": server,
            "client": client,
            "c": high_level,
            "transport": lambda _ns: self.transport,
            "send": lambda _ns: Sender(self.transport),
            "my_http_stack": lambda _ns: Sender(self.transport),
            "pending": lambda ns: oc.new_pending_authorization(ns["client"]),
            "token": token,
            "callback_url": callback,
            "callback": callback,
            "code": code,
            "site": constant(self.legacy.site("site")),  # requests-oauth2's `site`
            "request": web_request,
            "session": lambda _ns: {},
            "redirect": constant(redirect),
            "auth": device_auth,
            "now": now,
            "received_at": now,
            "jwks": lambda _ns: oc.JwksCache(),
            # RFC 9068: what a client sends to the resource server of docs/howto/resource-server.md
            "access_token_string": lambda _ns: mock.issue_jwt_access_token(
                audience="https://rs.example", scope="read"
            ),
            "incoming_access_token": lambda _ns: mock.issue_token("app", scope="read")[
                "access_token"
            ],
            # RFC 7523 §2.1: a JWT about alice, signed by the identity provider the mock trusts
            "assertion": lambda _ns: self.idp.assertion(mock, subject="alice"),
            "api": constant(self.api.url + "/items"),
            "api_url": constant(self.api.url + "/items"),
            "some_flow": lambda _ns: oc.discovery_flow(mock.issuer),
            # The browser of a resource-first authorization (docs/howto/mcp.md).
            "open_browser_and_wait": constant(self.follow),
            "private_jwk": lambda _ns: oc.generate_dpop_key(),
            "kms_public_jwk": lambda _ns: kms()[0],
            "kms_sign": lambda _ns: kms()[1],
            "r": lambda _ns: self._redis_client(),
        }
        for name in ("save", "done", "show_error", "bad_request", "start_login_again"):
            providers[name] = recorder(name)
        for name in ("retry_later", "send_user_to_login"):
            providers[name] = recorder(name)
        return providers

    def _redis_client(self) -> object:
        import redis

        if self._redis is None:
            exe = shutil.which("redis-server")
            assert exe is not None, "redis-server is needed (apt-get install redis-server)"
            port = _free_port()
            argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
            argv += ["--appendonly", "no", "--dir", str(self.workdir)]
            self._redis = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            self._redis_port = port
        client = redis.Redis(host="127.0.0.1", port=self._redis_port, socket_timeout=5)
        for _ in range(400):
            try:
                if client.ping():
                    return client
            except redis.ConnectionError:
                time.sleep(0.025)
        raise AssertionError("redis-server did not start")

    # -- another library's blocks ---------------------------------------------------------

    def peer_settings(self) -> dict[str, str]:
        """What a reader of a requests-oauthlib or Authlib block fills in (``doc_peer``)."""
        return {
            "client_id": "app",
            "client_secret": SECRET,
            "redirect_uri": "https://app.example/cb",
            "authorization_endpoint": self.mock.url("/authorize"),
            "token_endpoint": self.mock.url("/token"),
            "issuer": self.mock.issuer,
            "api": self.api.url + "/items",
            "api_url": self.api.url + "/items",
        }

    # -- the command line ----------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The reader's shell: ``oauth2`` runs this checkout; the secrets are exported."""
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["PATH"] = f"{self._bin}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONPATH"] = str(ROOT)
        env["CLIENT_SECRET"] = env["SVC_SECRET"] = SECRET
        return env

    def run_shell(self, command: str, env: dict[str, str], cwd: Path) -> Shell:
        """Run one command line with bash, playing the browser for the URLs it prints."""
        if re.search(r"(?<!&)&\s*$", command):
            # A background process would outlive the test (and hold its port).
            raise AssertionError(
                f"{command!r} runs in the background (only `oauth2 mock-server ... &` may): mark "
                'its block <!-- snippet: skip reason="..." --> and test it in tests/face instead'
            )
        proc = subprocess.Popen(
            ["bash", "-c", self.rewrite(command)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None and proc.stdout is not None
        stderr: list[str] = []
        stdout: list[str] = []
        browser = threading.Thread(target=self._browse, args=(proc.stderr, stderr), daemon=True)
        reading = threading.Thread(target=lambda: stdout.extend(proc.stdout or ()), daemon=True)
        browser.start()
        reading.start()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            stderr.append("[timed out after 30 s]\n")
        browser.join(timeout=10)
        reading.join(timeout=10)
        return Shell(command, proc.returncode, "".join(stdout), "".join(stderr))

    def start_background(self, command: str, env: dict[str, str], cwd: Path) -> None:
        """``oauth2 mock-server ... &``: a child the test owns, serving once it says it is ready."""
        proc = subprocess.Popen(
            ["bash", "-c", "exec " + self.rewrite(command)],  # exec: the pid is the server's
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        background = Background(command, proc)
        self._background.append(background)
        if not background.ready.wait(30):
            output = "".join(background.output)[-2000:]
            raise AssertionError(f"`{command}` never said it was ready:\n{output}")

    def stop_background(self) -> list[tuple[str, int]]:
        """Ctrl-C (SIGINT) to each background command, by its pid: its exit code."""
        stopped: list[tuple[str, int]] = []
        while self._background:
            background = self._background.pop()
            stopped.append((background.command, background.stop()))
        return stopped

    def _browse(self, stream: Iterator[str], lines: list[str]) -> None:
        for line in stream:
            lines.append(line)
            match = _AUTHORIZE_URL.search(line)
            if match is not None:
                try:
                    location = self.follow(match.group(0))
                    # the browser delivers the redirect to the command's loopback listener
                    delivered = self.transport.send(oc.HttpRequest("GET", location))
                    lines.append(f"[browser: the listener answered {delivered.status}]\n")
                except Exception as exc:  # shown with the command's output
                    lines.append(f"[browser failed: {exc!r}]\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
