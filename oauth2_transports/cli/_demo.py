"""``oauth2 demo``: every flow against the mock authorization server, with a transcript.

It starts :class:`~oauth2_transports.testing.MockAuthorizationServer` (a test
tool) on loopback and runs discovery, client credentials (basic and post),
password, authorization code + PKCE through the CLI's own loopback listener
(with a scripted browser), UserInfo, introspection, refresh with rotation,
revocation, the device flow, and the typed errors of a denied authorization,
a wrong secret, a failing server and provider quirks. Exit status 0 only when
every step passed.
"""

from __future__ import annotations

import datetime as _dt
import io
import threading
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

import oauth2_core as oc
from oauth2_transports.cli._flows import authorize_in_browser, device_flow
from oauth2_transports.cli._transcript import Printer, TranscriptTransport, mask, scripted_browser
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing.mock_server import MockAuthorizationServer

__all__ = ["run_demo"]

E = TypeVar("E", bound=BaseException)


class DemoStepError(Exception):
    """A step did not behave as the demo expects."""


class DemoStepSkippedError(Exception):
    """A step that cannot run on this installation; the message says why and what to install."""


class _Notice(io.StringIO):
    """What the CLI tells the user (stderr in the command), shown in the transcript."""

    def __init__(self, printer: Printer) -> None:
        super().__init__()
        self._printer = printer

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self._printer.line(f"    cli: {line.strip()}")
        return len(text)


def _describe(token: oc.Token) -> str:
    parts = [f"{token.token_type} {mask('access_token', token.access_token)}"]
    if token.expires_at is not None:
        left = (token.expires_at - _dt.datetime.now(_dt.timezone.utc)).total_seconds()
        parts.append(f"expires in {round(left)} s")
    if token.scope is not None:
        parts.append(f"scope {' '.join(token.scope)!r}")
    if token.refresh_token:
        parts.append("+ refresh token")
    if token.id_token:
        parts.append("+ ID token")
    return ", ".join(parts)


class _Demo:
    def __init__(
        self, server: MockAuthorizationServer, transport: TranscriptTransport, printer: Printer
    ) -> None:
        self.server = server
        self.transport = transport
        self.printer = printer
        self.meta = server.server_metadata()
        self.app = OAuth2Client(self.meta, server.client("app"), transport)
        self.public = OAuth2Client(self.meta, oc.Client("cli"), transport)
        self.password_token: oc.Token | None = None
        self.code_token: oc.Token | None = None
        self.pending: oc.PendingAuthorization | None = None
        # The client's own up-front check decides whether OpenID is possible here.
        self.openid_missing: str | None = None
        try:
            oc.check_id_token_support(self.meta, self.public.client, scope="openid")
        except oc.UsageError as exc:
            self.openid_missing = str(exc)

    def _code_token(self) -> oc.Token:
        if self.code_token is None:
            raise DemoStepError("the authorization code step gave no token")
        return self.code_token

    def say(self, text: str) -> None:
        self.printer.line(f"    {text}")

    def expect(self, kind: type[E], action: Callable[[], object]) -> E:
        try:
            action()
        except kind as exc:
            self.say(f"raised {type(exc).__name__}: {exc}")
            return exc
        raise DemoStepError(f"expected {kind.__name__}")

    # -- the steps, in order -------------------------------------------------------------

    def discovery(self) -> str:
        self.say("python: OAuth2Client.discover(issuer, client)")
        c = OAuth2Client.discover(self.server.issuer, self.server.client("app"), self.transport)
        if c.server.token_endpoint != self.meta.token_endpoint:
            raise DemoStepError("discovered metadata differs")
        return f"issuer {c.server.issuer} checked; {len(c.server.to_dict())} metadata members"

    def client_credentials_basic(self) -> str:
        self.say('python: c.client_credentials(scope="read write")  # client_secret_basic')
        return _describe(self.app.client_credentials(scope="read write"))

    def client_credentials_post(self) -> str:
        c = OAuth2Client(self.meta, self.server.client("post-app"), self.transport)
        self.say('python: c.client_credentials(scope="read")  # client_secret_post')
        return _describe(c.client_credentials(scope="read"))

    def password(self) -> str:
        self.say('python: c.password("alice", password, scope="read")  # legacy grant')
        self.password_token = self.app.password("alice", "wonderland", scope="read")
        return _describe(self.password_token)

    def authorization_code(self) -> str:
        self.say("same code path as `oauth2 token --grant authorization_code`, browser scripted")
        scope = "openid profile email"
        if self.openid_missing is not None:
            scope = "profile email"
            self.say("openid left out of the scope: no ID token could be validated here")
        self.code_token, self.pending = authorize_in_browser(
            self.public,
            open_browser=scripted_browser(self.printer),
            notice=_Notice(self.printer),
            scope=scope,
            timeout=10,
        )
        return _describe(self.code_token)

    def id_token(self) -> str:
        if self.openid_missing is not None:
            raise DemoStepSkippedError(self.openid_missing)
        token = self._code_token()
        if token.id_token is None:
            raise DemoStepError("openid was asked for and no ID token arrived")
        from oauth2_core.id_token import id_token_flow
        from oauth2_transports._driver import run

        if self.pending is None:
            raise DemoStepError("the authorization code step gave no pending authorization")
        self.say("python: run(id_token_flow(token, server=..., client=..., pending=...), t)")
        now = _dt.datetime.now(_dt.timezone.utc)
        flow = id_token_flow(
            token, server=self.meta, client=self.public.client, pending=self.pending, now=now
        )
        claims = run(flow, self.transport)
        return f"signature, iss, aud, exp, nonce and at_hash valid; sub={claims['sub']!r}"

    def userinfo(self) -> str:
        self.say("python: c.userinfo(token)")
        info = self.public.userinfo(self._code_token())
        return f"sub={info.sub!r}, name={info.claims.get('name')!r}"

    def introspection(self) -> str:
        self.say("python: c.introspect(token.access_token)")
        info = self.app.introspect(self._code_token().access_token)
        if not info.active:
            raise DemoStepError("a fresh token is inactive")
        return f"active=True, sub={info.sub!r}, client_id={info.client_id!r}"

    def refresh(self) -> str:
        old = self._code_token()
        self.say("python: c.refresh(token)")
        new = self.public.refresh(old)
        if new.refresh_token == old.refresh_token:
            raise DemoStepError("the refresh token was not rotated")
        self.say("replaying the old (rotated) refresh token:")
        exc = self.expect(oc.EndpointError, lambda: self.public.refresh(old))
        if exc.error != "invalid_grant" or not exc.reauthorize:
            raise DemoStepError("reuse of a rotated refresh token was not refused")
        return "rotated; the replay is invalid_grant (reauthorize=True)"

    def revocation(self) -> str:
        token = self.password_token
        if token is None or token.refresh_token is None:
            raise DemoStepError("the password step gave no refresh token")
        self.say('python: c.revoke(token.refresh_token, token_type_hint="refresh_token")')
        self.app.revoke(token.refresh_token, token_type_hint="refresh_token")
        if self.app.introspect(token.access_token).active:
            raise DemoStepError("the access token outlived its revoked grant")
        return "revoked; introspection now says active=False for its access token"

    def device(self) -> str:
        self.say("same code path as `oauth2 token --grant device`")
        problems: list[BaseException] = []

        def approve() -> None:
            try:
                self.server.wait_for(
                    lambda r: r.path == "/token" and r.error == "authorization_pending"
                )
                code = self.server.pending_user_codes()[0]
                self.say(f"(the user enters {code} on the device page and approves)")
                self.server.approve_device(code)
            except Exception as exc:  # reported by the step, not lost in the thread
                problems.append(exc)

        helper = threading.Thread(target=approve, daemon=True)
        helper.start()
        token = device_flow(self.public, notice=_Notice(self.printer), scope="read")
        helper.join(timeout=10)
        if problems:
            raise DemoStepError(f"approving failed: {problems[0]!r}")
        return _describe(token)

    def denied(self) -> str:
        self.say("the user clicks Deny (login_hint=deny on the mock):")
        exc = self.expect(
            oc.AuthorizationError,
            lambda: authorize_in_browser(
                self.public,
                open_browser=scripted_browser(self.printer),
                notice=_Notice(self.printer),
                scope="read",
                authorization_params={"login_hint": "deny"},
                timeout=10,
            ),
        )
        return f"AuthorizationError(error={exc.error!r})"

    def wrong_secret(self) -> str:
        wrong = OAuth2Client(self.meta, oc.Client("app", "not-the-secret"), self.transport)
        exc = self.expect(oc.EndpointError, lambda: wrong.client_credentials())
        if exc.error != "invalid_client" or exc.status != 401:
            raise DemoStepError("a wrong secret was not refused with 401 invalid_client")
        return f"EndpointError(error={exc.error!r}, status={exc.status})"

    def server_trouble(self) -> str:
        self.server.fail_next(status=503, retry_after=2, path="/token")
        exc = self.expect(oc.EndpointError, lambda: self.app.client_credentials())
        if not exc.retryable or exc.retry_after != 2:
            raise DemoStepError("a 503 with Retry-After is not retryable")
        self.server.fail_next(
            status=502, error=None, body="<html>Bad Gateway</html>", path="/token"
        )
        page = self.expect(oc.EndpointError, lambda: self.app.client_credentials())
        return f"503 retryable (retry_after={exc.retry_after:g}); HTML 502 error={page.error}"

    def quirks(self) -> str:
        self.server.answer_next("form")
        self.say("a GitHub-style form-encoded answer:")
        token = self.app.client_credentials(scope="read")
        self.server.answer_next("error_200", error="invalid_auth")
        self.say("a Slack-style error with HTTP 200:")
        exc = self.expect(oc.EndpointError, lambda: self.app.client_credentials())
        return f"form answer -> {token.token_type} token; HTTP 200 error -> {exc.error!r}"

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("Discovery (RFC 8414)", self.discovery),
            (
                "Client credentials, client_secret_basic (RFC 6749 §4.4)",
                self.client_credentials_basic,
            ),
            ("Client credentials, client_secret_post", self.client_credentials_post),
            ("Password grant (legacy, RFC 6749 §4.3)", self.password),
            (
                "Authorization code + PKCE, loopback redirect (RFC 7636, RFC 8252)",
                self.authorization_code,
            ),
            ("ID token validation (OpenID Connect Core §3.1.3.7)", self.id_token),
            ("UserInfo (OpenID Connect)", self.userinfo),
            ("Introspection (RFC 7662)", self.introspection),
            ("Refresh with rotation (RFC 6749 §6, RFC 9700 §4.14)", self.refresh),
            ("Revocation (RFC 7009)", self.revocation),
            ("Device authorization (RFC 8628)", self.device),
            ("Denied authorization -> AuthorizationError", self.denied),
            ("Wrong client secret -> EndpointError", self.wrong_secret),
            ("Server trouble: 503 + Retry-After, HTML error page", self.server_trouble),
            ("Provider quirks: form-encoded answer, error with HTTP 200", self.quirks),
        ]


def run_demo(out: TextIO) -> int:
    """Run every step; print the transcript and ``demo: N steps passed, M failed``.

    A step this installation cannot run (ID token validation without the
    ``jwt`` extra) is reported as skipped, with the ``pip install`` line.

    Returns:
        0 when every step that ran passed, else 1.
    """
    from oauth2_transports.urllib3 import Urllib3Transport

    printer = Printer(out)
    started = time.monotonic()
    passed = failed = skipped = 0
    # Short device lifetimes keep a broken run from polling for long.
    with MockAuthorizationServer(device_interval=1, device_code_lifetime=30) as server:
        inner = Urllib3Transport(timeout=10)
        try:
            printer.line(
                f"oauth2 demo: every flow against a mock authorization server at {server.issuer}"
            )
            printer.line("(a test tool, not a production server). Secrets are masked.")
            demo = _Demo(server, TranscriptTransport(inner, printer), printer)
            steps = demo.steps()
            for number, (title, step) in enumerate(steps, 1):
                printer.line()
                printer.line(f"[{number}/{len(steps)}] {title}")
                try:
                    result = step()
                except DemoStepSkippedError as exc:
                    skipped += 1
                    printer.line(f"  - skipped: {exc}")
                except Exception as exc:
                    failed += 1
                    printer.line(f"  ✗ FAILED: {type(exc).__name__}: {exc}")
                else:
                    passed += 1
                    printer.line(f"  ✓ {result}")
        finally:
            inner.close()
    printer.line()
    printer.line(f"({time.monotonic() - started:.1f} s)")
    tail = f", {skipped} skipped" if skipped else ""
    printer.line(f"demo: {passed} steps passed, {failed} failed{tail}")
    return 0 if failed == 0 else 1
