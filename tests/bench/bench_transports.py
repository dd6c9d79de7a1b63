"""Per-call cost of the transports against requests-oauthlib, Authlib and a raw floor.

Run from the repository root (either form)::

    python -m tests.bench.bench_transports [--quick] [--json PATH]
    python tests/bench/bench_transports.py [--quick] [--json PATH]

Three shapes:

1. ``client_credentials``: a client credentials token request (RFC 6749 §4.4) to a
   loopback token endpoint (a stdlib ``ThreadingHTTPServer`` in a thread, HTTP/1.1
   keep-alive, a fixed JSON token), and its JSON answer parsed. The floor is one raw
   ``urllib3.PoolManager().request("POST", ...)`` + ``json.loads``; raw
   ``requests.Session().post`` + ``.json()`` is a second reference, since both peers
   send through requests. Every candidate keeps its own connection pool open.
   The server thread runs in this process, so its CPU time is in every sample alike:
   it narrows the ratios a little, as it would in any real exchange.
2. ``bearer_attach``: attaching the bearer token (RFC 6750 §2.1) to a
   ``requests.PreparedRequest``. The floor is an ``AuthBase`` that sets the header.
   Each candidate is given its own prepared request, built the same way, and reuses
   it on every call: all four only set (or overwrite) ``Authorization``, so repeating
   the call is idempotent and no candidate pays for a copy.
3. ``manager_hook``: our requests hook over a ``TokenManager`` whose token is fresh,
   on a fresh copy of a prepared request each call (the hook registers its
   retry-on-401 response hook on each request, so it cannot be reused); the floor
   copies the same request and sets the header.

``--instructions`` adds a deterministic view of the first shape: each candidate runs
in a child process under ``valgrind --tool=callgrind`` (the server stays in this
process), twice with different call counts; the difference divided by the extra calls
is the client's instructions per call. Instruction counts do not depend on what else
the machine is doing, so this ratio is repeatable where the timed one wanders by
±0.1x on a shared machine. Needs ``valgrind`` on PATH; takes about two minutes.

A benchmark, not a test: a missed target is printed and recorded, the exit status is 0.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tests.bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Both peers refuse plain http unless told; the server is on loopback.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

import requests
import requests.auth
import urllib3
from authlib.integrations.requests_client import OAuth2Auth as AuthlibAuth
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2 as RequestsOAuthlibAuth
from requests_oauthlib import OAuth2Session as RequestsOAuthlibSession

import oauth2_core as oc
from oauth2_transports import OAuth2Client, TokenManager, Urllib3Transport
from oauth2_transports.requests import OAuth2Auth
from tests.bench._harness import (
    Candidate,
    Result,
    Target,
    bench_args,
    interleaved_medians,
    print_table,
    print_targets,
    results_for,
    write_json,
)

CLIENT_ID, CLIENT_SECRET = "app", "secret"
ACCESS_TOKEN = "2YotnFZFEjr1zCsicMWpAA"
TOKEN_BODY = json.dumps(
    {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
).encode()
FORM = "application/x-www-form-urlencoded"
RESOURCE = "https://api.example.com/v1/items?page=2"

#: Our ratio to the floor must stay within these. The peers, for scale (measured
#: earlier on this machine): client_credentials ~2.6x (requests-oauthlib) /
#: ~1.8-2.3x (Authlib); bearer_attach ~28x (requests-oauthlib) / ~5.5x (Authlib).
TARGETS = {"client_credentials": 1.15, "bearer_attach": 3.0, "manager_hook": 2.0}


class _TokenHandler(BaseHTTPRequestHandler):
    """Answers every ``POST /token`` with the same JSON token, keeping the connection."""

    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK stall

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path != "/token":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(TOKEN_BODY)))
        self.end_headers()
        self.wfile.write(TOKEN_BODY)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: one line per request would dominate the run."""


def start_server() -> tuple[ThreadingHTTPServer, str]:
    """The loopback token server, serving in a daemon thread; ``(server, base URL)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host!s}:{port}"


def client_credentials_candidates(base: str) -> list[Candidate]:
    """The five ways to fetch a token from ``base``/token."""
    token_url = base + "/token"
    # client_secret_basic, what ours and both peers send by default (RFC 6749 §2.3.1).
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    body = "grant_type=client_credentials&scope=read"
    headers = {
        "Content-Type": FORM,
        "Accept": "application/json",
        "Authorization": "Basic " + basic,
    }

    pool = urllib3.PoolManager()

    def floor() -> object:
        response = pool.request("POST", token_url, body=body, headers=headers)
        return json.loads(response.data)

    session = requests.Session()

    def raw_requests() -> object:
        return session.post(token_url, data=body, headers=headers).json()

    ours_client = OAuth2Client(
        oc.ServerMetadata(issuer=base, token_endpoint=token_url),
        oc.Client(CLIENT_ID, CLIENT_SECRET),
        transport=Urllib3Transport(),
    )

    def ours() -> object:
        return ours_client.client_credentials(scope="read")

    rol = RequestsOAuthlibSession(client=BackendApplicationClient(client_id=CLIENT_ID))

    def requests_oauthlib() -> object:
        return rol.fetch_token(
            token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scope="read"
        )

    authlib_session = AuthlibSession(CLIENT_ID, CLIENT_SECRET, scope="read")

    def authlib() -> object:
        return authlib_session.fetch_token(token_url, grant_type="client_credentials")

    return [
        Candidate("floor (urllib3)", floor),
        Candidate("oauth2_core", ours),
        Candidate("requests (raw)", raw_requests),
        Candidate("requests-oauthlib", requests_oauthlib),
        Candidate("authlib", authlib),
    ]


class _FloorBearer(requests.auth.AuthBase):
    """The least an ``AuthBase`` does to send a bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = "Bearer " + self.token
        return r


def _prepared() -> requests.PreparedRequest:
    """A typical API request, prepared the way ``requests.Session`` prepares one."""
    request = requests.Request("GET", RESOURCE, headers={"Accept": "application/json"})
    return requests.Session().prepare_request(request)


def _attach(auth: Callable[[requests.PreparedRequest], object]) -> Callable[[], object]:
    prepared = _prepared()  # one per candidate, reused: every call overwrites the header
    return lambda: auth(prepared)


def bearer_attach_candidates() -> list[Candidate]:
    """The four ways to put the bearer token on a prepared request."""
    token = oc.Token(access_token=ACCESS_TOKEN, token_type="Bearer")
    as_dict = {"access_token": ACCESS_TOKEN, "token_type": "Bearer"}
    return [
        Candidate("floor", _attach(_FloorBearer(ACCESS_TOKEN))),
        Candidate("oauth2_core", _attach(OAuth2Auth(token))),
        Candidate("requests-oauthlib", _attach(RequestsOAuthlibAuth(token=dict(as_dict)))),
        Candidate(
            "authlib",
            _attach(AuthlibAuth({"access_token": ACCESS_TOKEN, "token_type": "bearer"})),
        ),
    ]


def manager_hook_candidates() -> list[Candidate]:
    """Our requests hook over a TokenManager, a fresh prepared request each call.

    The floor copies the same prepared request and sets the header; ours copies
    it and runs ``OAuth2Auth(manager)``: asks the manager for its (fresh) token,
    sets the header and registers the refresh-and-retry-on-401 response hook.
    """
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    token = oc.Token(access_token=ACCESS_TOKEN, token_type="Bearer", expires_at=expires)
    server = oc.ServerMetadata(issuer=RESOURCE, token_endpoint=RESOURCE + "/token")
    manager = TokenManager(OAuth2Client(server, oc.Client("app", "s")), token)
    template = _prepared()
    floor, ours = _FloorBearer(ACCESS_TOKEN), OAuth2Auth(manager)
    return [
        Candidate("floor", lambda: floor(template.copy())),
        Candidate("oauth2_core", lambda: ours(template.copy())),
    ]


def _check_same_header(candidates: list[Candidate]) -> None:
    """Every candidate must send what the floor sends, or the comparison means nothing."""
    for candidate in candidates:
        prepared = candidate.fn()
        assert isinstance(prepared, requests.PreparedRequest), candidate.name
        got = prepared.headers.get("Authorization")
        assert got == "Bearer " + ACCESS_TOKEN, (candidate.name, got)


_CHILD = "--callgrind-child"


def _child(base: str, name: str, calls: int) -> int:
    """Inside valgrind: make ``calls`` calls of one client-credentials candidate."""
    fn = next(c.fn for c in client_credentials_candidates(base) if c.name == name)
    for _ in range(calls):
        fn()
    return 0


def _instructions(base: str, name: str, calls: int) -> int:
    """Instructions executed by a child process making ``calls`` calls of ``name``."""
    with tempfile.TemporaryDirectory() as tmp:
        completed = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                "-m",
                "tests.bench.bench_transports",
                _CHILD,
                base,
                name,
                str(calls),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            cwd=Path(__file__).resolve().parents[2],
        )
    match = re.search(r"I\s+refs:\s+([\d,]+)", completed.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{completed.stderr}")
    return int(match.group(1).replace(",", ""))


def instruction_results(base: str, *, quick: bool) -> list[Result]:
    """Per-call client instructions of each client-credentials candidate, and ratios.

    Each candidate runs twice (``low`` and ``high`` calls); start-up and imports
    cancel out of the difference.
    """
    low, high = (10, 60) if quick else (20, 220)
    per_call: dict[str, float] = {}
    for candidate in client_credentials_candidates(base):
        counts = [_instructions(base, candidate.name, n) for n in (low, high)]
        per_call[candidate.name] = (counts[1] - counts[0]) / (high - low)
    floor = per_call["floor (urllib3)"]
    # Result's time fields carry instructions here; the table prints them as counts.
    return [
        Result("client_credentials_instructions", name, value, value / floor, [value])
        for name, value in per_call.items()
    ]


def _print_instructions(results: list[Result]) -> None:
    print("\nclient_credentials: instructions per call (callgrind, client process only)")
    width = max(len(r.name) for r in results)
    print(f"  {'candidate':<{width}}  {'instructions':>12}  {'x floor':>8}")
    for r in results:
        print(f"  {r.name:<{width}}  {r.median_s:12,.0f}  {r.ratio:7.2f}x")


def main(argv: list[str] | None = None) -> int:
    """Run both shapes, print the tables and targets, optionally write JSON."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [_CHILD]:
        return _child(argv[1], argv[2], int(argv[3]))
    args = bench_args(__doc__.splitlines()[0] if __doc__ else "", argv, instructions=True)
    repeat = args.repeat or (3 if args.quick else 9)
    budget = 0.05 if args.quick else 0.3
    print(
        f"oauth2_transports vs requests-oauthlib {version('requests-oauthlib')} vs Authlib "
        f"{version('authlib')}; urllib3 {version('urllib3')}, requests {version('requests')}; "
        f"Python {sys.version.split()[0]}; {'wall' if args.wall else 'CPU'} time, "
        f"median of {repeat} repeats of ~{budget:g} s each"
    )
    server, base = start_server()
    results: list[Result] = []
    targets: list[Target] = []
    try:
        attach = bearer_attach_candidates()
        _check_same_header(attach)
        hook = manager_hook_candidates()
        _check_same_header(hook)
        shapes: list[tuple[str, str, list[Candidate], str]] = [
            (
                "client_credentials",
                "client credentials token request to a loopback server, JSON token parsed",
                client_credentials_candidates(base),
                "floor (urllib3)",
            ),
            (
                "bearer_attach",
                "Authorization: Bearer on a requests.PreparedRequest (one request reused)",
                attach,
                "floor",
            ),
            (
                "manager_hook",
                "requests hook over a TokenManager, a fresh prepared request each call",
                hook,
                "floor",
            ),
        ]
        for shape, description, candidates, floor in shapes:
            samples = interleaved_medians(
                candidates, repeat=repeat, budget_s=budget, wall=args.wall
            )
            shape_results = results_for(shape, samples, floor=floor)
            print_table(f"{shape}: {description}", shape_results)
            results.extend(shape_results)
            ours = next(r for r in shape_results if r.name == "oauth2_core")
            targets.append(Target(shape, "oauth2_core", TARGETS[shape], ours.ratio))
        if args.instructions:
            if shutil.which("valgrind") is None:
                print("\n--instructions: valgrind is not on PATH; skipped")
            else:
                counted = instruction_results(base, quick=args.quick)
                _print_instructions(counted)
                results.extend(counted)
                ours = next(r for r in counted if r.name == "oauth2_core")
                limit = TARGETS["client_credentials"]
                targets.append(
                    Target("client_credentials_instructions", "oauth2_core", limit, ours.ratio)
                )
    finally:
        server.shutdown()
        server.server_close()
    print_targets(targets)
    if args.json:
        write_json(
            args.json, benchmark="transports", quick=args.quick, results=results, targets=targets
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
