"""Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery 1.0 §3).

Member names are the RFC's, verbatim. Members we do not model are kept in
:attr:`ServerMetadata.extra` and come back from :meth:`ServerMetadata.to_dict`,
so a cached document loses nothing.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core.errors import MalformedResponseError, UsageError, printable

__all__ = ["ServerMetadata"]

_STR_FIELDS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "service_documentation",
    "op_policy_uri",
    "op_tos_uri",
    "revocation_endpoint",
    "introspection_endpoint",
    "device_authorization_endpoint",
    "pushed_authorization_request_endpoint",
    "userinfo_endpoint",
    "end_session_endpoint",
    "backchannel_authentication_endpoint",
)
_LIST_FIELDS = (
    "scopes_supported",
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "ui_locales_supported",
    "revocation_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_methods_supported",
    "code_challenge_methods_supported",
    "dpop_signing_alg_values_supported",
    "id_token_signing_alg_values_supported",
    "subject_types_supported",
    "claims_supported",
    "backchannel_token_delivery_modes_supported",
    "backchannel_authentication_request_signing_alg_values_supported",
    # RFC 9101 §10.5, JARM §3, RFC 9701 §7
    "request_object_signing_alg_values_supported",
    "authorization_signing_alg_values_supported",
    "introspection_signing_alg_values_supported",
)
_BOOL_FIELDS = (
    "require_pushed_authorization_requests",
    "authorization_response_iss_parameter_supported",
    "tls_client_certificate_bound_access_tokens",
    "backchannel_user_code_parameter_supported",
    "require_signed_request_object",  # RFC 9101 §10.5
)
_MAP_FIELDS = ("mtls_endpoint_aliases",)


def _to_tuple(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


def _to_frozen_map(value: object) -> Mapping[str, Any]:
    if value is None:
        return types.MappingProxyType({})
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


def _to_optional_map(value: object) -> Mapping[str, str] | None:
    if value is None:
        return None
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


@attrs.frozen
class ServerMetadata:
    """What a client knows about an authorization server.

    Build it by hand, or from a discovery document with :meth:`from_dict`
    (see ``process_discovery_response``). Only ``issuer`` is required; each
    request builder raises ``UsageError`` naming the endpoint it lacks.
    """

    issuer: str
    authorization_endpoint: str | None = attrs.field(default=None, kw_only=True)
    token_endpoint: str | None = attrs.field(default=None, kw_only=True)
    jwks_uri: str | None = attrs.field(default=None, kw_only=True)
    registration_endpoint: str | None = attrs.field(default=None, kw_only=True)
    service_documentation: str | None = attrs.field(default=None, kw_only=True)
    op_policy_uri: str | None = attrs.field(default=None, kw_only=True)
    op_tos_uri: str | None = attrs.field(default=None, kw_only=True)
    revocation_endpoint: str | None = attrs.field(default=None, kw_only=True)
    introspection_endpoint: str | None = attrs.field(default=None, kw_only=True)
    device_authorization_endpoint: str | None = attrs.field(default=None, kw_only=True)
    pushed_authorization_request_endpoint: str | None = attrs.field(default=None, kw_only=True)
    userinfo_endpoint: str | None = attrs.field(default=None, kw_only=True)
    end_session_endpoint: str | None = attrs.field(default=None, kw_only=True)
    backchannel_authentication_endpoint: str | None = attrs.field(default=None, kw_only=True)
    scopes_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    response_types_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    response_modes_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    grant_types_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    token_endpoint_auth_methods_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    token_endpoint_auth_signing_alg_values_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    ui_locales_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    revocation_endpoint_auth_methods_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    introspection_endpoint_auth_methods_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    code_challenge_methods_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    dpop_signing_alg_values_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    id_token_signing_alg_values_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    subject_types_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    claims_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    backchannel_token_delivery_modes_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    backchannel_authentication_request_signing_alg_values_supported: tuple[str, ...] | None = (
        attrs.field(default=None, converter=_to_tuple, kw_only=True)
    )
    request_object_signing_alg_values_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    authorization_signing_alg_values_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    introspection_signing_alg_values_supported: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, kw_only=True
    )
    require_pushed_authorization_requests: bool = attrs.field(default=False, kw_only=True)
    authorization_response_iss_parameter_supported: bool = attrs.field(default=False, kw_only=True)
    tls_client_certificate_bound_access_tokens: bool = attrs.field(default=False, kw_only=True)
    backchannel_user_code_parameter_supported: bool = attrs.field(default=False, kw_only=True)
    require_signed_request_object: bool = attrs.field(default=False, kw_only=True)
    mtls_endpoint_aliases: Mapping[str, str] | None = attrs.field(
        default=None, converter=_to_optional_map, kw_only=True, eq=False, hash=False
    )
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_to_frozen_map, kw_only=True, hash=False
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ServerMetadata:
        """Build from a discovery document (RFC 8414 §3.2), keeping unknown members.

        Raises:
            MalformedResponseError: a known member has the wrong JSON type
                (the error names the member).
        """
        if not isinstance(data, Mapping):
            raise MalformedResponseError("server metadata must be a JSON object")
        issuer = data.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise MalformedResponseError(
                "server metadata member 'issuer' must be a non-empty string", field="issuer"
            )
        known: dict[str, Any] = {}
        extra: dict[str, object] = {}
        for key, value in data.items():
            if not isinstance(key, str):
                continue
            if key == "issuer":
                continue
            if key in _STR_FIELDS:
                if value is not None and not isinstance(value, str):
                    raise _bad(key, "a string")
                known[key] = value
            elif key in _LIST_FIELDS:
                if value is not None and (
                    not isinstance(value, list) or not all(isinstance(v, str) for v in value)
                ):
                    raise _bad(key, "an array of strings")
                known[key] = value
            elif key in _BOOL_FIELDS:
                if value is None:
                    continue
                if not isinstance(value, bool):
                    raise _bad(key, "a boolean")
                known[key] = value
            elif key in _MAP_FIELDS:
                if value is not None and (
                    not isinstance(value, Mapping)
                    or not all(isinstance(v, str) for v in value.values())
                ):
                    raise _bad(key, "an object of strings")
                known[key] = value
            else:
                extra[key] = value
        return cls(issuer, extra=extra, **known)

    def merged(self, other: ServerMetadata) -> ServerMetadata:
        """This metadata with the gaps filled from ``other``, a document of the same issuer.

        Servers such as Django OAuth Toolkit split their metadata: the RFC 8414
        document lacks ``userinfo_endpoint``, the OpenID Connect one lacks the
        revocation and introspection endpoints. Members this document has win;
        members it lacks (or has as ``null``) come from ``other``. Next:
        :meth:`updated` for what neither document lists.

        Raises:
            UsageError: the two documents name different issuers.
        """
        if not isinstance(other, ServerMetadata):
            raise UsageError("merged() takes another ServerMetadata")
        if other.issuer != self.issuer:
            raise UsageError(
                "merged() needs two documents of the same issuer (RFC 8414 §3.3); got "
                f"{printable(self.issuer, 120)!r} and {printable(other.issuer, 120)!r}"
            )
        return ServerMetadata.from_dict({**other.to_dict(), **self.to_dict()})

    def updated(self, members: Mapping[str, object]) -> ServerMetadata:
        """A copy with ``members`` set (an endpoint the documents do not list, say).

        The values are checked as a document's are, and every endpoint still
        meets the https rule when it is used.

        Raises:
            UsageError: ``members`` tries to change the issuer.
            MalformedResponseError: a member has the wrong type (named).
        """
        if "issuer" in members and members["issuer"] != self.issuer:
            raise UsageError("updated() cannot change the issuer; discover the other issuer")
        return ServerMetadata.from_dict({**self.to_dict(), **members})

    def to_dict(self) -> dict[str, Any]:
        """Everything, unknown members included, as a JSON-safe dict (``None`` left out)."""
        result: dict[str, Any] = dict(self.extra)
        result["issuer"] = self.issuer
        for name in _STR_FIELDS:
            value = getattr(self, name)
            if value is not None:
                result[name] = value
        for name in _LIST_FIELDS:
            value = getattr(self, name)
            if value is not None:
                result[name] = list(value)
        for name in _BOOL_FIELDS:
            if getattr(self, name):
                result[name] = True
        if self.mtls_endpoint_aliases is not None:
            result["mtls_endpoint_aliases"] = dict(self.mtls_endpoint_aliases)
        return result


def _bad(name: str, expected: str) -> MalformedResponseError:
    return MalformedResponseError(f"server metadata member {name!r} must be {expected}", field=name)
