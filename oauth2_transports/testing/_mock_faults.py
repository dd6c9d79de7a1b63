"""Fault injection and provider quirks for the mock server.

Integrators test how their code copes with a server that fails, stalls, hangs
up or answers the non-standard way real providers do (GitHub's form-encoded
token response, Slack's errors with HTTP 200, old Facebook's ``expires``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Literal
from urllib.parse import urlencode

import attrs

from oauth2_transports.testing._mock_model import Answer, RecordedRequest, json_answer

__all__ = ["QUIRKS", "Echo", "Faults", "Planned", "Quirk", "apply_quirk", "echo_answer"]

Quirk = Literal["form", "error_200", "facebook", "string_expires_in", "lowercase_bearer"]
QUIRKS: frozenset[str] = frozenset(
    {"form", "error_200", "facebook", "string_expires_in", "lowercase_bearer"}
)


@attrs.define
class _Fault:
    kind: str  # fail | delay | drop | quirk
    remaining: int
    path: str | None
    answer: Answer | None = None
    seconds: float = 0.0
    quirk: str | None = None
    error: str = "invalid_auth"
    echo: Echo | None = None


@attrs.frozen
class Echo:
    """How ``echo_next`` answers: an error that quotes the request back."""

    status: int = 400
    error: str = "invalid_request"
    www_authenticate: bool = False


@attrs.frozen
class Planned:
    """What happens to one request, decided when it arrives."""

    delay: float = 0.0
    drop: bool = False
    fail: Answer | None = None
    quirk: str | None = None
    quirk_error: str = "invalid_auth"
    echo: Echo | None = None


class Faults:
    """Queued faults; each applies to the next ``n`` matching requests.

    Not locked itself: the server calls it with its state lock held.
    """

    def __init__(self) -> None:
        self._items: list[_Fault] = []

    def add(
        self,
        kind: str,
        n: int,
        path: str | None,
        *,
        answer: Answer | None = None,
        seconds: float = 0.0,
        quirk: str | None = None,
        error: str = "invalid_auth",
        echo: Echo | None = None,
    ) -> None:
        if not isinstance(n, int) or n < 1:
            raise ValueError("n must be a positive int")
        if path is not None and not path.startswith("/"):
            raise ValueError("path must start with '/' (e.g. '/token')")
        self._items.append(_Fault(kind, n, path, answer, seconds, quirk, error, echo))

    def _take(self, kind: str, path: str) -> _Fault | None:
        for item in self._items:
            if item.kind == kind and item.remaining > 0 and item.path in (None, path):
                item.remaining -= 1
                if item.remaining == 0:
                    self._items.remove(item)
                return item
        return None

    def plan(self, path: str) -> Planned:
        """Consume the faults that apply to a request for ``path``."""
        delay = self._take("delay", path)
        drop = self._take("drop", path)
        fail = None if drop else self._take("fail", path)
        echo = None if drop or fail else self._take("echo", path)
        quirk = None if drop or fail or echo else self._take("quirk", path)
        return Planned(
            delay=delay.seconds if delay else 0.0,
            drop=drop is not None,
            fail=fail.answer if fail else None,
            quirk=quirk.quirk if quirk else None,
            quirk_error=quirk.error if quirk else "invalid_auth",
            echo=echo.echo if echo else None,
        )

    def clear(self) -> None:
        """Forget every queued fault."""
        self._items.clear()


def failure_answer(
    *,
    status: int,
    error: str | None,
    error_description: str | None,
    retry_after: int | str | None,
    body: bytes | str | None,
    content_type: str,
) -> Answer:
    """The answer ``fail_next`` sends: an error object, or a fixed body (an HTML page)."""
    headers: list[tuple[str, str]] = []
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    if body is not None:
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        return Answer(status, (("Content-Type", content_type), *headers), raw)
    if error is None:
        return Answer(status, tuple(headers))
    data: dict[str, object] = {"error": error}
    if error_description:
        data["error_description"] = error_description
    return json_answer(status, data, headers)


def _echo_text(request: RecordedRequest) -> str:
    """The request quoted back every way a careless server does it."""
    auth = request.headers.get("authorization", "")
    decoded = ""
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = ""
    query = urlencode(request.query_pairs)
    return (
        f"cannot handle {request.method} {request.path}?{query} "
        f"authorization={auth} basic={decoded} dpop={request.headers.get('dpop', '')} "
        f"body={request.body.decode('utf-8', 'replace')} "
        f"form={dict(request.form_pairs)} json={json.dumps(dict(request.form_pairs))} "
        f"query={dict(request.query_pairs)}"
    )


def echo_answer(request: RecordedRequest, echo: Echo) -> Answer:
    """An error object (and, if asked, a ``WWW-Authenticate`` challenge) quoting ``request``."""
    text = _echo_text(request)
    headers: list[tuple[str, str]] = []
    if echo.www_authenticate:
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        headers.append(
            (
                "WWW-Authenticate",
                f'Bearer error="{echo.error}", error_description="{quoted}", '
                f'error_uri="https://as.example/e?{urlencode({"q": text})}"',
            )
        )
    data = {
        "error": echo.error,
        "error_description": text,
        "error_uri": "https://as.example/e?" + urlencode({"q": text}),
    }
    return json_answer(echo.status, data, headers)


def _decoded(answer: Answer) -> dict[str, object] | None:
    if not (answer.header("content-type") or "").startswith("application/json"):
        return None
    try:
        data = json.loads(answer.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _form(data: dict[str, object]) -> bytes:
    return urlencode([(k, str(v)) for k, v in data.items()]).encode("ascii")


def apply_quirk(answer: Answer, quirk: str, error: str) -> Answer:
    """Rewrite an answer the way a non-standard provider would send it."""
    if quirk == "error_200":
        # Slack: HTTP 200 with {"ok": false, "error": "..."}.
        return json_answer(200, {"ok": False, "error": error})
    data = _decoded(answer)
    if data is None:
        return answer
    others = tuple(
        (k, v) for k, v in answer.headers if k.lower() not in ("content-type", "content-length")
    )
    if quirk == "form":
        # GitHub answers form-encoded unless asked for JSON.
        content = (("Content-Type", "application/x-www-form-urlencoded"),)
        return Answer(answer.status, content + others, _form(data), answer.error)
    if quirk == "facebook":
        # Old Facebook Graph: `expires` instead of `expires_in`, text/plain form body.
        if "expires_in" in data:
            data["expires"] = data.pop("expires_in")
        content = (("Content-Type", "text/plain; charset=UTF-8"),)
        return Answer(answer.status, content + others, _form(data), answer.error)
    if quirk == "string_expires_in" and "expires_in" in data:
        data["expires_in"] = str(data["expires_in"])
    elif quirk == "lowercase_bearer" and "token_type" in data:
        data["token_type"] = str(data["token_type"]).lower()
    return Answer(answer.status, answer.headers, json.dumps(data).encode("utf-8"), answer.error)
