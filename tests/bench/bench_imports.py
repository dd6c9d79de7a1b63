"""Import time of the two packages against what they cannot avoid importing.

Run from the repository root (either form)::

    python -m tests.bench.bench_imports [--quick] [--json PATH]
    python tests/bench/bench_imports.py [--quick] [--json PATH]

Every sample is a fresh interpreter. Two measures, each a median over the runs:

* ``importtime``: the sum of ``python -X importtime`` self times of every module the
  statement imports beyond what a bare ``python -c pass`` imports (interpreter start-up
  excluded; the less noisy of the two, used for the targets);
* ``cpu``: CPU time (user + system) of ``python -c "import x"`` minus that of
  ``python -c pass``; unlike wall time, it does not count the time other processes
  hold the CPU of this shared machine.

Floors: ``import attrs`` for the core (its only dependency), ``import attrs, urllib3``
for the transports (their default HTTP library). The peers are printed for context.
Bytecode is written and warmed first, as on an installed system.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tests.bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench._harness import Result, Target, bench_args, print_table, print_targets, write_json

ROOT = Path(__file__).resolve().parents[2]

#: (table, floor statement, [(name, statement), ...], target ratio for ours)
GROUPS: list[tuple[str, str, list[tuple[str, str]], float]] = [
    (
        "core: import oauth2_core vs its only dependency",
        "import attrs",
        [("oauth2_core", "import oauth2_core"), ("oauthlib.oauth2", "import oauthlib.oauth2")],
        1.3,
    ),
    (
        "transports: import oauth2_transports vs its default HTTP stack",
        "import attrs, urllib3",
        [
            # urllib3 loads on first use of the default transport (a custom transport
            # never loads it): import that too, so the row compares like with like.
            ("oauth2_transports", "from oauth2_transports import Urllib3Transport"),
            ("requests_oauthlib", "import requests_oauthlib"),
            ("authlib requests_client", "import authlib.integrations.requests_client"),
        ],
        1.3,
    ),
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Measure imports as installed code runs them: from cached bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(statement: str, *, importtime: bool) -> tuple[float, str]:
    """(CPU seconds of the child, its stderr)."""
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", statement]
    before = _children_cpu()
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, check=True)
    return _children_cpu() - before, done.stderr


def _modules(stderr: str) -> dict[str, int]:
    """Module name -> self time (µs) from ``-X importtime`` output."""
    found: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:") :].split("|", 2)
        found[name.strip()] = int(self_us)
    return found


def measure(statements: list[str], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """(importtime samples, CPU samples) in seconds per statement, runs interleaved."""
    for statement in ["pass", *statements]:  # write and warm the bytecode
        _run(statement, importtime=False)
    startup = set(_modules(_run("pass", importtime=True)[1]))
    samples: dict[str, tuple[list[float], list[float]]] = {s: ([], []) for s in statements}
    for _ in range(runs):
        bare, _ = _run("pass", importtime=False)
        for statement in statements:
            modules = _modules(_run(statement, importtime=True)[1])
            extra = sum(us for name, us in modules.items() if name not in startup)
            cpu, _ = _run(statement, importtime=False)
            samples[statement][0].append(extra / 1e6)
            samples[statement][1].append(max(cpu - bare, 0.0))
    return samples


def main(argv: list[str] | None = None) -> int:
    """Measure every group, print both measures and the targets, optionally write JSON."""
    args = bench_args(__doc__.splitlines()[0] if __doc__ else "", argv)
    runs = args.repeat or (5 if args.quick else 15)
    print(f"Python {sys.version.split()[0]}; median of {runs} fresh interpreters per statement")
    results: list[Result] = []
    targets: list[Target] = []
    for title, floor, candidates, max_ratio in GROUPS:
        names = {floor: floor.removeprefix("import "), **{s: n for n, s in candidates}}
        samples = measure(list(names), runs)
        for index, measure_name in enumerate(("importtime", "cpu")):
            base = statistics.median(samples[floor][index]) or 1e-9
            table = [
                Result(
                    f"{title.split(':')[0]}/{measure_name}",
                    name,
                    statistics.median(samples[statement][index]),
                    statistics.median(samples[statement][index]) / base,
                    samples[statement][index],
                )
                for statement, name in names.items()
            ]
            print_table(f"{title} ({measure_name}; floor = {floor})", table)
            results.extend(table)
            if measure_name == "importtime":
                ours = table[1]
                targets.append(Target(f"import {ours.name}", ours.name, max_ratio, ours.ratio))
    print_targets(targets)
    if args.json:
        write_json(
            args.json, benchmark="imports", quick=args.quick, results=results, targets=targets
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
