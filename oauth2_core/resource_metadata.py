"""OAuth 2.0 Protected Resource Metadata (RFC 9728).

A client that knows only a resource URL learns from the resource which
authorization servers issue tokens for it:

* :func:`resource_metadata_url` is where the metadata lives: the well-known
  segment ``/.well-known/oauth-protected-resource`` inserted between the host
  and the path (§3.1);
* :func:`resource_metadata_request` builds the GET, for that URL or for the one
  a 401's ``WWW-Authenticate`` named (``resource_metadata``, §5.1; see
  ``BearerChallenge.resource_metadata``);
* :func:`process_resource_metadata_response` reads the answer into a
  :class:`ResourceMetadata` and refuses it unless its ``resource`` is the URL
  asked about (§3.3: "If these values are not identical, the data contained in
  the response MUST NOT be used").

``signed_metadata`` (§2.2) is kept in :attr:`ResourceMetadata.extra`,
unverified. The whole chain (resource, then its authorization server) is
``oauth2_core.resource_discovery.resource_discovery_flow``.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

from oauth2_core._http import HttpRequest, HttpResponse
from oauth2_core._parse import parse_body, raise_for_error, require_object
from oauth2_core.endpoints import check_endpoint, url_origin
from oauth2_core.errors import MalformedResponseError, UsageError, printable

__all__ = [
    "ResourceMetadata",
    "process_resource_metadata_response",
    "resource_metadata_request",
    "resource_metadata_url",
]

#: The well-known URI suffix of RFC 9728 §3 (registered in §8.3).
RESOURCE_WELL_KNOWN = "/.well-known/oauth-protected-resource"

_STR_FIELDS = (
    "jwks_uri",
    "resource_name",
    "resource_documentation",
    "resource_policy_uri",
    "resource_tos_uri",
)
_LIST_FIELDS = (
    "scopes_supported",
    "bearer_methods_supported",
    "resource_signing_alg_values_supported",
    "authorization_details_types_supported",
    "dpop_signing_alg_values_supported",
)
_BOOL_FIELDS = (
    "tls_client_certificate_bound_access_tokens",
    "dpop_bound_access_tokens_required",
)


def _to_tuple(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


def _to_servers(value: object) -> tuple[str, ...]:
    return _to_tuple(value) or ()


def _to_frozen_map(value: object) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


def _optional_tuple() -> Any:
    return attrs.field(default=None, converter=_to_tuple, kw_only=True)


@attrs.frozen
class ResourceMetadata:
    """What a protected resource says about itself (RFC 9728 §2).

    Member names are the RFC's. Build it by hand or with :meth:`from_dict`
    (see :func:`process_resource_metadata_response`); members we do not model,
    ``signed_metadata`` included, stay in :attr:`extra`.

    Attributes:
        resource: The resource identifier (REQUIRED, an https URL).
        authorization_servers: Issuer identifiers of the authorization
            servers that issue tokens for it; empty when the document lists none.
        scopes_supported: Scopes used in requests for this resource, or ``None``.
        bearer_methods_supported: ``header``, ``body``, ``query`` (RFC 6750 §2).
        extra: Every other member, as received.
    """

    resource: str
    authorization_servers: tuple[str, ...] = attrs.field(
        default=(), converter=_to_servers, kw_only=True
    )
    jwks_uri: str | None = attrs.field(default=None, kw_only=True)
    resource_name: str | None = attrs.field(default=None, kw_only=True)
    resource_documentation: str | None = attrs.field(default=None, kw_only=True)
    resource_policy_uri: str | None = attrs.field(default=None, kw_only=True)
    resource_tos_uri: str | None = attrs.field(default=None, kw_only=True)
    scopes_supported: tuple[str, ...] | None = _optional_tuple()
    bearer_methods_supported: tuple[str, ...] | None = _optional_tuple()
    resource_signing_alg_values_supported: tuple[str, ...] | None = _optional_tuple()
    authorization_details_types_supported: tuple[str, ...] | None = _optional_tuple()
    dpop_signing_alg_values_supported: tuple[str, ...] | None = _optional_tuple()
    tls_client_certificate_bound_access_tokens: bool = attrs.field(default=False, kw_only=True)
    dpop_bound_access_tokens_required: bool = attrs.field(default=False, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_to_frozen_map, kw_only=True, hash=False
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ResourceMetadata:
        """Build from a metadata document (RFC 9728 §3.2), keeping unknown members.

        Args:
            data: The decoded JSON object.

        Returns:
            The metadata. It is not compared with any URL here: that is
            :func:`process_resource_metadata_response`'s job.

        Raises:
            MalformedResponseError: ``resource`` missing, or a known member of
                the wrong JSON type (the error names it).
        """
        if not isinstance(data, Mapping):
            raise MalformedResponseError("resource metadata must be a JSON object")
        resource = data.get("resource")
        if not isinstance(resource, str) or not resource:
            raise _bad("resource", "a non-empty string")
        known: dict[str, Any] = {}
        extra: dict[str, object] = {}
        for key, value in data.items():
            if not isinstance(key, str) or key == "resource":
                continue
            if key in _STR_FIELDS:
                if value is not None and not isinstance(value, str):
                    raise _bad(key, "a string")
                known[key] = value
            elif key in _LIST_FIELDS or key == "authorization_servers":
                if value is not None and (
                    not isinstance(value, list) or not all(isinstance(v, str) for v in value)
                ):
                    raise _bad(key, "an array of strings")
                known[key] = value
            elif key in _BOOL_FIELDS:
                if value is not None and not isinstance(value, bool):
                    raise _bad(key, "a boolean")
                known[key] = bool(value)
            else:
                extra[key] = value
        return cls(resource, extra=extra, **known)

    def to_dict(self) -> dict[str, Any]:
        """Everything, unknown members included, as a JSON-safe dict (``None`` left out)."""
        result: dict[str, Any] = dict(self.extra)
        result["resource"] = self.resource
        if self.authorization_servers:
            result["authorization_servers"] = list(self.authorization_servers)
        for name in _STR_FIELDS:
            if (value := getattr(self, name)) is not None:
                result[name] = value
        for name in _LIST_FIELDS:
            if (value := getattr(self, name)) is not None:
                result[name] = list(value)
        for name in _BOOL_FIELDS:
            if getattr(self, name):
                result[name] = True
        return result


def _bad(name: str, expected: str) -> MalformedResponseError:
    return MalformedResponseError(
        f"resource metadata member {name!r} must be {expected}", field=name
    )


def resource_metadata_url(resource: str) -> str:
    """Where ``resource``'s metadata lives (RFC 9728 §3.1).

    The well-known segment goes between the host and the path (and query), a
    terminating ``/`` after the host removed first:
    ``https://resource.example.com/resource1`` →
    ``https://resource.example.com/.well-known/oauth-protected-resource/resource1``.

    Args:
        resource: The resource identifier: an absolute URL without a fragment.

    Returns:
        The metadata URL.

    Raises:
        UsageError: not an absolute http(s) URL, or it has a fragment (RFC
            9728 §1.2: a resource identifier has none).
    """
    origin, rest = url_origin(resource, what="resource")
    if origin.scheme not in ("https", "http") or "#" in rest:
        raise UsageError("resource must be an absolute https URL without a fragment")
    parts = urlsplit(resource)
    path = "" if parts.path == "/" else parts.path
    return urlunsplit((parts.scheme, parts.netloc, RESOURCE_WELL_KNOWN + path, parts.query, ""))


def resource_metadata_request(
    resource: str, *, metadata_url: str | None = None, allow_insecure_http: bool = False
) -> HttpRequest:
    """A GET for ``resource``'s metadata (RFC 9728 §3.1).

    Args:
        resource: The URL of the protected resource (the request URL that was
            answered 401, or the resource identifier the caller knows).
        metadata_url: The URL from the 401's ``resource_metadata`` parameter
            (RFC 9728 §5.1, ``BearerChallenge.resource_metadata``); ``None``
            uses the well-known URL of :func:`resource_metadata_url`.
        allow_insecure_http: Allow plain http to a non-loopback host.

    Returns:
        The request. Next: :func:`process_resource_metadata_response` with the
        same ``resource``.

    Raises:
        UsageError: a bad URL, or plain http to a non-loopback host.
    """
    url = resource_metadata_url(resource) if metadata_url is None else metadata_url
    url = check_endpoint(url, what="resource metadata URL", allow_insecure_http=allow_insecure_http)
    return HttpRequest("GET", url, {"accept": "application/json"})


def is_parent_resource(candidate: str, resource: str) -> bool:
    """Whether ``candidate`` is ``resource`` or a same-origin parent path of it.

    ``https://rs/`` and ``https://rs/api`` are parents of ``https://rs/api/mcp``;
    ``https://rs/ap``, ``https://other/api`` and anything with a query or a
    fragment are not. Never raises.
    """
    if candidate == resource:
        return True
    try:
        have, have_rest = url_origin(candidate, what="resource")
        want, want_rest = url_origin(resource, what="resource")
    except UsageError:
        return False
    if have != want or any(c in have_rest for c in "?#"):
        return False
    base = have_rest.rstrip("/")
    path = want_rest.split("#", 1)[0].split("?", 1)[0]
    return path == base or path.startswith(base + "/")


def process_resource_metadata_response(
    response: HttpResponse, *, resource: str, allow_parent: bool = False
) -> ResourceMetadata:
    """Read a resource metadata document and check its ``resource`` (RFC 9728 §3.2, §3.3).

    Args:
        response: The answer to :func:`resource_metadata_request`.
        resource: The URL asked about: the resource identifier the well-known
            URL was built from, or the request URL whose 401 named the
            metadata URL (§3.3: the ``resource`` member must be identical to it).
        allow_parent: Also accept a ``resource`` that is a same-origin parent
            path of ``resource`` (``https://rs/`` for ``https://rs/mcp``), as
            servers built with the ``mcp`` SDK publish it. Not RFC 9728 §3.3;
            an explicit opt-in, used by ``resource_discovery_flow``.

    Returns:
        The metadata; tokens for it are requested with
        ``resource=<its resource>`` (RFC 8707).

    Raises:
        EndpointError: an error status or an error object.
        MalformedResponseError: not a JSON object, a member of the wrong type,
            or a ``resource`` that is not the URL asked about (``field`` is
            ``"resource"``).
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="resource metadata")
    data = require_object(response, data, endpoint="resource metadata")
    try:
        metadata = ResourceMetadata.from_dict(data)
    except MalformedResponseError as exc:
        raise MalformedResponseError(str(exc), field=exc.field, status=response.status) from exc
    if metadata.resource != resource and not (
        allow_parent and is_parent_resource(metadata.resource, resource)
    ):
        raise MalformedResponseError(
            f"resource metadata names resource {printable(metadata.resource, 120)!r}, "
            f"not {printable(str(resource), 120)!r} (RFC 9728 §3.3)",
            field="resource",
            status=response.status,
        )
    return metadata
