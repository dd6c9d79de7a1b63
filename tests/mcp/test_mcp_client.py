"""The ``mcp`` package's real client, authorized by ``httpx2.OAuth2Auth.for_resource``.

The server is the ``mcp`` SDK's own (``mcp_server.py``: its authorization
server routes, DCR, PKCE, a required scope, RFC 9728 metadata). The client is
the SDK's ``streamable_http_client`` and ``ClientSession``, with our hook as the
``httpx2.AsyncClient``'s ``auth``: the first connection registers, authorizes
and gets a token once each; a second connection with the same store does none
of it; calling the tool that needs ``mcp:admin`` steps up once.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("mcp")
httpx2 = pytest.importorskip("httpx2")

from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from oauth2_transports import FileTokenStore  # noqa: E402
from oauth2_transports.httpx2 import OAuth2Auth  # noqa: E402

REDIRECT = "http://127.0.0.1:8765/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """``authorize(url)``: the SDK's provider approves at once; returns its redirect."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> str:
        self.urls.append(url)
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(url, timeout=10)  # the unfollowed 302 surfaces as an HTTPError
        assert answer.value.code == 302, answer.value.code
        return str(answer.value.headers["Location"])


async def _session(url: str, auth: Any, *calls: tuple[str, dict[str, int]]) -> list[Any]:
    async with (
        httpx2.AsyncClient(auth=auth, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        results: list[Any] = [await session.list_tools()]
        for name, arguments in calls:
            results.append(await session.call_tool(name, arguments))
        return results


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}


def test_mcp_client_with_for_resource(mcp_server: Any, tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "mcp-token.json")
    metadata = {"client_name": "oauth2-core mcp test", "redirect_uris": [REDIRECT]}
    browser = Browser()
    auth = OAuth2Auth.for_resource(client_metadata=metadata, authorize=browser, store=store)
    start = mcp_server.counts()

    tools, added = asyncio.run(_session(mcp_server.mcp_url, auth, ("add", {"a": 2, "b": 3})))
    assert {tool.name for tool in tools.tools} >= {"add", "admin_add"}
    assert not added.is_error
    assert added.structured_content == {"result": 5}
    first = mcp_server.counts()
    assert _delta(first, start) == {"registrations": 1, "authorizations": 1, "tokens": 1}
    query = _query(browser.urls[0])
    assert query["resource"] == [mcp_server.mcp_url]  # RFC 8707
    assert query["scope"] == ["mcp:tools"]  # scopes_supported: the SDK's challenge has none

    # A new process: a new hook with the same store, a new MCP connection.
    def no_browser(url: str) -> str:
        raise AssertionError("the second connection must not authorize")

    again = OAuth2Auth.for_resource(client_metadata=metadata, authorize=no_browser, store=store)
    (tools,) = asyncio.run(_session(mcp_server.mcp_url, again))
    assert tools.tools
    assert _delta(mcp_server.counts(), first) == {
        "registrations": 0,
        "authorizations": 0,
        "tokens": 0,
    }

    # Step-up: admin_add needs mcp:admin; the server answers 403 insufficient_scope.
    _, admin = asyncio.run(_session(mcp_server.mcp_url, auth, ("admin_add", {"a": 4, "b": 5})))
    assert not admin.is_error
    assert admin.structured_content == {"result": 9}
    assert _delta(mcp_server.counts(), first) == {
        "registrations": 0,  # registered with scopes_supported's union: no invalid_scope
        "authorizations": 1,
        "tokens": 1,
    }
    assert _query(browser.urls[-1])["scope"] == ["mcp:tools mcp:admin"]
