"""The mock server's end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2, §3).

``GET /logout`` checks ``client_id`` and, when given, that
``post_logout_redirect_uri`` is one of the client's registered redirect URIs;
then it "signs the user out" and redirects there with ``state``, or shows a page.
"""

from __future__ import annotations

from oauth2_transports.testing._mock_model import (
    Answer,
    RecordedRequest,
    error_answer,
    html_answer,
    redirect_answer,
)
from oauth2_transports.testing._mock_state import MockState

__all__ = ["end_session"]


def end_session(state: MockState, request: RecordedRequest) -> Answer:
    """The end-session endpoint (RP-Initiated Logout 1.0 §2): redirect back or show a page."""
    params = request.query
    client = state.clients.get(params.get("client_id", ""))
    if client is None:
        return error_answer(400, "invalid_request", "unknown or missing client_id")
    uri = params.get("post_logout_redirect_uri")
    if uri is None:
        return html_answer(200, "Signed out", "<p>You are signed out.</p>")
    if not client.accepts_redirect_uri(uri):
        return error_answer(400, "invalid_request", "post_logout_redirect_uri is not registered")
    back = [("state", params["state"])] if "state" in params else []
    return redirect_answer(uri, back)
