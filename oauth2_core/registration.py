"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592).

* :func:`registration_request` POSTs the client metadata as JSON to the server's
  ``registration_endpoint`` (RFC 7591 §3.1), with an initial access token when
  the server wants one;
* :func:`process_registration_response` reads the client information response
  (§3.2.1) into a :class:`ClientRegistration`, or raises the error response
  (§3.2.2: ``invalid_redirect_uri``, ``invalid_client_metadata``, ...) as an
  ``EndpointError``;
* RFC 7592, when the server returned ``registration_client_uri`` and
  ``registration_access_token``: :func:`registration_read_request` (§2.1),
  :func:`registration_update_request` (§2.2) and
  :func:`registration_delete_request` (§2.3). Read and update answers go through
  :func:`process_registration_response` with ``previous=``; a delete answer
  through :func:`process_registration_delete_response`.

The server may change or drop metadata the client asked for (RFC 7591 §3.2.1):
that is data (:attr:`ClientRegistration.metadata`), never an error.
"""

from __future__ import annotations

import datetime as _dt
import json
import types
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core._http import HttpRequest, HttpResponse
from oauth2_core._parse import finite_number, parse_body, raise_for_error, require_object
from oauth2_core.client import Client, Signer
from oauth2_core.endpoints import check_endpoint
from oauth2_core.errors import MalformedResponseError, UsageError
from oauth2_core.metadata import ServerMetadata

__all__ = [
    "ClientRegistration",
    "process_registration_delete_response",
    "process_registration_response",
    "registration_delete_request",
    "registration_read_request",
    "registration_request",
    "registration_update_request",
]

#: Members of the client information response that are not client metadata
#: (RFC 7591 §3.2.1, RFC 7592 §3).
_INFORMATION = frozenset(
    {
        "client_id",
        "client_secret",
        "client_id_issued_at",
        "client_secret_expires_at",
        "registration_access_token",
        "registration_client_uri",
    }
)
#: RFC 7592 §2.2: "The client MUST NOT include the registration_access_token,
#: registration_client_uri, client_secret_expires_at, or client_id_issued_at fields".
_NOT_IN_UPDATE = _INFORMATION - {"client_id", "client_secret"}
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_JSON = "application/json"
#: 9999-12-31T23:59:59Z, the last whole second a datetime holds: larger stamps are clamped.
_LATEST = 253402300799


def _timestamp(value: object, name: str) -> _dt.datetime | None:
    """Seconds since the epoch (RFC 7591 §3.2.1) as an aware UTC datetime; 0 is ``None``."""
    if value is None:
        return None
    number = finite_number(value)
    if number is None or number < 0:
        raise MalformedResponseError(
            f"member {name!r} must be a non-negative number of seconds", field=name
        )
    seconds = int(min(number, _LATEST))  # whole seconds, so to_dict() gives it back exactly
    if seconds == 0:
        return None  # client_secret_expires_at: "0 if it will not expire"
    return _EPOCH + _dt.timedelta(seconds=seconds)


def _seconds(when: _dt.datetime | None) -> int:
    return 0 if when is None else int((when - _EPOCH).total_seconds())


def _to_frozen_map(value: object) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


@attrs.frozen(repr=False)
class ClientRegistration:
    """A registered client, as the server described it (RFC 7591 §3.2.1, RFC 7592 §3).

    Attributes:
        client_id: The issued client identifier.
        client_secret: The issued secret, or ``None`` for a public client.
        client_id_issued_at: When the id was issued, or ``None``.
        client_secret_expires_at: When the secret expires; ``None`` when it
            never does (the server sent ``0``) or there is no secret.
        registration_access_token: The RFC 7592 token for read, update and
            delete, or ``None`` when the server offers no management.
        registration_client_uri: The RFC 7592 client configuration endpoint.
        metadata: The registered client metadata as returned (``redirect_uris``,
            ``token_endpoint_auth_method``, ``grant_types``, unknown members ...).

    ``repr`` hides the secret and the registration access token; :meth:`to_dict`
    does not: store it as you store a client secret.
    """

    client_id: str
    client_secret: str | None = attrs.field(default=None, kw_only=True)
    client_id_issued_at: _dt.datetime | None = attrs.field(default=None, kw_only=True)
    client_secret_expires_at: _dt.datetime | None = attrs.field(default=None, kw_only=True)
    registration_access_token: str | None = attrs.field(default=None, kw_only=True)
    registration_client_uri: str | None = attrs.field(default=None, kw_only=True)
    metadata: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_to_frozen_map, kw_only=True, hash=False
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ClientRegistration:
        """Build from a client information response or from :meth:`to_dict` (RFC 7591 §3.2.1).

        Raises:
            MalformedResponseError: ``client_id`` missing, or a member of the
                wrong type (named in the error).
        """
        if not isinstance(data, Mapping):
            raise MalformedResponseError("a client information response must be a JSON object")
        client_id = data.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise MalformedResponseError(
                "member 'client_id' must be a non-empty string", field="client_id"
            )
        texts: dict[str, str | None] = {}
        for name in ("client_secret", "registration_access_token", "registration_client_uri"):
            value = data.get(name)
            if value is not None and (not isinstance(value, str) or not value):
                raise MalformedResponseError(
                    f"member {name!r} must be a non-empty string", field=name
                )
            texts[name] = value
        metadata = {k: v for k, v in data.items() if isinstance(k, str) and k not in _INFORMATION}
        return cls(
            client_id,
            client_secret=texts["client_secret"],
            client_id_issued_at=_timestamp(data.get("client_id_issued_at"), "client_id_issued_at"),
            client_secret_expires_at=_timestamp(
                data.get("client_secret_expires_at"), "client_secret_expires_at"
            ),
            registration_access_token=texts["registration_access_token"],
            registration_client_uri=texts["registration_client_uri"],
            metadata=metadata,
        )

    def to_dict(self) -> dict[str, Any]:
        """The client information response this came from: JSON-safe, secrets included."""
        result: dict[str, Any] = dict(self.metadata)
        result["client_id"] = self.client_id
        if self.client_secret is not None:
            result["client_secret"] = self.client_secret
        if self.client_secret is not None or self.client_secret_expires_at is not None:
            result["client_secret_expires_at"] = _seconds(self.client_secret_expires_at)
        if self.client_id_issued_at is not None:
            result["client_id_issued_at"] = _seconds(self.client_id_issued_at)
        if self.registration_access_token is not None:
            result["registration_access_token"] = self.registration_access_token
        if self.registration_client_uri is not None:
            result["registration_client_uri"] = self.registration_client_uri
        return result

    @property
    def auth_method(self) -> str:
        """The registered ``token_endpoint_auth_method`` (RFC 7591 §2).

        Absent, RFC 7591 §2 makes it ``client_secret_basic``; without a secret
        that cannot work, so a secretless registration reads as ``none``.
        """
        method = self.metadata.get("token_endpoint_auth_method")
        if isinstance(method, str) and method:
            return method
        return "client_secret_basic" if self.client_secret else "none"

    def secret_expired(self, now: _dt.datetime) -> bool:
        """Whether the client secret has expired at ``now`` (an aware datetime)."""
        return self.client_secret_expires_at is not None and now >= self.client_secret_expires_at

    def client(
        self,
        *,
        redirect_uri: str | None = None,
        auth_method: str | None = None,
        allow_insecure_http: bool = False,
        signer: Signer | None = None,
        signing_key: object = None,
    ) -> Client:
        """An :class:`~oauth2_core.Client` that authenticates as registered.

        Args:
            redirect_uri: The redirect URI to use; default: the registered one
                when exactly one was registered.
            auth_method: Override the registered ``token_endpoint_auth_method``.
            allow_insecure_http, signer, signing_key: As for
                :class:`~oauth2_core.Client` (``signing_key`` or ``signer`` for a
                ``private_key_jwt`` registration).

        Returns:
            The client. Next: ``authorization_url`` and the code exchange.

        Raises:
            UsageError: a registered method this library cannot use (the
                ``Client`` refuses it), or one that needs what is missing.
        """
        if redirect_uri is None:
            uris = self.metadata.get("redirect_uris")
            if isinstance(uris, list) and len(uris) == 1 and isinstance(uris[0], str):
                redirect_uri = uris[0]
        return Client(
            self.client_id,
            self.client_secret,
            auth_method=auth_method or self.auth_method,
            redirect_uri=redirect_uri,
            allow_insecure_http=allow_insecure_http,
            signer=signer,
            signing_key=signing_key,
        )

    def __repr__(self) -> str:
        secret = "<redacted>" if self.client_secret else None
        token = "<redacted>" if self.registration_access_token else None
        return (
            f"ClientRegistration(client_id={self.client_id!r}, client_secret={secret}, "
            f"auth_method={self.auth_method!r}, registration_access_token={token})"
        )

    __str__ = __repr__


def _json_body(metadata: Mapping[str, object]) -> bytes:
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise UsageError("client metadata must be a mapping with string keys")
    try:
        return json.dumps(dict(metadata), allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise UsageError("client metadata cannot be sent as JSON (RFC 7591 §3.1)") from exc


def registration_request(
    server: ServerMetadata,
    metadata: Mapping[str, object],
    *,
    initial_access_token: str | None = None,
    allow_insecure_http: bool = False,
) -> HttpRequest:
    """Register a client: POST its metadata to the registration endpoint (RFC 7591 §3.1).

    Args:
        server: Metadata with ``registration_endpoint``.
        metadata: Client metadata (RFC 7591 §2): ``redirect_uris``,
            ``client_name``, ``token_endpoint_auth_method``, ``grant_types``,
            ``scope``, ... sent as given.
        initial_access_token: The token a closed registration endpoint
            requires (RFC 7591 §3), sent as a Bearer token.
        allow_insecure_http: Allow a plain http endpoint on a non-loopback host.

    Returns:
        The request. Next: :func:`process_registration_response`.

    Raises:
        UsageError: no ``registration_endpoint``, plain http, or metadata
            that is not a JSON object.
    """
    if not isinstance(server, ServerMetadata):
        raise UsageError("server must be a ServerMetadata")
    url = check_endpoint(
        server.registration_endpoint,
        what="registration_endpoint",
        allow_insecure_http=allow_insecure_http,
    )
    headers = {"content-type": _JSON, "accept": _JSON}
    if initial_access_token is not None:
        headers["authorization"] = _bearer(initial_access_token, "initial_access_token")
    return HttpRequest("POST", url, headers, _json_body(metadata))


def _bearer(token: object, what: str) -> str:
    if not isinstance(token, str) or not token or not all("\x21" <= c <= "\x7e" for c in token):
        raise UsageError(f"{what} must be a non-empty token of visible ASCII characters")
    return f"Bearer {token}"


def process_registration_response(
    response: HttpResponse, *, previous: ClientRegistration | None = None
) -> ClientRegistration:
    """Read a client information response (RFC 7591 §3.2, RFC 7592 §2.1-2.2).

    Args:
        response: The answer to a registration, read or update request.
        previous: For read and update answers, the registration they concern:
            its ``registration_access_token`` and ``registration_client_uri``
            are kept when the answer omits them (RFC 7592 §3: a new token, if
            sent, replaces the old one).

    Returns:
        The registration. Next: :meth:`ClientRegistration.client`.

    Raises:
        EndpointError: an error response (RFC 7591 §3.2.2, ``invalid_redirect_uri``,
            ``invalid_client_metadata`` ...; RFC 7592 ``invalid_token``).
        MalformedResponseError: not a JSON object, no ``client_id``, a member
            of the wrong type, or (with ``previous``) another ``client_id``.
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="registration")
    data = require_object(response, data, endpoint="registration")
    try:
        registration = ClientRegistration.from_dict(data)
    except MalformedResponseError as exc:
        raise MalformedResponseError(str(exc), field=exc.field, status=response.status) from exc
    if previous is None:
        return registration
    if registration.client_id != previous.client_id:
        raise MalformedResponseError(
            "the client configuration endpoint answered for another client_id (RFC 7592 §3)",
            field="client_id",
            status=response.status,
        )
    return attrs.evolve(
        registration,
        registration_access_token=registration.registration_access_token
        or previous.registration_access_token,
        registration_client_uri=registration.registration_client_uri
        or previous.registration_client_uri,
    )


def _management(
    registration: ClientRegistration, method: str, *, allow_insecure_http: bool, body: bytes = b""
) -> HttpRequest:
    if not isinstance(registration, ClientRegistration):
        raise UsageError("registration must be a ClientRegistration")
    if registration.registration_client_uri is None or not registration.registration_access_token:
        raise UsageError(
            "this registration has no registration_client_uri and registration_access_token: "
            "the server offers no client management (RFC 7592)"
        )
    url = check_endpoint(
        registration.registration_client_uri,
        what="registration_client_uri",
        allow_insecure_http=allow_insecure_http,
    )
    headers = {
        "authorization": _bearer(
            registration.registration_access_token, "registration_access_token"
        ),
        "accept": _JSON,
    }
    if body:
        headers["content-type"] = _JSON
    return HttpRequest(method, url, headers, body)


def registration_read_request(
    registration: ClientRegistration, *, allow_insecure_http: bool = False
) -> HttpRequest:
    """Read the client's current registration (RFC 7592 §2.1).

    Returns:
        A GET to ``registration_client_uri`` with the registration access
        token. Next: :func:`process_registration_response` with ``previous=``.

    Raises:
        UsageError: the registration has no management endpoint or token.
    """
    return _management(registration, "GET", allow_insecure_http=allow_insecure_http)


def registration_update_request(
    registration: ClientRegistration,
    metadata: Mapping[str, object],
    *,
    allow_insecure_http: bool = False,
) -> HttpRequest:
    """Replace the client's metadata (RFC 7592 §2.2).

    The request carries ``metadata`` with the ``client_id`` (and the
    ``client_secret``, if there is one) added, as §2.2 requires: it is a full
    replacement, so pass every member to keep (``registration.metadata`` plus
    the changes, say).

    Returns:
        A PUT to ``registration_client_uri``. Next:
        :func:`process_registration_response` with ``previous=``.

    Raises:
        UsageError: no management endpoint or token, or ``metadata`` holds a
            member §2.2 forbids (``registration_access_token``, ...) or another
            ``client_id``.
    """
    if not isinstance(registration, ClientRegistration):
        raise UsageError("registration must be a ClientRegistration")
    if isinstance(metadata, Mapping):
        forbidden = sorted(_NOT_IN_UPDATE.intersection(k for k in metadata if isinstance(k, str)))
        if forbidden:
            raise UsageError(f"an update must not include {forbidden} (RFC 7592 §2.2)")
        if metadata.get("client_id", registration.client_id) != registration.client_id:
            raise UsageError("an update must carry the client's own client_id (RFC 7592 §2.2)")
    body = dict(metadata) if isinstance(metadata, Mapping) else metadata
    if isinstance(body, dict):
        body["client_id"] = registration.client_id
        if registration.client_secret is not None:
            body["client_secret"] = registration.client_secret
    return _management(
        registration, "PUT", allow_insecure_http=allow_insecure_http, body=_json_body(body)
    )


def registration_delete_request(
    registration: ClientRegistration, *, allow_insecure_http: bool = False
) -> HttpRequest:
    """Deregister the client (RFC 7592 §2.3).

    Returns:
        A DELETE to ``registration_client_uri``. Next:
        :func:`process_registration_delete_response`.

    Raises:
        UsageError: the registration has no management endpoint or token.
    """
    return _management(registration, "DELETE", allow_insecure_http=allow_insecure_http)


def process_registration_delete_response(response: HttpResponse) -> None:
    """Check the answer to a delete request (RFC 7592 §2.3: ``204 No Content``).

    Any 2xx without an error object counts as deleted.

    Raises:
        EndpointError: an error status or object (``invalid_token`` when the
            client or its token is gone, 403 when deletion is not allowed).
    """
    raise_for_error(response, parse_body(response), endpoint="registration")
