"""From a resource URL to its authorization server's metadata (RFC 9728, RFC 8414).

:func:`resource_discovery_flow` is the discovery half of resource-first
authorization (the Model Context Protocol's, for one): the resource's metadata
(RFC 9728 §3), an authorization server it names, that server's metadata
(RFC 8414 §3, or OpenID Connect Discovery on 404). It chains the step pairs of
``resource_metadata`` and ``discovery``; what comes next (RFC 7591
registration, the authorization code flow with ``resource=`` as RFC 8707 asks)
is up to the caller.

What it refuses:

* metadata whose ``resource`` is not the URL asked about (RFC 9728 §3.3); with
  ``allow_parent_resource=True`` (the default here) a same-origin parent path is
  accepted too, because servers built with the ``mcp`` SDK publish
  ``https://rs/`` as the resource of ``https://rs/mcp``. Tokens are then asked
  for that published ``resource``;
* an authorization server that the metadata does not list in
  ``authorization_servers`` (RFC 9728 §2 and the MCP authorization spec);
* plain http to anything but a loopback host (the https rule of
  ``oauth2_core.endpoints``), unless ``allow_insecure_http=True``: the
  resource metadata URL, the authorization server's discovery URL, and, before
  the caller registers or sends a user anywhere, the server's
  ``token_endpoint`` and ``registration_endpoint`` (they will receive the code,
  the verifier and the client's metadata);
* a server metadata document naming another issuer (RFC 8414 §3.3).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from oauth2_core._http import Flow, Send
from oauth2_core.bearer import BearerChallenge
from oauth2_core.discovery import discovery_flow
from oauth2_core.endpoints import check_endpoint
from oauth2_core.errors import MalformedResponseError, UsageError, printable
from oauth2_core.metadata import ServerMetadata
from oauth2_core.resource_metadata import (
    RESOURCE_WELL_KNOWN,
    ResourceMetadata,
    process_resource_metadata_response,
    resource_metadata_request,
    resource_metadata_url,
)

__all__ = ["resource_discovery_flow", "resource_metadata_flow", "select_authorization_server"]


def _metadata_urls(resource_url: str, challenge: BearerChallenge | None) -> list[str]:
    if challenge is not None and challenge.resource_metadata:
        return [challenge.resource_metadata]
    urls = [resource_metadata_url(resource_url)]
    parts = urlsplit(resource_url)
    root = urlunsplit((parts.scheme, parts.netloc, RESOURCE_WELL_KNOWN, "", ""))
    if root not in urls:
        # The MCP authorization spec's fallback: the well-known URL at the root.
        urls.append(root)
    return urls


def resource_metadata_flow(
    resource_url: str,
    *,
    challenge: BearerChallenge | None = None,
    allow_parent_resource: bool = True,
    allow_insecure_http: bool = False,
) -> Flow[ResourceMetadata]:
    """Fetch and check ``resource_url``'s metadata (RFC 9728 §3, §5).

    With a challenge that names ``resource_metadata`` (§5.1), that URL only.
    Otherwise the well-known URL with the path inserted (§3.1), then, on 404
    only, the well-known URL at the root (the MCP spec's fallback); any other
    answer is final.

    Args:
        resource_url: The URL of the protected resource (the one that
            answered 401, or the resource identifier).
        challenge: The 401's Bearer challenge, if there was one.
        allow_parent_resource: Accept a ``resource`` that is a same-origin
            parent path of ``resource_url`` (see the module documentation);
            ``False`` demands RFC 9728 §3.3 equality.
        allow_insecure_http: Allow plain http to a non-loopback host.

    Returns:
        The checked metadata.

    Raises:
        UsageError: a bad or plain-http URL.
        EndpointError: the metadata URL answered an error.
        MalformedResponseError: not a metadata document, or one about another
            resource (``field == "resource"``).
    """
    urls = _metadata_urls(resource_url, challenge)
    for index, url in enumerate(urls):
        request = resource_metadata_request(
            resource_url, metadata_url=url, allow_insecure_http=allow_insecure_http
        )
        response = yield Send(request)
        if response.status == 404 and index + 1 < len(urls):
            continue
        return process_resource_metadata_response(
            response, resource=resource_url, allow_parent=allow_parent_resource
        )
    raise AssertionError("unreachable: the last URL always returns or raises")  # pragma: no cover


def select_authorization_server(metadata: ResourceMetadata, issuer: str | None = None) -> str:
    """The authorization server to use for ``metadata``'s resource (RFC 9728 §2).

    Args:
        metadata: The resource's checked metadata.
        issuer: The server the caller wants (one already known, say); it must
            be listed in ``authorization_servers``. ``None`` takes the first.

    Returns:
        The issuer identifier. Next: discovery (``discovery_flow``).

    Raises:
        UsageError: ``issuer`` is not one the resource lists.
        MalformedResponseError: the metadata lists no authorization server.
    """
    servers = metadata.authorization_servers
    if not servers:
        raise MalformedResponseError(
            "the resource metadata names no authorization server (RFC 9728 §2)",
            field="authorization_servers",
        )
    if issuer is None:
        return servers[0]
    if issuer not in servers:
        raise UsageError(
            f"authorization server {printable(str(issuer), 120)!r} is not among the "
            "resource's authorization_servers (RFC 9728 §2); refusing to use it"
        )
    return issuer


def resource_discovery_flow(
    resource_url: str,
    *,
    challenge: BearerChallenge | None = None,
    issuer: str | None = None,
    allow_parent_resource: bool = True,
    allow_insecure_http: bool = False,
    openid: bool = False,
) -> Flow[tuple[ResourceMetadata, ServerMetadata]]:
    """The resource's metadata, then its authorization server's (RFC 9728, RFC 8414).

    Args:
        resource_url: The URL of the protected resource.
        challenge: The Bearer challenge of the 401 the resource answered
            (``parse_bearer_challenge(...)[0]``), if any: its
            ``resource_metadata`` URL is used when present (RFC 9728 §5.1).
        issuer: Use this authorization server; it must be listed in the
            resource's ``authorization_servers``. Default: the first listed.
        allow_parent_resource: Accept metadata for a same-origin parent path
            (default, for servers built with the ``mcp`` SDK); ``False``
            demands RFC 9728 §3.3 equality.
        allow_insecure_http: Allow plain http to non-loopback hosts.
        openid: Go straight to the OpenID Connect discovery URL.

    Returns:
        ``(resource metadata, server metadata)``. Next: register the client
        (``registration_request``) if it has no id, then the authorization
        code flow with ``resource=<resource metadata's resource>`` (RFC 8707)
        in both the authorization and the token request.

    Raises:
        As :func:`resource_metadata_flow`, :func:`select_authorization_server`
        and ``discovery_flow`` (``IssuerMismatchError`` included).
        InsecureHttpError: the server's ``token_endpoint`` or
            ``registration_endpoint`` is plain http on a non-loopback host
            (refused here, before anyone is sent to the authorization URL).
    """
    metadata = yield from resource_metadata_flow(
        resource_url,
        challenge=challenge,
        allow_parent_resource=allow_parent_resource,
        allow_insecure_http=allow_insecure_http,
    )
    chosen = select_authorization_server(metadata, issuer)
    server = yield from discovery_flow(
        chosen, openid=openid, allow_insecure_http=allow_insecure_http
    )
    # RFC 6749 §3.2 (the token endpoint MUST use TLS) and RFC 7591 §3: checked
    # now, so a server naming http://elsewhere fails before the user consents.
    for what in ("token_endpoint", "registration_endpoint"):
        url = getattr(server, what)
        if url is not None:
            check_endpoint(url, what=what, allow_insecure_http=allow_insecure_http)
    return metadata, server
