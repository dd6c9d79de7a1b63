"""Resource-first authorization decisions (RFC 9728, RFC 7591, RFC 6750 §3.1, RFC 9470).

The pure half of what a client does when it starts from nothing but a resource
URL (an MCP server, an API) and the resource answers 401 or 403. Nothing here
sends anything; ``oauth2_transports`` drives these decisions with its hooks
(``OAuth2Auth.for_resource``).

* :class:`AccessRequest` is what one authorization asks for: ``scope``,
  ``acr_values`` and ``max_age``.
* :func:`first_access_request`: the challenge's ``scope`` (RFC 6750 §3), else
  the resource metadata's ``scopes_supported`` (RFC 9728 §2; the MCP
  authorization spec's rule, since servers built with the ``mcp`` SDK send no
  ``scope`` in their challenge).
* :func:`step_up`: a 403 ``insufficient_scope`` (RFC 6750 §3.1) asks for the
  union of what was asked and granted and what the challenge names; a 401
  ``insufficient_user_authentication`` (RFC 9470 §3) asks for its
  ``acr_values`` / ``max_age``. It answers ``None`` when the new request would
  ask for nothing the last one did not: the caller gives the response back
  instead of authorizing again, so a resource that keeps refusing never makes
  a loop.
* :func:`registration_metadata`: the RFC 7591 metadata a resource-first client
  registers with (PKCE public client, ``token_endpoint_auth_method`` ``none``,
  the union of the scopes the resource and the server support, so a later
  step-up is not refused as ``invalid_scope``); :func:`needs_new_registration`
  says when an ``invalid_scope`` refusal calls for registering again.
* :func:`supports_client_id_metadata_document`: whether the server takes an
  https URL as ``client_id`` (OAuth Client ID Metadata Document, the MCP
  authorization spec of 2025-11-25: ``client_id_metadata_document_supported``);
  :func:`check_client_id_metadata_url` refuses a URL the draft forbids.
* :func:`resource_covers`: whether a request URL belongs to a resource, so a
  token meant for one resource (RFC 8707) is never sent elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from oauth2_core.bearer import BearerChallenge
from oauth2_core.endpoints import check_endpoint
from oauth2_core.errors import OAuth2Error, UsageError
from oauth2_core.metadata import ServerMetadata
from oauth2_core.resource_metadata import ResourceMetadata, is_parent_resource

__all__ = [
    "AccessRequest",
    "check_client_id_metadata_url",
    "first_access_request",
    "needs_new_registration",
    "registration_metadata",
    "resource_covers",
    "step_up",
    "supports_client_id_metadata_document",
]


def _words(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value.split() if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    if not all(isinstance(item, str) for item in items):
        raise UsageError("scope and acr_values must be strings")
    return tuple(dict.fromkeys(word for item in items for word in item.split()))


def _max_age(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError("max_age must be a non-negative number of seconds")
    return value


def _union(*parts: Iterable[str] | None) -> tuple[str, ...] | None:
    if all(part is None for part in parts):
        return None
    return tuple(dict.fromkeys(word for part in parts if part is not None for word in part))


@attrs.frozen
class AccessRequest:
    """What one authorization request asks for (RFC 6749 §3.3, OIDC Core §3.1.2.1, RFC 9470).

    Attributes:
        scope: Scope values, in order, without duplicates; ``None`` asks for
            the server's default.
        acr_values: Authentication context classes, in order of preference.
        max_age: The longest time in seconds since the user last authenticated.
    """

    scope: tuple[str, ...] | None = attrs.field(default=None, converter=_words)
    acr_values: tuple[str, ...] | None = attrs.field(default=None, converter=_words)
    max_age: int | None = attrs.field(default=None, converter=_max_age)

    def params(self) -> dict[str, str]:
        """The authorization request parameters (``scope`` space-separated, RFC 6749 §3.3)."""
        result: dict[str, str] = {}
        if self.scope:
            result["scope"] = " ".join(self.scope)
        if self.acr_values:
            result["acr_values"] = " ".join(self.acr_values)
        if self.max_age is not None:
            result["max_age"] = str(self.max_age)
        return result

    def asks_more_than(self, other: AccessRequest | None) -> bool:
        """Whether this asks for what ``other`` did not (a scope, an acr, a shorter max_age)."""
        if other is None:
            return True
        if set(self.scope or ()) - set(other.scope or ()):
            return True
        if self.acr_values is not None and self.acr_values != other.acr_values:
            return True
        return self.max_age is not None and (other.max_age is None or self.max_age < other.max_age)


def first_access_request(
    challenge: BearerChallenge | None, metadata: ResourceMetadata
) -> AccessRequest:
    """What the first authorization for a resource asks for.

    The scope of the 401's Bearer challenge (RFC 6750 §3), else the resource's
    ``scopes_supported`` (RFC 9728 §2, as the MCP authorization spec says),
    else none (the server's default).

    Args:
        challenge: The Bearer challenge of the 401, if any.
        metadata: The resource's checked metadata.

    Returns:
        The request. Next: ``authorization_url(..., **request.params(),
        resource=metadata.resource)``.
    """
    if challenge is not None and challenge.scope:
        return AccessRequest(scope=challenge.scope)
    return AccessRequest(scope=metadata.scopes_supported or None)


def _max_age_param(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 10:
        return None  # RFC 9470 §3: a non-negative integer; anything else is ignored
    return int(value)


def step_up(
    status: int,
    challenges: Sequence[BearerChallenge],
    *,
    asked: AccessRequest | None,
    granted: Iterable[str] | None = None,
    age: float | None = None,
) -> AccessRequest | None:
    """What to ask for after a resource refused a token (RFC 6750 §3.1, RFC 9470 §3).

    * 403 with ``error="insufficient_scope"`` and a ``scope``: the union of the
      scope asked last, the scope granted and the scope named (RFC 6750 §3.1:
      "the scope necessary to access the requested resource"), keeping the
      last ``acr_values`` and ``max_age``;
    * 401 with ``error="insufficient_user_authentication"`` (RFC 9470 §3): the
      last scope with the challenge's ``acr_values`` and/or ``max_age``.

    Args:
        status: The response status.
        challenges: The response's parsed ``WWW-Authenticate`` challenges
            (Bearer or DPoP, RFC 9449 §7.1).
        asked: What the authorization of the refused token asked for.
        granted: The refused token's scope, when the server said.
        age: Seconds since the refused token's authorization, if known. A
            ``max_age`` the last request already asked for is asked again
            when ``age`` exceeds it: the user's authentication is older than
            that by now (RFC 9470 §3), and a resource that refuses at once
            after it still gets no second authorization.

    Returns:
        The next request, or ``None``: not a step-up answer, or one asking for
        nothing more than ``asked`` (re-authorizing would loop; give the
        response to the caller).
    """
    # RFC 9449 §7.1: a DPoP-bound token is refused with a DPoP challenge carrying
    # the same error codes, so both schemes are read.
    bearer = [c for c in challenges if c.scheme.lower() in ("bearer", "dpop") and c.error]
    if not bearer:
        return None
    challenge = bearer[0]
    base = asked or AccessRequest()
    if status == 403 and challenge.error == "insufficient_scope":
        if not challenge.scope:
            return None
        new = attrs.evolve(base, scope=_union(base.scope, granted, challenge.scope))
    elif status == 401 and challenge.error == "insufficient_user_authentication":
        acr = challenge.params.get("acr_values")
        max_age = _max_age_param(challenge.params.get("max_age"))
        if not acr and max_age is None:
            return None
        new = attrs.evolve(
            base,
            acr_values=acr or base.acr_values,
            max_age=max_age if max_age is not None else base.max_age,
        )
        if max_age is not None and age is not None and age > max_age:
            return new  # the authentication has aged past max_age since: not a loop
    else:
        return None
    return new if new.asks_more_than(asked) else None


def registration_metadata(
    client_metadata: Mapping[str, object],
    resource: ResourceMetadata,
    server: ServerMetadata,
    *,
    scope: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The client metadata a resource-first client registers with (RFC 7591 §2).

    Members the caller gave are kept; the defaults are a public client using
    PKCE (``token_endpoint_auth_method`` ``none``, RFC 7636), the code and
    refresh grants, ``response_types`` ``code``; ``scope`` becomes the union of
    the caller's, ``scope``, the resource's ``scopes_supported`` and the
    server's ``scopes_supported``, so that a later step-up is not refused as
    ``invalid_scope`` by a server that limits a client to its registered scope.
    When the server lists its ``scopes_supported``, scopes it does not list are
    left out (such a server refuses them as ``invalid_client_metadata``).

    Args:
        client_metadata: The caller's metadata (``client_name``,
            ``redirect_uris``, ...).
        resource: The resource's metadata.
        server: The authorization server's metadata.
        scope: Scope values the registration must cover too (a step-up's).

    Returns:
        The metadata. Next: ``registration_request(server, metadata)``.

    Raises:
        UsageError: ``client_metadata`` is not a mapping with string keys.
    """
    if not isinstance(client_metadata, Mapping) or not all(
        isinstance(k, str) for k in client_metadata
    ):
        raise UsageError("client_metadata must be a mapping with string keys")
    metadata: dict[str, Any] = dict(client_metadata)
    metadata.setdefault("token_endpoint_auth_method", "none")
    metadata.setdefault("grant_types", ["authorization_code", "refresh_token"])
    metadata.setdefault("response_types", ["code"])
    own = metadata.get("scope")
    wanted = _union(scope, resource.scopes_supported) or ()
    if server.scopes_supported is not None:
        # A server that lists its scopes refuses others at registration (RFC 7591
        # §3.2.2 invalid_client_metadata): a resource's own scopes it does not
        # list are asked for at authorization only.
        wanted = tuple(s for s in wanted if s in server.scopes_supported)
    union = _union(_words(own) if isinstance(own, str) else None, wanted, server.scopes_supported)
    if union:
        metadata["scope"] = " ".join(union)
    return metadata


def needs_new_registration(
    error: OAuth2Error, registered: Mapping[str, object], wanted: Iterable[str] | None
) -> bool:
    """Whether an ``invalid_scope`` refusal calls for registering again (RFC 7591 §2).

    Yes when the server refused the scope (``error`` is an authorization or
    token endpoint error ``invalid_scope``, RFC 6749 §4.1.2.1, §5.2) and
    ``wanted`` holds a value outside the registered ``scope``; registering
    with the same scope again could not help.

    Args:
        error: The error the authorization or the code exchange raised.
        registered: The registration's metadata (``ClientRegistration.metadata``).
        wanted: The scope the refused request asked for.
    """
    if getattr(error, "error", None) != "invalid_scope" or not wanted:
        return False
    scope = registered.get("scope")
    have = set(scope.split()) if isinstance(scope, str) else set()
    return bool(set(wanted) - have)


def supports_client_id_metadata_document(server: ServerMetadata) -> bool:
    """Whether ``server`` accepts a Client ID Metadata Document URL as ``client_id``.

    The server says so with ``client_id_metadata_document_supported: true`` in
    its metadata (OAuth Client ID Metadata Document draft; the MCP
    authorization spec of 2025-11-25 prefers it to RFC 7591 registration).
    """
    return server.extra.get("client_id_metadata_document_supported") is True


def check_client_id_metadata_url(url: object, *, allow_insecure_http: bool = False) -> str:
    """Refuse a ``client_id`` URL that the Client ID Metadata Document draft forbids.

    draft-ietf-oauth-client-id-metadata-document, "Client Identifier": the URL
    MUST use https, MUST have a path, MUST NOT have dot segments, a fragment or
    user info (loopback http passes, as everywhere in this library, and
    ``allow_insecure_http=True`` is the explicit opt-out).

    Args:
        url: The URL serving the client's metadata document; it is the ``client_id``.
        allow_insecure_http: Allow plain http to a non-loopback host.

    Returns:
        ``url``, unchanged.

    Raises:
        UsageError: the URL breaks one of those rules.
    """
    what = "client_id_metadata_url"
    if not isinstance(url, str) or not url:
        raise UsageError(f"{what} must be a non-empty string")
    check_endpoint(url, what=what, allow_insecure_http=allow_insecure_http)
    path = url.split("://", 1)[1].partition("/")[2].partition("?")[0]
    if not path:
        raise UsageError(f"{what} must have a path (https://host/path)")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise UsageError(f"{what} must not have '.' or '..' path segments")
    return url


def resource_covers(resource: str, url: str) -> bool:
    """Whether a request to ``url`` is a request to ``resource`` (RFC 8707 §2, RFC 9728 §3.3).

    ``url`` is the resource itself or below it: same origin, and its path is
    ``resource``'s path or under it (``https://rs/api`` covers
    ``https://rs/api/x?y``, not ``https://rs/apix`` nor ``https://other/api``).
    A token issued with ``resource=<resource>`` is sent to such URLs only.
    """
    return is_parent_resource(resource, url)
