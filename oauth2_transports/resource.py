"""From a resource URL to its authorization server, over a transport (RFC 9728, RFC 8414).

:func:`discover_resource` and :func:`adiscover_resource` run the core's
``resource_discovery_flow``: the resource's metadata (RFC 9728 §3; the URL a
401 named, ``resource_metadata``, §5.1, when a challenge is given), an
authorization server it lists, and that server's metadata (RFC 8414, or OpenID
Connect Discovery), issuer checked. Next: ``OAuth2Client.register(server,
metadata)`` when the client has no id, then the authorization code flow with
``resource=<metadata.resource>`` (RFC 8707). ``OAuth2Auth.for_resource`` in
the hook modules does all of it on the first 401.
"""

from __future__ import annotations

from oauth2_core import BearerChallenge, ResourceMetadata, ServerMetadata
from oauth2_core.resource_discovery import resource_discovery_flow
from oauth2_transports._driver import arun, run
from oauth2_transports._transport import AsyncTransport, Transport

__all__ = ["adiscover_resource", "discover_resource"]


def discover_resource(
    resource_url: str,
    transport: Transport | None = None,
    *,
    challenge: BearerChallenge | None = None,
    issuer: str | None = None,
    allow_parent_resource: bool = True,
    allow_insecure_http: bool = False,
    openid: bool = False,
) -> tuple[ResourceMetadata, ServerMetadata]:
    """The resource's metadata and its authorization server's (RFC 9728 §3, RFC 8414 §3).

    Args:
        resource_url: The URL of the protected resource.
        transport: Sends the requests; default a new ``Urllib3Transport``.
        challenge: The Bearer challenge of the resource's 401, if any.
        issuer: The authorization server to use; it must be among the
            resource's ``authorization_servers``. Default: the first listed.
        allow_parent_resource: Accept metadata whose ``resource`` is a
            same-origin parent path of ``resource_url`` (as servers built with
            the ``mcp`` SDK publish it); ``False`` demands RFC 9728 §3.3 equality.
        allow_insecure_http: Allow plain http to non-loopback hosts.
        openid: Go straight to the OpenID Connect discovery URL.

    Returns:
        ``(resource metadata, server metadata)``.

    Raises:
        UsageError: a bad or plain-http URL, or an ``issuer`` the resource
            does not list.
        EndpointError, MalformedResponseError, IssuerMismatchError: as
            ``oauth2_core.resource_discovery_flow``.
        TransportError: the network failed.
    """
    flow = resource_discovery_flow(
        resource_url,
        challenge=challenge,
        issuer=issuer,
        allow_parent_resource=allow_parent_resource,
        allow_insecure_http=allow_insecure_http,
        openid=openid,
    )
    if transport is not None:
        return run(flow, transport)
    from oauth2_transports.urllib3 import Urllib3Transport

    with Urllib3Transport() as own:
        return run(flow, own)


async def adiscover_resource(
    resource_url: str,
    transport: AsyncTransport,
    *,
    challenge: BearerChallenge | None = None,
    issuer: str | None = None,
    allow_parent_resource: bool = True,
    allow_insecure_http: bool = False,
    openid: bool = False,
) -> tuple[ResourceMetadata, ServerMetadata]:
    """As :func:`discover_resource`, over an async transport."""
    flow = resource_discovery_flow(
        resource_url,
        challenge=challenge,
        issuer=issuer,
        allow_parent_resource=allow_parent_resource,
        allow_insecure_http=allow_insecure_http,
        openid=openid,
    )
    return await arun(flow, transport)
