"""The OpenID Connect UserInfo endpoint (OpenID Connect Core 1.0 §5.3).

:func:`userinfo_request` GETs the endpoint with the access token as a bearer
token (RFC 6750 §2.1); :func:`process_userinfo_response` reads the claims
(§5.3.2). A refused token is reported from the ``WWW-Authenticate`` challenge
(RFC 6750 §3), so ``EndpointError.error == "invalid_token"`` says to refresh.
Signed answers (``application/jwt``) are verified by
``oauth2_core.signed_userinfo.userinfo_response_flow``; encrypted ones are not supported.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core._http import HttpRequest, HttpResponse
from oauth2_core._parse import parse_body, raise_for_error, require_object
from oauth2_core.bearer import bearer_authorize, parse_www_authenticate
from oauth2_core.endpoints import check_endpoint
from oauth2_core.errors import (
    EndpointError,
    MalformedResponseError,
    UsageError,
    parse_retry_after,
    printable,
)
from oauth2_core.grants import endpoint_for
from oauth2_core.metadata import ServerMetadata
from oauth2_core.token import Token

__all__ = ["UserInfo", "check_userinfo_subject", "process_userinfo_response", "userinfo_request"]


def _to_claims(value: object) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


@attrs.frozen(repr=False)
class UserInfo:
    """Claims about the end user (OpenID Connect Core §5.3.2).

    Attributes:
        sub: The subject identifier; compare it with the ID token's ``sub``.
        claims: Every claim, ``sub`` included.
    """

    sub: str
    claims: Mapping[str, Any] = attrs.field(factory=dict, converter=_to_claims, hash=False)

    def __repr__(self) -> str:
        # Claims are personal data (email, address): names only.
        return f"UserInfo(sub={self.sub!r}, claim_names={sorted(self.claims)!r})"

    __str__ = __repr__


def userinfo_request(
    server: ServerMetadata,
    token: Token | str,
    *,
    allow_insecure_http: bool = False,
    mtls: bool = False,
) -> HttpRequest:
    """Ask for the user's claims (OpenID Connect Core §5.3.1).

    Args:
        server: Server metadata with ``userinfo_endpoint``.
        token: The access token (a Bearer :class:`Token` or the string).
        allow_insecure_http: Allow plain http to a non-loopback host.
        mtls: Send to ``mtls_endpoint_aliases["userinfo_endpoint"]`` when the
            server has it (RFC 8705 §5), where a certificate-bound token
            (§3) can be presented with its certificate; pass
            ``client.use_mtls_endpoint_aliases``.

    Returns:
        A GET request with ``Authorization: Bearer``. Next:
        :func:`process_userinfo_response`.

    Raises:
        UsageError: no userinfo endpoint, plain http, or a non-Bearer token.
    """
    url = check_endpoint(
        endpoint_for(server, "userinfo_endpoint", mtls=mtls),
        what="userinfo_endpoint",
        allow_insecure_http=allow_insecure_http,
    )
    return bearer_authorize(HttpRequest("GET", url, {"accept": "application/json"}), token)


def _raise_for_challenge(response: HttpResponse) -> None:
    # RFC 6750 §3: a refused token is described in WWW-Authenticate, not the body.
    value = response.headers.get("www-authenticate")
    if value is None:
        return
    for challenge in parse_www_authenticate(value):
        # A scheme-less challenge is OpenID Connect Core §5.3.3's own example.
        if challenge.scheme.lower() in ("bearer", "") and challenge.error:
            message = (
                f"userinfo endpoint answered HTTP {response.status} "
                f"{printable(challenge.error, 80)}"
            )
            if challenge.error_description:
                message += f": {printable(challenge.error_description)}"
            raise EndpointError(
                message,
                error=challenge.error,
                status=response.status,
                error_description=challenge.error_description,
                error_uri=challenge.error_uri,
                retry_after=parse_retry_after(
                    response.headers.get("retry-after"), response.received_at
                ),
            )


def process_userinfo_response(
    response: HttpResponse, *, expected_sub: str | None = None
) -> UserInfo:
    """Read the UserInfo answer (OpenID Connect Core §5.3.2, §5.3.3).

    Args:
        response: The userinfo endpoint's answer.
        expected_sub: The ID token's ``sub``; §5.3.2 says the two MUST match.

    Returns:
        The claims.

    Raises:
        EndpointError: an error status; the ``error`` comes from the Bearer
            challenge in ``WWW-Authenticate`` (``invalid_token``,
            ``insufficient_scope``) or the body.
        MalformedResponseError: not a JSON object, no string ``sub``, or a
            ``sub`` other than ``expected_sub``.
        UsageError: a signed or encrypted answer (``application/jwt``): use
            ``userinfo_response_flow``, which verifies signed ones.
    """
    if not 200 <= response.status < 300:
        _raise_for_challenge(response)
    elif response.content_type == "application/jwt":
        raise UsageError(
            "the userinfo answer is a signed or encrypted JWT (application/jwt); read it "
            "with oauth2_core.signed_userinfo.userinfo_response_flow"
        )
    data = parse_body(response)
    raise_for_error(response, data, endpoint="userinfo")
    data = require_object(response, data, endpoint="userinfo")
    sub = data.get("sub")
    if not isinstance(sub, str) or not sub:
        raise MalformedResponseError(
            "userinfo response has no string member 'sub'", field="sub", status=response.status
        )
    return check_userinfo_subject(
        UserInfo(sub=sub, claims=data), expected_sub, status=response.status
    )


def check_userinfo_subject(
    info: UserInfo, expected_sub: str | None, *, status: int | None = None
) -> UserInfo:
    """Refuse claims about another user than the ID token's (OpenID Connect Core §5.3.2).

    §5.3.2: "The sub Claim in the UserInfo Response MUST be verified to exactly
    match the sub Claim in the ID Token; if they do not match, the UserInfo
    Response values MUST NOT be used." The one place both the JSON and the
    signed answer are compared.

    Args:
        info: The claims read from the answer.
        expected_sub: The ID token's ``sub``, or ``None`` when there is no ID token.
        status: The answer's HTTP status, for the error.

    Returns:
        ``info``, unchanged.

    Raises:
        MalformedResponseError: the ``sub`` differs (field ``"sub"``).
    """
    if expected_sub is not None and info.sub != expected_sub:
        raise MalformedResponseError(
            "userinfo 'sub' does not match the ID token's (OpenID Connect Core §5.3.2): "
            "the answer is about another user and must not be used",
            field="sub",
            status=status,
        )
    return info
