"""Start and drive the oidc-provider based interop authorization server.

Stdlib only (plus pytest in conftest.py). Deliberately independent of the
library under test: nothing here imports ``oauth2_core``.

The server itself lives in ``server.mjs`` next to this file; the client
registrations are shared with it through ``clients.json``.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INTEROP_DIR = Path(__file__).resolve().parent
SERVER_SCRIPT = INTEROP_DIR / "server.mjs"
CLIENTS_FILE = INTEROP_DIR / "clients.json"
PKJWT_PRIVATE_KEY_FILE = INTEROP_DIR / "keys" / "pkjwt-private.json"

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ACCOUNT_ID = "alice"
ACCOUNT_EMAIL = "alice@example.com"
#: Resource indicators known to the server (see server.mjs / README.md).
RESOURCES = {
    "urn:example:api": {"scope": "read write api:read", "format": "opaque", "ttl": 3600},
    "urn:example:other": {"scope": "read write", "format": "opaque", "ttl": 3600},
    "urn:example:jwt": {"scope": "read write api:read", "format": "jwt", "ttl": 3600},
    "urn:example:short": {"scope": "read write", "format": "opaque", "ttl": 2},
}
#: Default resource applied to client_credentials requests without ``resource``.
DEFAULT_CLIENT_CREDENTIALS_RESOURCE = "urn:example:api"
#: Polling interval (seconds) the server advertises in device authorization responses.
DEVICE_POLL_INTERVAL = 1

READY_TIMEOUT = 30.0
NPM_CI_TIMEOUT = 600.0
MIN_NODE = 20  # package.json "engines"


class OidcServerError(RuntimeError):
    """Raised when the server cannot be started or a helper call fails."""


@dataclass(frozen=True)
class ClientInfo:
    """One registered client, as the tests need to know it."""

    client_id: str
    client_secret: str | None
    auth_method: str  # token_endpoint_auth_method
    redirect_uri: str | None  # registered loopback URI; any port works
    grant_types: tuple[str, ...]
    signing_alg: str | None = None  # for *_jwt client authentication
    dpop_bound: bool = False  # dpop_bound_access_tokens
    requires_dpop_nonce: bool = False  # token endpoint answers use_dpop_nonce first
    mtls: bool = False  # registered only by the HTTPS server (start_server(tls_dir=...))

    @property
    def name(self) -> str:
        return self.client_id

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"


def load_clients() -> dict[str, ClientInfo]:
    """Return ``{client_id: ClientInfo}`` from ``clients.json``."""
    data = json.loads(CLIENTS_FILE.read_text(encoding="utf-8"))
    clients: dict[str, ClientInfo] = {}
    for entry in data["clients"]:
        uris = entry.get("redirect_uris") or []
        clients[entry["client_id"]] = ClientInfo(
            client_id=entry["client_id"],
            client_secret=entry.get("client_secret"),
            auth_method=entry["token_endpoint_auth_method"],
            redirect_uri=uris[0] if uris else None,
            grant_types=tuple(entry["grant_types"]),
            signing_alg=entry.get("token_endpoint_auth_signing_alg"),
            dpop_bound=bool(entry.get("dpop_bound_access_tokens")),
            requires_dpop_nonce=bool(entry.get("require_dpop_nonce")),
            mtls=bool(entry.get("mtls")),
        )
    return clients


def load_pkjwt_private_jwk() -> dict[str, Any]:
    return json.loads(PKJWT_PRIVATE_KEY_FILE.read_text(encoding="utf-8"))


class _PassThroughErrors(urllib.request.HTTPErrorProcessor):
    """Return 3xx/4xx/5xx responses instead of raising or following them."""

    def http_response(self, request, response):
        return response

    https_response = http_response


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


@dataclass
class OidcServer:
    """A running interop server. Created by :func:`start_server`."""

    issuer: str
    port: int
    process: subprocess.Popen
    clients: dict[str, ClientInfo]
    pkjwt_private_jwk: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    startup_seconds: float = 0.0
    #: HTTPS mode: trusts the test CA (the server's own calls: discovery, authorize, device)
    tls_context: ssl.SSLContext | None = None
    _stderr: list[str] = field(default_factory=list, repr=False)
    _stdout: list[str] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)

    # -- endpoints -----------------------------------------------------------
    def url(self, path: str) -> str:
        return self.issuer + path

    @property
    def token_endpoint(self) -> str:
        return self.metadata["token_endpoint"]

    @property
    def authorization_endpoint(self) -> str:
        return self.metadata["authorization_endpoint"]

    @property
    def introspection_endpoint(self) -> str:
        return self.metadata["introspection_endpoint"]

    @property
    def revocation_endpoint(self) -> str:
        return self.metadata["revocation_endpoint"]

    @property
    def device_authorization_endpoint(self) -> str:
        return self.metadata["device_authorization_endpoint"]

    @property
    def par_endpoint(self) -> str:
        return self.metadata["pushed_authorization_request_endpoint"]

    @property
    def userinfo_endpoint(self) -> str:
        return self.metadata["userinfo_endpoint"]

    # -- logs ----------------------------------------------------------------
    def logs(self) -> str:
        """Everything the server wrote to stderr so far (OAuth errors, server errors)."""
        with self._lock:
            return "".join(self._stderr)

    def stdout(self) -> str:
        with self._lock:
            return "".join(self._stdout)

    # -- browser-less front channel -----------------------------------------
    def authorize(
        self,
        url: str,
        *,
        redirect_uri: str | None = None,
        cookiejar: http.cookiejar.CookieJar | None = None,
        max_hops: int = 20,
        timeout: float = 10.0,
    ) -> str:
        """Play the user agent for an authorization request URL.

        Follows the redirects authorization endpoint -> interaction -> resume ->
        ... with a cookie-keeping opener and returns the first ``Location`` that
        leaves the server (or starts with ``redirect_uri`` if given): the
        callback URL with ``code``/``state``/``iss`` or ``error``. Nothing is
        ever requested from the callback URL itself.

        A fresh cookie jar (= fresh login session) is used unless ``cookiejar``
        is passed. Raises :class:`OidcServerError` if the server answers with
        a non-redirect (e.g. an error page for an invalid client/redirect_uri).
        """
        jar = cookiejar if cookiejar is not None else http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar),
            _PassThroughErrors(),
            urllib.request.HTTPSHandler(context=self.tls_context),
        )
        server_origin = _origin(self.issuer)
        current = url
        for _ in range(max_hops):
            request = urllib.request.Request(current, method="GET", headers={"Accept": "text/html"})
            with opener.open(request, timeout=timeout) as response:
                status = response.status
                location = response.headers.get("Location")
                body = response.read()
            if status not in (301, 302, 303, 307, 308) or not location:
                raise OidcServerError(
                    f"authorization did not redirect: GET {current} -> HTTP {status}\n"
                    f"body: {body[:2000].decode('utf-8', 'replace')}\n"
                    f"server log tail:\n{self.logs()[-2000:]}"
                )
            target = urllib.parse.urljoin(current, location)
            if redirect_uri is not None and target.startswith(redirect_uri):
                return target
            if _origin(target) != server_origin:
                return target
            current = target
        raise OidcServerError(f"too many redirects while authorizing {url}")

    # -- device flow ---------------------------------------------------------
    def approve_device(self, user_code: str) -> dict[str, Any]:
        """Approve a pending device authorization as user alice (grants all requested scopes)."""
        return self._device_call("approve", user_code)

    def deny_device(self, user_code: str) -> dict[str, Any]:
        """Deny a pending device authorization; polling then yields access_denied."""
        return self._device_call("deny", user_code)

    # -- CIBA (poll mode) ----------------------------------------------------
    def approve_ciba(self, auth_req_id: str) -> dict[str, Any]:
        """Approve a pending CIBA request as alice's authentication device would."""
        return self._device_call("approve", auth_req_id, flow="ciba")

    def deny_ciba(self, auth_req_id: str) -> dict[str, Any]:
        """Deny a pending CIBA request; polling then yields access_denied."""
        return self._device_call("deny", auth_req_id, flow="ciba")

    def _device_call(self, action: str, code: str, *, flow: str = "device") -> dict[str, Any]:
        field = "auth_req_id" if flow == "ciba" else "user_code"
        data = urllib.parse.urlencode({field: code}).encode()
        request = urllib.request.Request(
            self.url(f"/test/{flow}/{action}"),
            data=data,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.tls_context) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise OidcServerError(f"{action}_{flow} failed: HTTP {exc.code} {detail}") from exc

    # -- lifecycle -----------------------------------------------------------
    def stop(self, timeout: float = 5.0) -> None:
        proc = self.process
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        for thread in self._threads:  # the pumps end at EOF once the process is gone
            thread.join(timeout=timeout)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def node_executable() -> str | None:
    return shutil.which("node")


def npm_executable() -> str | None:
    return shutil.which("npm")


def _locked_packages(lockfile: Path) -> dict[str, dict[str, Any]]:
    packages = json.loads(lockfile.read_text(encoding="utf-8")).get("packages", {})
    return {path: entry for path, entry in packages.items() if path}  # "" is the project


def dependencies_installed(folder: Path = INTEROP_DIR) -> bool:
    """True when ``folder``/node_modules holds the versions package-lock.json pins.

    npm (7+) records what it installed in ``node_modules/.package-lock.json``; a
    missing or different record (a pull changed the lock) means ``npm ci`` is due.
    Optional packages for other platforms are never installed and do not count.
    """
    try:
        installed = _locked_packages(folder / "node_modules" / ".package-lock.json")
        locked = _locked_packages(folder / "package-lock.json")
    except (OSError, ValueError):
        return False
    for path, entry in locked.items():
        version = installed.get(path, {}).get("version")
        if version != entry.get("version") and not (version is None and entry.get("optional")):
            return False
    return all(path in locked for path in installed)


def node_major_version(node: str) -> int | None:
    """The major version ``node --version`` reports, None if it cannot say."""
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def missing_requirement() -> str | None:
    """What this machine lacks to run the server, in one line, or None.

    Node.js 20+ must be installed; npm only while node_modules is missing or out of
    date (then the fixture runs ``npm ci`` once).
    """
    node = node_executable()
    if node is None:
        return (
            f"Node.js {MIN_NODE}+ (`node`) is not on PATH: install it (https://nodejs.org); "
            "the server's npm packages then install themselves on first use"
        )
    major = node_major_version(node)
    if major is None or major < MIN_NODE:
        return f"{node} is Node.js {major or '(unknown version)'}; the server needs {MIN_NODE}+"
    if not dependencies_installed() and npm_executable() is None:
        return (
            f"npm is not on PATH and {INTEROP_DIR / 'node_modules'} is missing or out of "
            "date: install npm (it comes with Node.js)"
        )
    return None


def install_dependencies(npm: str) -> None:
    """Run ``npm ci`` in tests/interop (uses package-lock.json)."""
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=INTEROP_DIR,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=NPM_CI_TIMEOUT,
    )
    if proc.returncode != 0:
        raise OidcServerError(
            f"`npm ci` in {INTEROP_DIR} failed with exit code {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )


def _pump(stream, sink: list[str], lock: threading.Lock, ready: dict | None = None) -> None:
    for line in iter(stream.readline, ""):
        with lock:
            sink.append(line)
        if ready is not None and "issuer" not in ready and line.startswith("READY "):
            ready["issuer"] = line.split(" ", 1)[1].strip()
            ready["event"].set()
    if ready is not None:
        ready["event"].set()  # EOF: process is gone (or closed stdout)


def start_server(
    port: int = 0,
    *,
    node: str | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = READY_TIMEOUT,
    tls_dir: Path | None = None,
) -> OidcServer:
    """Start ``node server.mjs PORT`` and wait for its READY line.

    ``port=0`` (default) lets the server bind a free loopback port itself, so
    there is no race between picking and binding a port.
    Requires the npm dependencies to be installed (see install_dependencies).

    ``tls_dir`` (a folder :func:`mtls_pki.make_pki` wrote) starts the HTTPS mode
    of server.mjs: https issuer, mTLS endpoint aliases on a second listener that
    asks for client certificates, the ``"mtls"`` clients registered.
    """
    node = node or node_executable()
    if not node:
        raise OidcServerError("`node` not found on PATH")
    child_env = dict(os.environ)
    child_env.update(env or {})
    child_env["OIDC_SERVER_EXIT_ON_STDIN_EOF"] = "1"
    child_env.pop("OIDC_TLS_DIR", None)
    tls_context = None
    if tls_dir is not None:
        child_env["OIDC_TLS_DIR"] = str(tls_dir)
        tls_context = ssl.create_default_context(cafile=str(tls_dir / "ca.pem"))

    started = time.perf_counter()
    proc = subprocess.Popen(
        [node, str(SERVER_SCRIPT), str(port)],
        cwd=INTEROP_DIR,
        stdin=subprocess.PIPE,  # kept open: the server exits when we go away
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        env=child_env,
    )
    stdout_lines: list[str] = []
    stderr_lines: list[str] = []
    lock = threading.Lock()
    ready: dict[str, Any] = {"event": threading.Event()}
    threads = [
        threading.Thread(
            target=_pump,
            args=(proc.stdout, stdout_lines, lock, ready),
            daemon=True,
            name="oidc-server-stdout",
        ),
        threading.Thread(
            target=_pump,
            args=(proc.stderr, stderr_lines, lock),
            daemon=True,
            name="oidc-server-stderr",
        ),
    ]
    for thread in threads:
        thread.start()

    def fail(reason: str) -> OidcServerError:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for thread in threads:  # let the pumps drain what the process wrote
            thread.join(timeout=2)
        with lock:
            out, err = "".join(stdout_lines), "".join(stderr_lines)
        return OidcServerError(
            f"{reason} (exit code {proc.returncode})\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
        )

    if not ready["event"].wait(ready_timeout):
        raise fail(f"oidc server did not print READY within {ready_timeout:.0f}s")
    if "issuer" not in ready:
        raise fail("oidc server exited before becoming ready")

    issuer = ready["issuer"]
    server = OidcServer(
        issuer=issuer,
        port=int(urllib.parse.urlsplit(issuer).port or 0),
        process=proc,
        clients=load_clients(),
        pkjwt_private_jwk=load_pkjwt_private_jwk(),
        _stderr=stderr_lines,
        _stdout=stdout_lines,
        _lock=lock,
        _threads=threads,
        tls_context=tls_context,
    )
    try:
        with urllib.request.urlopen(
            issuer + "/.well-known/openid-configuration", timeout=10, context=tls_context
        ) as resp:
            server.metadata = json.loads(resp.read().decode())
    except Exception as exc:  # pragma: no cover - diagnostic path
        server.stop()
        raise fail(f"discovery request failed: {exc!r}") from exc
    server.startup_seconds = time.perf_counter() - started
    return server
