"""An MCP server built with the ``mcp`` package's own authorization server, for tests.

Run as ``python mcp_server.py PORT``: it serves on ``127.0.0.1:PORT`` (loopback
only) with the ``mcp`` SDK's routes and nothing of ours:

* streamable HTTP at ``/mcp`` (``MCPServer.run("streamable-http")``), protected
  by the SDK's bearer middleware (``required_scopes=["mcp:tools"]``, tokens
  checked against ``resource_server_url`` with ``validate_token_resource=True``);
* RFC 9728 metadata at ``/.well-known/oauth-protected-resource/mcp``;
* the SDK's authorization server routes (``create_auth_routes``): RFC 8414
  metadata, ``/register`` (RFC 7591, ``ClientRegistrationOptions(enabled=True)``),
  ``/authorize`` (PKCE S256 required), ``/token``, ``/revoke``;
* ``/test/counts``: how many registrations, authorizations and token requests
  the provider saw (JSON), for tests to count round trips;
* step-up (ours, around the SDK's app, as the MCP spec's scope challenge
  describes it): a ``tools/call`` of ``admin_add`` with a token lacking
  ``mcp:admin`` is answered 403 with ``WWW-Authenticate: Bearer
  error="insufficient_scope", scope="mcp:tools mcp:admin", resource_metadata=...``
  (RFC 6750 §3.1); the SDK has no per-tool scopes of its own.

The provider below auto-approves every authorization (no user) and keeps all
state in memory. Test tool: never expose it beyond loopback.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections import Counter
from typing import Any

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

REQUIRED_SCOPES = ["mcp:tools"]
VALID_SCOPES = ["mcp:tools", "mcp:admin"]


class MemoryProvider:
    """An ``OAuthAuthorizationServerProvider`` that approves everything, in memory."""

    def __init__(self) -> None:
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.counts: Counter[str] = Counter()

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.counts["registrations"] += 1
        assert client_info.client_id is not None
        self.clients[client_info.client_id] = client_info

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        self.counts["authorizations"] += 1
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or [],
            expires_at=time.time() + 300,
            client_id=client.client_id or "",
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject="alice",
        )
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        code = self.codes.get(authorization_code)
        return code if code is not None and code.client_id == client.client_id else None

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        self.counts["tokens"] += 1
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        expires = int(time.time()) + 3600
        self.access_tokens[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=expires,
            resource=resource,
            subject="alice",
        )
        self.refresh_tokens[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource, subject="alice"
        )
        return OAuthToken(
            access_token=access, expires_in=3600, scope=" ".join(scopes), refresh_token=refresh
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        self.codes.pop(authorization_code.code, None)
        return self._issue(
            client.client_id or "", authorization_code.scopes, authorization_code.resource
        )

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        token = self.refresh_tokens.get(refresh_token)
        return token if token is not None and token.client_id == client.client_id else None

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        self.refresh_tokens.pop(refresh_token.token, None)
        return self._issue(
            client.client_id or "", scopes or refresh_token.scopes, refresh_token.resource
        )

    async def load_access_token(self, token: str) -> AccessToken | None:
        access = self.access_tokens.get(token)
        if access is None or (access.expires_at is not None and access.expires_at < time.time()):
            return None
        return access

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        self.access_tokens.pop(token.token, None)
        self.refresh_tokens.pop(token.token, None)


def build(port: int) -> tuple[MCPServer, MemoryProvider]:
    """The server on ``127.0.0.1:port`` and its provider."""
    base = f"http://127.0.0.1:{port}"
    provider = MemoryProvider()
    server = MCPServer(
        name="oauth2-core test server",
        auth_server_provider=provider,
        auth=AuthSettings(
            issuer_url=base,
            resource_server_url=f"{base}/mcp",
            validate_token_resource=True,
            required_scopes=REQUIRED_SCOPES,
            client_registration_options=ClientRegistrationOptions(
                enabled=True, valid_scopes=VALID_SCOPES, default_scopes=REQUIRED_SCOPES
            ),
            revocation_options=RevocationOptions(enabled=True),
        ),
    )

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def admin_add(a: int, b: int) -> int:
        """Add two integers, for callers holding mcp:admin (see StepUp)."""
        return a + b

    @server.custom_route("/test/counts", methods=["GET"])
    async def counts(request: Request) -> Response:
        return JSONResponse(dict(provider.counts))

    return server, provider


ADMIN_TOOL, ADMIN_SCOPE = "admin_add", "mcp:admin"


class StepUp:
    """ASGI middleware: 403 ``insufficient_scope`` for ``admin_add`` without ``mcp:admin``."""

    def __init__(self, app: Any, provider: MemoryProvider, base: str) -> None:
        self.app, self.provider, self.base = app, provider, base

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/mcp":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if self._refused(scope, body):
            challenge = (
                f'Bearer error="insufficient_scope", scope="mcp:tools {ADMIN_SCOPE}", '
                f'resource_metadata="{self.base}/.well-known/oauth-protected-resource/mcp"'
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"www-authenticate", challenge.encode())],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _refused(self, scope: Any, body: bytes) -> bool:
        try:
            message = json.loads(body)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            return False
        if (message.get("params") or {}).get("name") != ADMIN_TOOL:
            return False
        headers = dict(scope["headers"])
        token = headers.get(b"authorization", b"").decode().partition(" ")[2].strip()
        access = self.provider.access_tokens.get(token)
        return access is None or ADMIN_SCOPE not in access.scopes


def main() -> None:
    import uvicorn

    port = int(sys.argv[1])
    server, provider = build(port)
    app = server.streamable_http_app(host="127.0.0.1")
    wrapped = StepUp(app, provider, f"http://127.0.0.1:{port}")
    uvicorn.run(wrapped, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
