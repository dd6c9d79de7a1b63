"""Pushed authorization requests (RFC 9126).

The client POSTs the authorization request's parameters to the
``pushed_authorization_request_endpoint``, authenticated as at the token
endpoint (§2.1), and gets back a ``request_uri`` (§2.2). The browser is then
sent to ``authorization_url(server, client, pending, request_uri=...)``, which
carries only ``client_id`` and ``request_uri`` (§4). :func:`authorization_url_flow`
decides whether to push (asked for, or required by the server, §5) and does both.
"""

from __future__ import annotations

import datetime as _dt

import attrs

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send
from oauth2_core._parse import (
    add_seconds,
    optional_seconds,
    optional_str,
    parse_body,
    raise_for_error,
    require_object,
)
from oauth2_core.authorize import authorization_params, authorization_url
from oauth2_core.client import Client
from oauth2_core.dpop import DPoPKey, dpop_jkt
from oauth2_core.errors import MalformedResponseError, UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.jar import request_object_params
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization

__all__ = [
    "PushedAuthorization",
    "authorization_url_flow",
    "process_pushed_authorization_response",
    "pushed_authorization_request",
]


@attrs.frozen
class PushedAuthorization:
    """The answer of the PAR endpoint (RFC 9126 §2.2).

    Attributes:
        request_uri: The reference to the pushed request; pass it to
            ``authorization_url(..., request_uri=...)``.
        expires_at: When it expires (``received_at + expires_in``), or ``None``
            when the server did not say (the RFC requires it; some omit it).
    """

    request_uri: str
    expires_at: _dt.datetime | None = None


def pushed_authorization_request(
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    *,
    scope: object = None,
    now: _dt.datetime | None = None,
    request_object: bool = False,
    **params: object,
) -> HttpRequest:
    """Push the authorization request's parameters (RFC 9126 §2.1).

    The body holds exactly what ``authorization_url`` would put in the query
    (``response_type``, ``client_id``, ``redirect_uri``, ``scope``, ``state``,
    PKCE, ``nonce``, extras), plus client authentication. ``client_id`` is sent
    once, also with ``client_secret_basic``: node ``oidc-provider`` wants it in
    the body even then.

    Args:
        server: Server metadata with ``pushed_authorization_request_endpoint``.
        client: The client.
        pending: From ``new_pending_authorization``.
        scope: A string or iterable of strings; defaults to ``pending.scope``.
        now: When the request is sent; required for JWT client authentication
            and for ``request_object=True``.
        request_object: Push the parameters as one signed request object
            (RFC 9126 §3, RFC 9101): the body holds ``client_id`` and ``request``.
        **params: Extra authorization parameters (``resource``,
            ``authorization_details``, ``prompt`` ...); a list repeats the parameter.

    Returns:
        The request. Next: :func:`process_pushed_authorization_response`.

    Raises:
        UsageError: no PAR endpoint, plain http, ``request_uri`` given (§2.1
            forbids it), a parameter the library sets itself, or a credential
            (``client_secret``, ``client_assertion`` ...: client authentication
            adds those; ``authorization_params`` refuses them).
    """
    if not isinstance(pending, PendingAuthorization):
        raise UsageError("pending must be a PendingAuthorization")
    body = authorization_params(client, pending, scope=scope, **params)
    if request_object:
        body = request_object_params(server, client, body, now=now)
    if client.auth_method != "client_secret_basic":
        # Every other method adds client_id itself (client.authenticate); keep one.
        body = [(name, value) for name, value in body if name != "client_id"]
    return endpoint_request(
        server, client, endpoint="pushed_authorization_request_endpoint", params=body, now=now
    )


def process_pushed_authorization_response(response: HttpResponse) -> PushedAuthorization:
    """Read the PAR endpoint's answer (RFC 9126 §2.2).

    RFC 9126 answers 201 Created; any 2xx is accepted.

    Returns:
        The pushed authorization. Next: ``authorization_url(server, client,
        pending, request_uri=pushed.request_uri)``.

    Raises:
        EndpointError: an error object or an error status (§2.3).
        MalformedResponseError: no string ``request_uri``, or a bad ``expires_in``.
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="pushed authorization")
    data = require_object(response, data, endpoint="pushed authorization")
    status = response.status
    request_uri = optional_str(data, "request_uri", status=status)
    if not request_uri:
        raise MalformedResponseError(
            "pushed authorization response has no string member 'request_uri'",
            field="request_uri",
            status=status,
        )
    seconds = optional_seconds(data, "expires_in", status=status)
    expires_at = None if seconds is None else add_seconds(response.received_at, seconds)
    return PushedAuthorization(request_uri=request_uri, expires_at=expires_at)


def authorization_url_flow(
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    *,
    scope: object = None,
    par: bool | None = None,
    now: _dt.datetime | None = None,
    dpop_key: DPoPKey | None = None,
    request_object: bool = False,
    **params: object,
) -> Flow[str]:
    """Where to send the user's browser, pushing the request first when needed (RFC 9126).

    The request's parameters are pushed to the PAR endpoint (§2) and the URL
    carries only ``client_id`` and the ``request_uri`` (§4) when ``par`` is
    true, or when ``par`` is ``None`` and the server says
    ``require_pushed_authorization_requests`` (§5: "the authorization server
    [...] requires the use of PAR"). Otherwise nothing is sent and the flow
    returns :func:`~oauth2_core.authorization_url` at once. With ``dpop_key``
    the authorization code is bound to the key: ``dpop_jkt`` (RFC 9449 §10)
    is added unless given.

    Args:
        server, client: The server and the client.
        pending: From :func:`~oauth2_core.new_pending_authorization`.
        scope: A string or iterable of strings; defaults to ``pending.scope``.
        par: Push (``True``), never push (``False``), or as the server
            requires (``None``).
        now: When the PAR request is sent, or the request object signed;
            required for JWT client authentication and ``request_object=True``.
        dpop_key: The DPoP key to bind the code to, or ``None``.
        request_object: Sign the parameters into a request object (RFC 9101),
            pushed as such with PAR (RFC 9126 §3); needs ``now``.
        **params: Extra authorization request parameters.

    Returns:
        The flow; next: ``oauth2_transports.run(flow, transport)``, send the
        browser to the URL, then :func:`~oauth2_core.exchange_code_flow`.

    Raises:
        UsageError: no authorization (or PAR) endpoint, plain http, a bad parameter.
        EndpointError, MalformedResponseError: the PAR endpoint refused.
    """
    if dpop_key is not None and "dpop_jkt" not in params:
        params = {**params, "dpop_jkt": dpop_jkt(dpop_key)}
    push = par if par is not None else server.require_pushed_authorization_requests
    if not push:
        extra = dict(params)
        request_uri = extra.pop("request_uri", None)
        if request_uri is not None and not isinstance(request_uri, str):
            raise UsageError("request_uri must be a string")
        return authorization_url(
            server,
            client,
            pending,
            scope=scope,
            request_uri=request_uri,
            request_object=request_object,
            now=now,
            **extra,
        )
    request = pushed_authorization_request(
        server, client, pending, scope=scope, now=now, request_object=request_object, **params
    )
    response = yield Send(request)
    pushed = process_pushed_authorization_response(response)
    return authorization_url(server, client, pending, request_uri=pushed.request_uri)
