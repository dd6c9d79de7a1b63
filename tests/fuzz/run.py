"""Run every fuzz harness for a while and report: ``python -m tests.fuzz.run --seconds N``.

With atheris installed each harness runs coverage-guided in its own
subprocess (``atheris.Fuzz`` never returns) for ``N / len(harnesses)`` seconds;
a crash leaves its input in ``--artifacts`` and makes the command exit 1.
Without atheris (or with ``--engine hypothesis``) each harness is fed
``st.binary()`` by hypothesis for the same time, in this process.

Examples::

    python -m tests.fuzz.run --seconds 600                 # ten minutes, every harness
    python -m tests.fuzz.run --seconds 60 --only parse_callback --jobs 2
    python -m tests.fuzz.run --reproduce parse_callback fuzz-artifacts/parse_callback-crash-…

Exit status: 0 no crash, 1 a crash (or a worker that died), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]


@attrs.frozen
class Outcome:
    """What one harness run gave."""

    name: str
    engine: str
    seconds: float
    executions: int
    coverage: int | None
    crashed: bool
    detail: str = ""


def _harness_names() -> list[str]:
    from tests.fuzz.harnesses import HARNESSES

    return list(HARNESSES)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name)


# -- atheris, one subprocess per harness --------------------------------------------------


def _worker(name: str, seconds: int, artifacts: Path, corpus: Path | None) -> None:
    """Inside the subprocess: instrument the core, then fuzz one harness until time is up."""
    import atheris

    with atheris.instrument_imports(include=["oauth2_core"]):
        import oauth2_core  # noqa: F401 (imported here to be instrumented)
    from tests.fuzz.harnesses import HARNESSES

    harness = HARNESSES[name]
    argv = [
        sys.argv[0],
        f"-max_total_time={seconds}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/{_safe(name)}-",
    ]
    if corpus is not None:
        argv.append(str(corpus))
    atheris.Setup(argv, harness)
    atheris.Fuzz()


def _run_atheris(name: str, seconds: int, artifacts: Path, corpus_root: Path | None) -> Outcome:
    corpus = None
    if corpus_root is not None:
        corpus = corpus_root / _safe(name)
        corpus.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.fuzz.run", "--worker", name]
    command += ["--seconds", str(seconds), "--artifacts", str(artifacts)]
    if corpus is not None:
        command += ["--corpus", str(corpus)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    started = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=seconds + 120,
        check=False,
    )
    elapsed = time.perf_counter() - started
    log = proc.stdout + proc.stderr
    executions = _last_int(r"stat::number_of_executed_units:\s*(\d+)", log)
    if executions is None:
        executions = _last_int(r"^#(\d+)\s", log) or 0
    coverage = _last_int(r"\bcov: (\d+)", log)
    crashed = proc.returncode != 0
    detail = ""
    if crashed:
        found = sorted(artifacts.glob(f"{_safe(name)}-*"))
        exception = re.findall(r"^(\w+(?:Error|Exception)\b.*)$", log, re.MULTILINE)
        detail = "; ".join(
            [*(exception[-1:] or [f"exit {proc.returncode}"]), *(str(p) for p in found)]
        )
        if not found:
            detail += "\n" + log[-3000:]
    return Outcome(name, "atheris", elapsed, executions, coverage, crashed, detail)


def _last_int(pattern: str, text: str) -> int | None:
    found = re.findall(pattern, text, re.MULTILINE)
    return int(found[-1]) if found else None


# -- hypothesis, in this process ---------------------------------------------------------------


def _run_hypothesis(name: str, seconds: float) -> Outcome:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.fuzz.harnesses import HARNESSES

    harness = HARNESSES[name]
    count = 0

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.binary(max_size=2048))
    def check(data: bytes) -> None:
        nonlocal count
        count += 1
        harness(data)

    started = time.perf_counter()
    try:
        while True:
            check()
            if time.perf_counter() - started >= seconds:
                break
    except Exception as exc:  # the harness let something else than OAuth2Error escape
        elapsed = time.perf_counter() - started
        return Outcome(name, "hypothesis", elapsed, count, None, True, f"{exc!r}")
    return Outcome(name, "hypothesis", time.perf_counter() - started, count, None, False)


# -- the command -------------------------------------------------------------------------------


def _summary(outcomes: Sequence[Outcome], wall: float) -> str:
    lines = [
        f"{'harness':<40} {'engine':<10} {'seconds':>7} {'execs':>9} {'exec/s':>8} "
        f"{'cov':>5}  result"
    ]
    for o in outcomes:
        rate = o.executions / o.seconds if o.seconds else 0.0
        cov = "-" if o.coverage is None else str(o.coverage)
        result = "CRASH " + o.detail if o.crashed else "ok"
        lines.append(
            f"{o.name:<40} {o.engine:<10} {o.seconds:>7.1f} {o.executions:>9} {rate:>8.0f} "
            f"{cov:>5}  {result}"
        )
    crashes = sum(o.crashed for o in outcomes)
    total = sum(o.executions for o in outcomes)
    lines.append(
        f"{len(outcomes)} harnesses, {crashes} crash(es), {total} executions in {wall:.1f} s"
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="total fuzzing time")
    parser.add_argument("--only", nargs="+", metavar="HARNESS", help="run only these")
    parser.add_argument("--jobs", type=int, default=1, help="harnesses run at once (atheris)")
    parser.add_argument(
        "--engine",
        choices=("auto", "atheris", "hypothesis"),
        default="auto",
        help="auto: atheris if installed",
    )
    parser.add_argument(
        "--artifacts", type=Path, help="where crash inputs go (default: a temp dir)"
    )
    parser.add_argument("--corpus", type=Path, help="keep each harness's corpus under this dir")
    parser.add_argument("--list", action="store_true", help="print the harness names")
    parser.add_argument("--reproduce", nargs=2, metavar=("HARNESS", "FILE"), help="rerun one input")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.worker:
        _worker(args.worker, int(args.seconds), args.artifacts, args.corpus)
        return 0  # not reached: libFuzzer exits the process
    names = _harness_names()
    if args.list:
        print("\n".join(names))
        return 0
    if args.reproduce:
        from tests.fuzz.harnesses import HARNESSES

        name, path = args.reproduce
        HARNESSES[name](Path(path).read_bytes())  # raises with the full traceback on a crash
        print(f"{name}: no crash on {path}")
        return 0
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            print(f"unknown harness(es): {', '.join(unknown)}; see --list", file=sys.stderr)
            return 2
        names = [n for n in names if n in args.only]
    if args.seconds <= 0 or args.jobs < 1:
        print("--seconds must be positive and --jobs at least 1", file=sys.stderr)
        return 2
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    share = args.seconds / len(names)
    started = time.perf_counter()
    # Crash inputs must outlive the run: a temporary directory is removed only when empty.
    artifacts = args.artifacts or Path(tempfile.mkdtemp(prefix="oauth2-fuzz-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    if engine == "atheris":
        seconds = max(1, round(share))
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            outcomes = list(
                pool.map(lambda n: _run_atheris(n, seconds, artifacts, args.corpus), names)
            )
    else:
        outcomes = [_run_hypothesis(name, share) for name in names]
    print(_summary(outcomes, time.perf_counter() - started))
    if args.artifacts is None and not any(artifacts.iterdir()):
        artifacts.rmdir()
    return 1 if any(o.crashed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
