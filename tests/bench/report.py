"""Run every benchmark and write the results as one markdown page.

Run from the repository root::

    python -m tests.bench.report [--quick] [--instructions] [--out docs/benchmarks.md]

Each benchmark (``bench_core``, ``bench_transports``, ``bench_imports``,
``bench_refresh_wait``, ``bench_stampede``) runs in its own interpreter, one after
the other (never in parallel: they would slow each other down), with ``--json`` to a temporary file.
``--instructions`` adds ``bench_transports``' instruction-count view of the token
fetch (valgrind, about two minutes more).
The page is built only from those files, so every number on it was measured by
the run that wrote it. A benchmark that fails is listed as failed; the page is
still written and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TIMES = "\N{MULTIPLICATION SIGN}"  # spelt out: ruff flags the literal sign as ambiguous

#: (key, module, title, what the shapes measure)
BENCHMARKS: list[tuple[str, str, str, str]] = [
    (
        "core",
        "tests.bench.bench_core",
        "Per-call cost of the core",
        "Building requests and processing responses in memory, no IO. "
        "Floor: the least stdlib code producing the same output.",
    ),
    (
        "transports",
        "tests.bench.bench_transports",
        "Per-call cost of the transports",
        "A client credentials fetch from a loopback token server (floor: raw urllib3 + "
        "`json.loads`; raw requests shown for reference, both peers send through it) and "
        "attaching a bearer token to a `requests.PreparedRequest` (floor: a minimal `AuthBase`).",
    ),
    (
        "imports",
        "tests.bench.bench_imports",
        "Import time",
        "Fresh interpreters, bytecode warm. `importtime`: the sum of `-X importtime` self "
        "times beyond `python -c pass` (the targets use it); `cpu`: the child's CPU time "
        "beyond `python -c pass`.",
    ),
    (
        "refresh_wait",
        "tests.bench.bench_refresh_wait",
        "Refresh wait",
        "Callers' waits while a token is refreshed ahead of its expiry (the refresh takes "
        "300 ms): 16 threads, 16 asyncio tasks, and a fleet of 4 processes x 16 threads "
        "sharing a Redis store and lock (tokens live 5 s). Targets: nobody waits for the "
        "refresh (worst wait <= 5 ms during it; in the fleet, no call of 100 ms or more), "
        "exactly one refresh request per refresh token, no failed call.",
    ),
    (
        "stampede",
        "tests.bench.bench_stampede",
        "Refresh stampede",
        "One expired token shared by many callers at once; single-use refresh tokens; "
        "the token endpoint answers after 50 ms. Ideal: 1 refresh request, 0 failed "
        "callers, 1 token-updated callback.",
    ),
]

#: Summary columns: this project first, then the peers.
LIBRARIES = ["oauth2-core", "oauthlib", "requests-oauthlib", "Authlib"]
PEER_PACKAGES = ["oauthlib", "requests-oauthlib", "authlib", "attrs", "urllib3", "requests"]


def library_of(name: str) -> str | None:
    """Which summary column a candidate belongs to (``None``: a floor or a reference)."""
    lowered = name.lower()
    if lowered.startswith(("oauth2_core", "oauth2_transports", "oauth2-core")):
        return "oauth2-core"
    if lowered.startswith(("requests_oauthlib", "requests-oauthlib")):
        return "requests-oauthlib"
    if lowered.startswith("oauthlib"):
        return "oauthlib"
    if lowered.startswith("authlib"):
        return "Authlib"
    return None


def run_benchmark(
    module: str, json_path: Path, quick: bool, *, instructions: bool = False
) -> tuple[bool, float, str]:
    """Run one benchmark in a child interpreter: ``(succeeded, seconds, output tail)``."""
    command = [sys.executable, "-m", module, "--json", str(json_path)]
    if quick:
        command.append("--quick")
    if instructions and module == "tests.bench.bench_transports":
        command.append("--instructions")
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    seconds = time.perf_counter() - started
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
    return done.returncode == 0 and json_path.exists(), seconds, tail


def _time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} µs"


def _amount(shape: str, value: float) -> str:
    """A median: a time, or (the callgrind view) a count of instructions."""
    return f"{value:,.0f} instr." if shape.endswith("_instructions") else _time(value)


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def _display(name: str) -> str:
    return "**oauth2-core**" if library_of(name) == "oauth2-core" else f"`{name}`"


def _shapes(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Results grouped by shape, in the order the benchmark ran them."""
    shapes: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        shapes.setdefault(result["shape"], []).append(result)
    return shapes


def _floor(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next((r for r in rows if r["ratio"] == 1.0), rows[0])


def _target_for(shape: str, rows: list[dict[str, Any]], targets: list[dict[str, Any]]) -> Any:
    """The target of a shape: same shape name, or (imports) the same candidate name."""
    for target in targets:
        if target["shape"] == shape:
            return target
    if shape.endswith("/importtime"):
        names = {r["name"] for r in rows}
        return next((t for t in targets if t["name"] in names), None)
    return None


def ratio_section(data: dict[str, Any], summary: list[str], bench: str) -> list[str]:
    """One table per shape (median and ratio of each candidate), plus summary rows."""
    lines: list[str] = []
    targets = data.get("targets", [])
    for shape, rows in _shapes(data["results"]).items():
        floor = _floor(rows)
        target = _target_for(shape, rows, targets)
        lines += [
            f"### `{shape}`",
            "",
            f"| candidate | median | {TIMES} floor |",
            "|---|---:|---:|",
        ]
        for row in rows:
            name = _display(row["name"])
            if row is floor and "floor" not in row["name"]:
                name += " (floor)"
            amount = _amount(shape, row["median_s"])
            lines.append(f"| {name} | {amount} | {row['ratio']:.2f}{TIMES} |")
        lines.append("")
        if target is not None:
            lines += [
                f"Target: oauth2-core ≤ {target['max_ratio']:g}{TIMES} the floor; measured "
                f"{target['ratio']:.2f}{TIMES}: {_verdict(target['met'])}.",
                "",
            ]
            for extra in targets:
                if extra["shape"].startswith(f"{shape} ("):
                    lines += [
                        f"Target {extra['shape'][len(shape) + 1 :]}: oauth2-core "
                        f"{extra['ratio']:.2f}{TIMES} against {extra['max_ratio']:.2f}{TIMES}: "
                        f"{_verdict(extra['met'])}.",
                        "",
                    ]
            by_library = {library_of(r["name"]): r["ratio"] for r in rows}
            cells = [
                f"{by_library[lib]:.2f}{TIMES}" if lib in by_library else "—" for lib in LIBRARIES
            ]
            summary.append(
                f"| {bench} | `{shape}` | ≤ {target['max_ratio']:g}{TIMES} | "
                + " | ".join(cells)
                + f" | {_verdict(target['met'])} |"
            )
    return lines


def refresh_wait_section(data: dict[str, Any], summary: list[str]) -> list[str]:
    """The refresh-window waits: who waited, how many refreshes, what failed."""
    lines = [
        "| scenario | calls | worst wait | 99.9 % | calls >= 100 ms | refreshing call | "
        "refresh requests | per refresh token | refused | failed | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in data["results"]:
        lines.append(
            f"| {f['scenario']} | {f['calls']} | {f['worst_wait_ms']:.2f} ms | "
            f"{f['p999_wait_ms']:.2f} ms | {f['slow_calls']} | {f['refresher_wait_ms']:.0f} ms | "
            f"{f['refresh_requests']} | {f['max_refreshes_per_token']} | "
            f"{f['rejected_refreshes']} | {f['failed_calls']} | {_verdict(f['met'])} |"
        )
        summary.append(
            f"| refresh_wait | {f['scenario'].split(' ')[0]} | no wait, 1 refresh | "
            f"{f['worst_wait_ms']:.2f} ms / {f['max_refreshes_per_token']} | — | — | — | "
            f"{_verdict(f['met'])} |"
        )
    if data.get("skipped"):
        lines += ["", f"Fleet skipped: {data['skipped']}."]
    lines.append("")
    return lines


def stampede_section(data: dict[str, Any], summary: list[str]) -> list[str]:
    """The stampede outcomes: what the token endpoint saw and what the callers got."""
    lines = [
        "| scenario | library | refresh requests | failed callers | callbacks | first error |",
        "|---|---|---:|---:|---:|---|",
    ]
    for o in data["results"]:
        error = (o.get("first_error") or "").replace("|", "\\|")
        library = _display(o["library"]) if library_of(o["library"]) else o["library"]
        lines.append(
            f"| {o['scenario']} | {library} | {o['refresh_requests']} | "
            f"{o['failed_callers']} | {o['token_callbacks']} | {error} |"
        )
    lines.append("")
    for target in data.get("targets", []):
        lines.append(
            f"Target ({target['scenario']}): oauth2-core exactly 1 refresh, 0 failed callers, "
            f"1 callback: {_verdict(target['met'])}.  "
        )
        summary.append(
            f"| stampede | {target['scenario']} | 1 / 0 / 1 | "
            + " | ".join(_stampede_cell(data, target["scenario"], lib) for lib in LIBRARIES)
            + f" | {_verdict(target['met'])} |"
        )
    lines.append("")
    return lines


def _stampede_cell(data: dict[str, Any], scenario: str, library: str) -> str:
    for o in data["results"]:
        if o["scenario"] == scenario and library_of(o["library"]) == library:
            return f"{o['refresh_requests']} / {o['failed_callers']} / {o['token_callbacks']}"
    return "—"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions(names: Iterable[str]) -> str:
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def render(
    loaded: dict[str, dict[str, Any]], failed: dict[str, str], quick: bool, seconds: float
) -> str:
    """The whole markdown page."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python -m tests.bench.report" + (" --quick" if quick else "")
    head = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` on {now}, in {seconds:.0f} s. Every number below comes "
        "from that run; do not edit this page by hand, run the command again.",
        "",
        "## Machine",
        "",
        f"- CPU: {_cpu_model()}, {os.cpu_count()} logical cores (shared with other jobs)",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- Packages: {_versions(PEER_PACKAGES)}",
        f"- Mode: {'quick (3 short repeats per candidate)' if quick else 'full'}",
        "",
        "## How to read these numbers",
        "",
        "Each candidate's time is the median of several repeats, with the repeats of all "
        "candidates of one shape interleaved, and the time is CPU time (time the process "
        "waits while others run is not counted). A ratio is the median of paired ratios "
        "(repeat i of a candidate over repeat i of the floor, timed back to back), so a slow "
        "patch of the shared machine cancels out of each pair. Absolute times depend on the "
        "machine: read the ratios to the floor, measured in the same run. Where a "
        "`*_instructions` shape appears, it counts the instructions the client process "
        "executes per call under valgrind: independent of the machine's load, so repeatable "
        "where timed ratios of network round trips wander by about 0.1x. The floor is the "
        "least code "
        f"that produces the same result with no checks, so no library can reach 1.00{TIMES}. "
        "Benchmarks never fail a build: a missed target is shown as missed. See "
        "`tests/bench/README.md` for what each shape does and how the peers are called.",
        "",
    ]
    summary = [
        "## Summary",
        "",
        "Ratios to the floor (stampede: refresh requests / failed callers / callbacks).",
        "",
        "| benchmark | shape | target | " + " | ".join(LIBRARIES) + " | target met |",
        "|---|---|---|" + "---:|" * len(LIBRARIES) + "---|",
    ]
    body: list[str] = []
    for key, module, title, description in BENCHMARKS:
        body += [f"## {title}", "", f"`python -m {module}`. {description}", ""]
        if key in failed:
            body += [
                "**This benchmark failed in this run:**",
                "",
                "```text",
                failed[key],
                "```",
                "",
            ]
            continue
        data = loaded[key]
        if key == "stampede":
            body += stampede_section(data, summary)
        elif key == "refresh_wait":
            body += refresh_wait_section(data, summary)
        else:
            body += ratio_section(data, summary, key)
    summary.append("")
    return "\n".join(head + summary + body).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks one after the other and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="quick runs of every benchmark")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="add the token fetch's instruction counts (valgrind, about two minutes)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the page to write"
    )
    args = parser.parse_args(argv)
    loaded: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="oauth2-bench-") as tmp:
        for key, module, _title, _description in BENCHMARKS:
            path = Path(tmp) / f"{key}.json"
            print(f"running {module}{' --quick' if args.quick else ''} ...", flush=True)
            try:
                ok, seconds, tail = run_benchmark(
                    module, path, args.quick, instructions=args.instructions
                )
            except subprocess.TimeoutExpired:
                ok, seconds, tail = False, 900.0, "timed out after 900 s"
            print(f"  {'done' if ok else 'FAILED'} in {seconds:.1f} s", flush=True)
            if ok:
                loaded[key] = json.loads(path.read_text(encoding="utf-8"))
            else:
                failed[key] = tail
                print(tail, file=sys.stderr)
    page = render(loaded, failed, args.quick, time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
