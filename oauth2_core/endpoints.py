"""Where a credential may be sent: the one authority check (RFC 3986 §3.2, RFC 9700 §2.6).

Every URL that receives a credential or a token, the authorization endpoint and
every redirect URI go through :func:`url_origin`. It accepts only URLs that
every HTTP library and browser reads the same way, so the host it approves is
the host a transport connects to. It refuses what parsers disagree on:

* anything but printable ASCII (spaces, tabs, CR/LF, controls, DEL, non-ASCII:
  browsers strip some, IDNA normalises others), and the backslash, which
  urllib3, requests and browsers read as the end of the authority while
  ``urllib.parse`` keeps it in the userinfo
  (``http://evil.example\\@127.0.0.1/`` connects to ``evil.example``);
* userinfo (``@``) and percent-encoding in the authority;
* a host that is neither a DNS name (letters, digits, ``-``, ``_`` between
  dots) nor a canonical IP address: ``127.1``, ``0x7f.0.0.1``, ``2130706433``
  and ``127.000.0.1`` mean 127.0.0.1 to ``getaddrinfo`` but not to us;
* an empty, zero or non-numeric port.

The https rule then applies to the host that was approved: plain ``http`` only
to a loopback host (RFC 8252 §7.3 and §8.3) or with the client's explicit
``allow_insecure_http=True``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

from oauth2_core.errors import InsecureHttpError, UsageError

__all__ = [
    "Origin",
    "check_endpoint",
    "check_redirect_uri",
    "check_resource_url",
    "insecure_http_error",
    "is_loopback_host",
    "url_origin",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 3986 §3 with the only authorities we accept: a DNS name or IPv4 literal, or a
# bracketed IPv6 literal, then an optional port; no userinfo, no percent-encoding,
# no zone id. When the authority is anything else, the group stays empty and the
# rest starts with "//": _diagnose says what is wrong.
_URL = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*):"
    r"(?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)"
    r"(?::([0-9]{1,5}))?(?=[/?#]|\Z))?"
)
# WHATWG URL §3.5: a host whose last label is a number is an IPv4 address.
_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
# WHATWG URL §4.1 special schemes: a host follows the colon with or without "//".
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
# Schemes that run code or read local files instead of reaching an application.
_UNSAFE_REDIRECT_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})


class Origin(NamedTuple):
    """The scheme, host and port a URL reaches (RFC 6454 §4).

    Attributes:
        scheme: ``http``, ``https`` or another scheme, lower case.
        host: The host, lower case; an IPv6 literal without its brackets; empty
            for a URL without an authority (``com.example.app:/cb``).
        port: The port, the scheme's default when the URL gives none; ``None``
            for a scheme without a known default.
    """

    scheme: str
    host: str
    port: int | None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port is not None else "")


def _diagnose(authority: str, what: str) -> UsageError:
    if not authority:
        return UsageError(f"{what} has no host")
    if "@" in authority:
        return UsageError(f"{what} must not carry user information ('@') in its host part")
    return UsageError(
        f"{what} has a host part that HTTP libraries read differently "
        "(percent-encoding, empty labels, or a malformed port)"
    )


def _host(raw: str, what: str) -> str:
    if raw[0] == "[":
        try:
            return str(ipaddress.IPv6Address(raw[1:-1]))
        except ValueError:
            raise UsageError(f"{what} has an invalid IPv6 address") from None
    host = raw.lower()
    # Only the canonical dotted quad: getaddrinfo reads 127.1, 0x7f.0.0.1 or
    # 127.000.0.1 as 127.0.0.1 where we would see a name.
    if (
        _NUMERIC_LABEL.fullmatch(host.rpartition(".")[2])
        and _CANONICAL_IPV4.fullmatch(host) is None
    ):
        raise UsageError(f"{what} has a numeric host that is not a dotted-quad IPv4 address")
    return host


def url_origin(url: object, *, what: str = "URL") -> tuple[Origin, str]:
    """Split ``url`` the way every HTTP library and browser would, or refuse it.

    Args:
        url: An absolute URL.
        what: How messages name the URL (``"token_endpoint"``).

    Returns:
        The origin the URL reaches, and the rest (path, query and fragment as
        written).

    Raises:
        UsageError: the URL is not absolute, or has anything HTTP libraries or
            browsers read differently (see the module documentation).
    """
    if not isinstance(url, str) or not url:
        raise UsageError(f"{what} must be a non-empty string")
    # Printable ASCII without space and backslash: what every parser reads alike.
    if not (url.isascii() and url.isprintable()) or " " in url or "\\" in url:
        raise UsageError(
            f"{what} has spaces, control, non-ASCII or backslash characters; "
            "percent-encode them (RFC 3986 §2.1)"
        )
    match = _URL.match(url)
    if match is None:
        raise UsageError(f"{what} must be an absolute URL")
    scheme_text, raw_host, port_text = match.groups()
    scheme = scheme_text.lower()
    rest = url[match.end() :]
    if raw_host is None:
        if rest[:2] == "//":
            raise _diagnose(rest[2:].partition("/")[0].partition("?")[0].partition("#")[0], what)
        if scheme in _SPECIAL_SCHEMES:
            # Browsers read http:host/ and http:/host/ as http://host/ (WHATWG URL).
            raise UsageError(f"{what} must be an absolute URL with '//' and a host")
        return Origin(scheme, "", None), rest
    host = _host(raw_host, what)
    if port_text is None:
        port = _DEFAULT_PORTS.get(scheme)
    else:
        port = int(port_text)
        if not 0 < port < 65536:
            raise UsageError(f"{what} has a port outside 1 to 65535")
    return Origin(scheme, host, port), rest


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is 127.0.0.0/8, ``::1`` or ``localhost`` (RFC 8252 §8.3).

    ``host`` as :func:`url_origin` returns it; brackets around an IPv6
    literal are tolerated. Only canonical spellings count, and names that merely
    resolve to loopback (``foo.localhost``, ``localhost.``) do not: a resolver
    may be told otherwise. IPv4-mapped IPv6 (``::ffff:127.0.0.1``) is not loopback here.
    """
    host = host.lower()
    if host == "localhost":
        return True
    if host.startswith("127."):
        return _CANONICAL_IPV4.fullmatch(host) is not None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" not in host:
        return False
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return address.is_loopback and str(address) == host


def insecure_http_error(what: str) -> InsecureHttpError:
    """The refusal of a plain-http URL on a non-loopback host, naming the opt-out."""
    return InsecureHttpError(
        f"{what} uses plain http on a non-loopback host; use https, or opt out "
        "for this client only with Client(..., allow_insecure_http=True)",
        what=what,
    )


def _require_https(origin: Origin, what: str, *, allow_insecure_http: bool) -> None:
    if origin.scheme == "https" and origin.host:
        return
    if origin.scheme == "http" and origin.host:
        if allow_insecure_http or is_loopback_host(origin.host):
            return
        raise insecure_http_error(what)
    raise UsageError(f"{what} must be an absolute https URL")


def check_endpoint(url: object, *, what: str, allow_insecure_http: bool) -> str:
    """Refuse an endpoint that would receive a credential over plain http.

    RFC 6749 §3.1 and §3.2, RFC 9700 §2.6: endpoints that receive credentials
    or tokens MUST be https. Loopback hosts are exempt; anything else needs the
    explicit per-client ``allow_insecure_http=True``. The host is decided by
    :func:`url_origin`, which refuses URLs that HTTP libraries read differently.

    Returns:
        ``url``, unchanged.

    Raises:
        UsageError: the URL is missing, not absolute, ambiguous, has a fragment,
            or is plain http to a non-loopback host.
    """
    if not isinstance(url, str) or not url:
        raise UsageError(f"the server metadata has no {what}")
    origin, rest = url_origin(url, what=what)
    _require_https(origin, what, allow_insecure_http=allow_insecure_http)
    if "#" in rest:
        raise UsageError(f"{what} must not contain a fragment")
    return url


def check_resource_url(url: object, *, allow_insecure_http: bool) -> Origin:
    """Refuse to send an access token to ``url`` over plain http (RFC 6750 §5.3).

    The same rule as for the server's endpoints: https, loopback http, or the
    explicit ``allow_insecure_http=True``.

    Returns:
        The origin the token goes to.

    Raises:
        UsageError: the URL is ambiguous or plain http to a non-loopback host.
    """
    what = "the request URL that would carry the access token"
    origin, _ = url_origin(url, what=what)
    if origin.scheme == "http" and origin.host and not allow_insecure_http:
        if not is_loopback_host(origin.host):
            raise UsageError(
                "refusing to send an access token over plain http to a non-loopback host "
                "(RFC 6750 §5.3); use https, or pass allow_insecure_http=True to the auth hook"
            )
        return origin
    _require_https(origin, what, allow_insecure_http=allow_insecure_http)
    return origin


def check_redirect_uri(uri: object, *, allow_insecure_http: bool) -> None:
    """Refuse a redirect URI that would hand the code to an eavesdropper.

    RFC 6749 §3.1.2: absolute, without a fragment. RFC 9700 §2.6 and RFC 8252
    §7.3/§8.3: plain ``http`` only to a loopback host (a native app's listener);
    ``https`` and private-use schemes (``com.example.app:/cb``, RFC 8252 §7.1)
    are fine; schemes that run code or read files (``javascript:``, ``data:``,
    ``file:``) are not. The host is decided by :func:`url_origin`.

    Raises:
        UsageError: the URI is not absolute, ambiguous, has a fragment, has an
            unsafe scheme, or is plain http on a non-loopback host without
            ``allow_insecure_http``.
    """
    what = "redirect_uri"
    if isinstance(uri, str) and uri and uri.isascii() and _URL.match(uri) is None:
        raise UsageError("redirect_uri must be an absolute URI (RFC 6749 §3.1.2)")
    origin, rest = url_origin(uri, what=what)
    if "#" in rest:
        raise UsageError("redirect_uri must not contain a fragment (RFC 6749 §3.1.2)")
    if origin.scheme in _UNSAFE_REDIRECT_SCHEMES:
        raise UsageError(f"redirect_uri must not use the {origin.scheme!r} scheme")
    if origin.scheme in _DEFAULT_PORTS:
        if not origin.host:
            raise UsageError("redirect_uri has no host")
        _require_https(origin, what, allow_insecure_http=allow_insecure_http)
