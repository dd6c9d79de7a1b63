"""Helpers for tests/face: a scripted browser and raw HTTP calls to the mock server."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import urllib3

_POOL = urllib3.PoolManager(retries=False)


def call(
    method: str,
    url: str,
    *,
    form: Mapping[str, str] | list[tuple[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> urllib3.BaseHTTPResponse:
    """A raw request, for checks of the wire that the library would not send."""
    fields = dict(headers or {})
    body = None
    if form is not None:
        body = urlencode(form)
        fields.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return _POOL.request(method, url, body=body, headers=fields, redirect=False)


def basic(user: str, password: str) -> dict[str, str]:
    """An Authorization header with the id and secret exactly as given (no encoding)."""
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def follow_authorization(url: str) -> str:
    """What a browser does: GET the authorization URL and return the redirect's Location."""
    answer = call("GET", url)
    assert answer.status == 302, answer.status
    return str(answer.headers["Location"])


def browser() -> Callable[[str], bool]:
    """A scripted browser: follows the authorization redirect, delivers it to the listener."""

    def open_url(url: str) -> bool:
        location = follow_authorization(url)
        assert call("GET", location).status == 200
        return True

    return open_url


def body(response: urllib3.BaseHTTPResponse) -> dict[str, object]:
    data = json.loads(response.data)
    assert isinstance(data, dict)
    return data
