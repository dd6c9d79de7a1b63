"""The error tree. Every error the library raises is an :class:`OAuth2Error`.

Errors say whose fault it is (as h11 does): :class:`UsageError` is the
caller's, :class:`ResponseError` the server's, :class:`CallbackError` comes from
the browser redirect, and ``oauth2_transports.TransportError`` the network's.

No message ever contains a secret: messages name fields, never their values.
Server-provided texts (``error_description``) are kept on the exception as data
and shown shortened, with control characters escaped (:func:`escape_controls`);
secrets a server echoes back are masked by ``oauth2_core.redaction``.
"""

from __future__ import annotations

import datetime as _dt
import re

__all__ = [
    "AccessDeniedError",
    "AccessTokenError",
    "AuthorizationError",
    "BackchannelExpiredError",
    "CallbackError",
    "CallbackValidationError",
    "DeviceCodeExpiredError",
    "EndpointError",
    "IdTokenError",
    "InsecureHttpError",
    "InsufficientScopeError",
    "InvalidTokenError",
    "IssuerMismatchError",
    "MalformedResponseError",
    "OAuth2Error",
    "ResponseError",
    "UsageError",
    "escape_controls",
]

# C0, DEL and C1 controls (ESC, CSI, OSC, BEL, backspace, CR, LF, ...), and the
# invisible characters that reorder or break a line when shown: Unicode bidi
# marks, embeddings, overrides and isolates (UAX #9: U+061C, U+200E-F,
# U+202A-E, U+2066-9) and the line and paragraph separators (U+2028-9).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")

#: Error codes after which retrying the same request later can succeed.
RETRYABLE_ERRORS = frozenset({"server_error", "temporarily_unavailable", "slow_down"})
#: Error codes that mean the grant is gone: the user must authorize again.
REAUTHORIZE_ERRORS = frozenset(
    {"invalid_grant", "login_required", "consent_required", "interaction_required"}
)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control and bidi character escaped visibly (``\\x1b``, ``\\u202e``).

    Server-provided strings go through this before they reach a message, a log
    line or a terminal: an ESC starts a terminal escape sequence (colours, OSC 8
    hyperlinks, window titles), CR and backspace overwrite what was printed, a
    newline forges a log line, a bidi override (U+202E) shows text reversed.
    Nothing is dropped: the reader sees that the server sent the character.

    Args:
        text: Any text.

    Returns:
        The text with C0, DEL, C1, bidi and line-separator characters as
        ``\\xNN`` / ``\\uNNNN``.
    """
    return _CONTROL.sub(_escape, text)


def printable(text: str, limit: int = 200) -> str:
    """A server-provided text made safe to show in a message: escaped, then shortened."""
    text = escape_controls(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OAuth2Error(Exception):
    """The root of every error raised by oauth2-core."""


class UsageError(OAuth2Error):
    """The caller used the library wrongly (bad argument, insecure endpoint, ...)."""


class InsecureHttpError(UsageError):
    """A URL that would carry a credential or a token over plain http to a non-loopback host.

    RFC 6749 §3.2 and §10.9: the token endpoint MUST use TLS. The opt-out is
    per client (``Client(..., allow_insecure_http=True)``); ``what`` names the
    URL (``token_endpoint``, ``issuer``, ...), so that a front end (the
    ``oauth2`` command) can name its own switch.

    Attributes:
        what: Which URL was refused.
    """

    def __init__(self, message: str, *, what: str) -> None:
        super().__init__(message)
        self.what = what


class CallbackError(OAuth2Error):
    """The authorization redirect cannot be used."""


class AuthorizationError(CallbackError):
    """The authorization server redirected back with an error (RFC 6749 §4.1.2.1).

    Attributes:
        error: The ``error`` code, e.g. ``access_denied``.
        error_description: The server's human-readable text, or ``None``.
        error_uri: A page about the error, or ``None``.
    """

    def __init__(
        self, error: str, error_description: str | None = None, error_uri: str | None = None
    ) -> None:
        self.error = error
        self.error_description = error_description
        self.error_uri = error_uri
        text = f"authorization failed: {printable(error, 80)}"
        if error_description:
            text += f": {printable(error_description)}"
        super().__init__(text)


class CallbackValidationError(CallbackError):
    """The redirect failed a check: state, issuer (RFC 9207), duplicates, missing code.

    Never retry with the same redirect: it may be a forgery or a mix-up attack.
    """


class ResponseError(OAuth2Error):
    """The server answered something we cannot use.

    Attributes:
        status: The HTTP status of the answer, when there was one.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status: int | None = status


class MalformedResponseError(ResponseError):
    """A response that breaks the protocol: wrong media type, bad JSON, a bad member.

    Attributes:
        field: The member at fault (``"expires_in"``), or ``None`` for the body as a whole.
    """

    def __init__(
        self, message: str, *, field: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.field = field


class EndpointError(ResponseError):
    """An endpoint refused the request (RFC 6749 §5.2 error object, or an error status).

    Attributes:
        error: The RFC 6749 ``error`` code, or ``None`` when the body held none
            (an HTML 502 page, say).
        error_description: The server's text, or ``None``.
        error_uri: A page about the error, or ``None``.
        status: The HTTP status.
        retry_after: Seconds the server asked us to wait (``Retry-After``), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None,
        status: int,
        error_description: str | None = None,
        error_uri: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.error = error
        self.error_description = error_description
        self.error_uri = error_uri
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (5xx, 429, ``server_error``, ...)."""
        if self.error in RETRYABLE_ERRORS:
            return True
        if self.error in REAUTHORIZE_ERRORS:
            return False
        status = self.status or 0
        return status >= 500 or status == 429

    @property
    def reauthorize(self) -> bool:
        """Whether the grant is gone and the user must authorize again (``invalid_grant``)."""
        return self.error in REAUTHORIZE_ERRORS


def parse_retry_after(value: str | None, now: _dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (RFC 9110 §10.2.3), or ``None``.

    ``now`` is the response's ``received_at``, used for the HTTP-date form.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) < 12:
        return float(int(value))
    # Deferred on purpose, measured: email.utils (with socket, calendar, locale) costs
    # ~7.7 ms of `python -X importtime` (median of 15, this 2-core machine), and every
    # core module imports this one; only the rare HTTP-date form of Retry-After needs it.
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    try:
        return max(0.0, (when - now).total_seconds())
    except OverflowError:
        return None


class AccessDeniedError(EndpointError):
    """The user refused the device authorization (RFC 8628 §3.5 ``access_denied``).

    Polling stops; ask the user before starting a new device authorization.
    """


class DeviceCodeExpiredError(EndpointError):
    """The device code expired before the user approved (RFC 8628 §3.5 ``expired_token``).

    Raised when the token endpoint says so, and by ``device_poll_flow`` when the
    next poll would fall at or after ``DeviceAuthorization.expires_at``. Start a
    new device authorization. ``status`` is the last response's status, or
    ``None`` when the flow gave up before sending any poll.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = "expired_token",
        status: int | None,
        error_description: str | None = None,
        error_uri: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            error=error,
            status=status if status is not None else 0,
            error_description=error_description,
            error_uri=error_uri,
            retry_after=retry_after,
        )
        self.status = status

    @property
    def reauthorize(self) -> bool:
        """Always true: a new device authorization is the only way on."""
        return True


class IssuerMismatchError(MalformedResponseError):
    """A discovery document names another issuer than the one asked for (RFC 8414 §3.3).

    It may be an impersonation attempt: never use the document. ``field`` is
    ``"issuer"``.
    """


class IdTokenError(ResponseError):
    """An OpenID Connect JWT failed validation (OpenID Connect Core §3.1.3.7, §5.3.2, §12.2).

    Raised for ID tokens (also those a refresh returns) and signed UserInfo
    answers. Never use the token's claims. ``check`` names the failed check:
    ``"format"`` (not a signed JWT), ``"alg"`` (``none``, an algorithm the key
    or the server does not allow), ``"crit"`` (a critical header extension not
    understood, or a malformed ``crit``, RFC 7515 §4.1.11), ``"b64"`` (RFC 7797
    unencoded payload), ``"kid"`` (no single key of the JWK set fits: fetch the
    set again once), ``"signature"``, ``"exp"``, ``"nbf"`` (not valid yet, RFC
    7519 §4.1.5), ``"iat"``, ``"iss"``, ``"aud"``, ``"azp"``, ``"nonce"``,
    ``"auth_time"``, ``"at_hash"`` or ``"sub"``. The message names the check,
    never a token.

    Attributes:
        check: The failed check.
    """

    def __init__(self, message: str, *, check: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.check = check


class TokenBindingError(ResponseError):
    """A token answer that is not sender-constrained although it must be (RFC 9449 §5).

    The request carried a DPoP proof, but the server answered another
    ``token_type`` than ``DPoP``: it did not bind the token to the key. RFC 9449
    §5 allows that, so it is an error only where binding is required: with
    ``profile="fapi2"`` (FAPI 2.0 Security Profile §5.3.2.1, "shall only issue
    sender-constrained access tokens") or ``require_dpop_binding=True``. Raised
    before anyone sees the token; never use it.

    Attributes:
        token_type: What the server answered (``"Bearer"``; control characters
            removed, at most 40 characters).
    """

    def __init__(self, token_type: str, *, status: int | None = None) -> None:
        shown = printable(token_type, 40)
        super().__init__(
            f"the token answer's token_type is {shown!r}, not 'DPoP': the server did not bind "
            "the token to the DPoP key, and sender-constrained tokens are required "
            "(RFC 9449 §5)",
            status=status,
        )
        self.token_type = shown


class BackchannelExpiredError(DeviceCodeExpiredError):
    """The CIBA ``auth_req_id`` expired before the user decided (CIBA Core 1.0 §11).

    Raised when the token endpoint says so, and by ``backchannel_poll_flow``
    when the next poll would fall at or after ``BackchannelAuthentication.expires_at``.
    A :class:`DeviceCodeExpiredError` too, so one ``except`` serves both polling
    grants. Start a new backchannel authentication.
    """


# RFC 6750 §3: the characters an error, error_description or scope value may hold.
_CHALLENGE_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


class AccessTokenError(OAuth2Error):
    """A resource server refuses an access token (RFC 6750 §3.1, RFC 9068 §4).

    Raised by ``validate_jwt_access_token`` and ``AccessTokenVerifier.verify``;
    tells a resource server what to answer: :attr:`status` and the
    ``WWW-Authenticate`` value from :meth:`www_authenticate`. The message names
    the failed check, never the token.

    Attributes:
        error: The RFC 6750 §3.1 code (``invalid_token``, ``insufficient_scope``).
        status: The HTTP status to answer (401, 403).
        check: The failed check (``"typ"``, ``"iss"``, ``"aud"``, ``"exp"``,
            ``"signature"``, ``"scope"`` ...).
        description: A short human-readable text for ``error_description``.
    """

    error = "invalid_token"
    status = 401

    def __init__(self, description: str, *, check: str) -> None:
        super().__init__(f"access token rejected ({check}): {description}")
        self.check = check
        self.description = description

    def _parameters(self) -> list[tuple[str, str]]:
        return [("error", self.error), ("error_description", self.description)]

    def www_authenticate(self, *, realm: str | None = None, scheme: str = "Bearer") -> str:
        """The ``WWW-Authenticate`` value to answer with (RFC 6750 §3).

        Args:
            realm: The protection space, or ``None``.
            scheme: ``"Bearer"`` (RFC 6750) or ``"DPoP"`` (RFC 9449 §7.1).

        Raises:
            UsageError: a ``realm`` or ``scheme`` that cannot be sent in a challenge.
        """
        if scheme not in ("Bearer", "DPoP"):
            raise UsageError("scheme must be 'Bearer' or 'DPoP'")
        parameters = [("realm", realm)] if realm is not None else []
        parameters += self._parameters()
        for _, value in parameters:
            if not isinstance(value, str) or not _CHALLENGE_TEXT.fullmatch(value):
                raise UsageError("challenge values must be printable ASCII without '\"' or '\\'")
        return scheme + " " + ", ".join(f'{name}="{value}"' for name, value in parameters)


class InvalidTokenError(AccessTokenError):
    """The access token is expired, revoked, malformed or not for this resource (401).

    RFC 6750 §3.1 ``invalid_token``: answer HTTP 401 with :meth:`www_authenticate`.
    """


class InsufficientScopeError(AccessTokenError):
    """The token is valid but lacks a required scope (RFC 6750 §3.1, HTTP 403).

    Attributes:
        scope: The scopes the request needs (sent as the challenge's ``scope``).
    """

    error = "insufficient_scope"
    status = 403

    def __init__(self, description: str, *, scope: tuple[str, ...]) -> None:
        super().__init__(description, check="scope")
        self.scope = scope

    def _parameters(self) -> list[tuple[str, str]]:
        return [*super()._parameters(), ("scope", " ".join(self.scope))]
