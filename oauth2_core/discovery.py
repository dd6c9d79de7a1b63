"""Authorization server discovery (RFC 8414 §3, OpenID Connect Discovery 1.0 §4).

:func:`discovery_urls` lists where the metadata may live: the RFC 8414
well-known URL (``/.well-known/oauth-authorization-server`` inserted before the
issuer's path, §3.1), then the OpenID Connect one (``/.well-known/openid-configuration``
appended to the issuer, OIDC Discovery §4.1). :func:`discovery_flow` tries them
in that order, moving on only when the server answers 404 Not Found: any other
answer (a 400, a 405, a 5xx, a document) is the server's answer and is reported
as such, so an outage never silently falls back to another document.

The document's ``issuer`` must equal the issuer asked for exactly (RFC 8414
§3.3, OIDC Discovery §4.3); otherwise :class:`IssuerMismatchError`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send
from oauth2_core._parse import parse_body, raise_for_error, require_object
from oauth2_core.endpoints import check_endpoint
from oauth2_core.errors import IssuerMismatchError, MalformedResponseError, UsageError, printable
from oauth2_core.metadata import ServerMetadata

__all__ = [
    "discovery_flow",
    "discovery_request",
    "discovery_urls",
    "process_discovery_response",
]

OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"
OPENID_WELL_KNOWN = "/.well-known/openid-configuration"


def discovery_urls(issuer: str, *, openid: bool = False) -> list[str]:
    """The URLs where ``issuer``'s metadata may be, in the order to try them.

    RFC 8414 §3.1: the well-known segment goes between the host and the path,
    a terminating ``/`` removed first (``https://as/tenant`` →
    ``https://as/.well-known/oauth-authorization-server/tenant``). OIDC Discovery
    §4.1: ``/.well-known/openid-configuration`` is appended to the issuer.

    Args:
        issuer: The issuer identifier: an https URL without query or fragment.
        openid: Only the OpenID Connect URL.

    Returns:
        One or two URLs.

    Raises:
        UsageError: the issuer is not an absolute URL, or has a query or fragment
            (RFC 8414 §2 forbids both).
    """
    if not isinstance(issuer, str) or not issuer:
        raise UsageError("issuer must be a non-empty string")
    try:
        parts = urlsplit(issuer)
    except ValueError as exc:
        raise UsageError("issuer is not a valid URL") from exc
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise UsageError("issuer must be an absolute https URL")
    if parts.query or parts.fragment or issuer.endswith(("?", "#")):
        raise UsageError("issuer must not have a query or a fragment (RFC 8414 §2)")
    path = parts.path.rstrip("/")
    openid_url = urlunsplit((parts.scheme, parts.netloc, path + OPENID_WELL_KNOWN, "", ""))
    if openid:
        return [openid_url]
    oauth_url = urlunsplit((parts.scheme, parts.netloc, OAUTH_WELL_KNOWN + path, "", ""))
    return [oauth_url, openid_url]


def _metadata_request(url: str, *, allow_insecure_http: bool) -> HttpRequest:
    url = check_endpoint(url, what="discovery URL", allow_insecure_http=allow_insecure_http)
    return HttpRequest("GET", url, {"accept": "application/json"})


def discovery_request(
    issuer: str, *, openid: bool = False, allow_insecure_http: bool = False
) -> HttpRequest:
    """Fetch the metadata from the first of :func:`discovery_urls` (RFC 8414 §3.1).

    Args:
        issuer: The issuer identifier.
        openid: Go straight to the OpenID Connect well-known URL.
        allow_insecure_http: Allow a plain http issuer that is not loopback
            (loopback never needs it).

    Returns:
        A GET request. Next: :func:`process_discovery_response` (or use
        :func:`discovery_flow`, which also tries the OpenID Connect URL).

    Raises:
        UsageError: a bad issuer, or plain http on a non-loopback host.
    """
    return _metadata_request(
        discovery_urls(issuer, openid=openid)[0], allow_insecure_http=allow_insecure_http
    )


def process_discovery_response(response: HttpResponse, *, issuer: str) -> ServerMetadata:
    """Read a metadata document and check its issuer (RFC 8414 §3.2, §3.3).

    Args:
        response: The answer to a discovery request.
        issuer: The issuer that was asked for.

    Returns:
        The server metadata, unknown members kept in ``extra``.

    Raises:
        EndpointError: an error status (a 404 has ``status == 404``).
        IssuerMismatchError: the document names another issuer (compared
            exactly, as RFC 8414 §3.3 requires).
        MalformedResponseError: not a JSON object, or a member of the wrong type.
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="discovery")
    data = require_object(response, data, endpoint="discovery")
    try:
        metadata = ServerMetadata.from_dict(data)
    except MalformedResponseError as exc:
        raise MalformedResponseError(str(exc), field=exc.field, status=response.status) from exc
    if metadata.issuer != issuer:
        raise IssuerMismatchError(
            f"discovery document names issuer {printable(metadata.issuer, 120)!r}, "
            f"not {printable(str(issuer), 120)!r} (RFC 8414 §3.3)",
            field="issuer",
            status=response.status,
        )
    return metadata


def discovery_flow(
    issuer: str, *, openid: bool = False, allow_insecure_http: bool = False, merge: bool = False
) -> Flow[ServerMetadata]:
    """Discover ``issuer``'s metadata: RFC 8414 first, OpenID Connect on 404.

    Only a 404 moves on to the next URL; every other answer is final.

    Args:
        issuer: The issuer identifier.
        openid: Go straight to the OpenID Connect well-known URL.
        allow_insecure_http: Allow a plain http issuer that is not loopback.
        merge: Fetch both documents and fill the gaps of the RFC 8414 one from
            the OpenID Connect one (:meth:`ServerMetadata.merged`), for servers
            that split their metadata (Django OAuth Toolkit). Each must name
            ``issuer``; a 404 for one of them is fine, for both it is an error.

    Returns:
        The checked server metadata.

    Raises:
        As :func:`discovery_request` and :func:`process_discovery_response`.
    """
    urls = discovery_urls(issuer, openid=openid)
    requests = [_metadata_request(url, allow_insecure_http=allow_insecure_http) for url in urls]
    if merge and len(requests) > 1:
        found: list[ServerMetadata] = []
        for request in requests:
            response = yield Send(request)
            if response.status != 404 or (not found and request is requests[-1]):
                found.append(process_discovery_response(response, issuer=issuer))
        return found[0].merged(found[1]) if len(found) > 1 else found[0]
    for request in requests[:-1]:
        response = yield Send(request)
        if response.status != 404:
            return process_discovery_response(response, issuer=issuer)
    response = yield Send(requests[-1])
    return process_discovery_response(response, issuer=issuer)
