"""Timing, tables and JSON output shared by the benchmark scripts.

The machine is shared and noisy, so every number is a median: each candidate is
timed over several repeats, and the repeats of all candidates of one shape are
interleaved (A B C, A B C, ...) so that a burst of load hits them alike. Time is
the process's CPU time (``time.process_time``), which does not count the time other
processes hold the CPU; ``--wall`` uses ``time.perf_counter`` instead.

Benchmarks are commands, never tests: nothing here asserts on timing. A missed
target is printed (and recorded in ``--json``), and the exit status stays 0.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Candidate",
    "Result",
    "Target",
    "bench_args",
    "interleaved_medians",
    "print_table",
    "print_targets",
    "write_json",
]


@dataclass(frozen=True)
class Candidate:
    """One implementation of a shape: ``fn`` is called with no arguments."""

    name: str
    fn: Callable[[], object]


@dataclass(frozen=True)
class Result:
    """The median time of one candidate and its ratio to the shape's floor."""

    shape: str
    name: str
    median_s: float
    ratio: float
    samples_s: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """``name`` must stay within ``max_ratio`` times the floor of ``shape``."""

    shape: str
    name: str
    max_ratio: float
    ratio: float

    @property
    def met(self) -> bool:
        """Whether the measured ratio is within the target."""
        return self.ratio <= self.max_ratio


def bench_args(
    description: str, argv: Sequence[str] | None = None, *, instructions: bool = False
) -> argparse.Namespace:
    """The command line every benchmark script accepts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a fast smoke run (fewer, shorter repeats)"
    )
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the results here")
    parser.add_argument("--repeat", type=int, default=None, help="repeats per candidate")
    parser.add_argument(
        "--wall", action="store_true", help="time with the wall clock instead of CPU time"
    )
    if instructions:
        parser.add_argument(
            "--instructions",
            action="store_true",
            help="also count instructions per call under valgrind (deterministic, slow)",
        )
    return parser.parse_args(argv)


def _loops_for(fn: Callable[[], object], budget_s: float, timer: Callable[[], float]) -> int:
    """How many calls fill about ``budget_s`` seconds (at least one)."""
    loops = 1
    while True:
        elapsed = timeit.Timer(fn, timer=timer).timeit(number=loops)
        if elapsed >= budget_s / 4 or loops >= 1 << 22:
            return max(1, int(loops * budget_s / max(elapsed, 1e-9)))
        loops *= 4


def interleaved_medians(
    candidates: Sequence[Candidate], *, repeat: int, budget_s: float, wall: bool = False
) -> dict[str, list[float]]:
    """Per-call times (seconds) of each candidate, one sample per repeat, interleaved.

    Each candidate is called once first (warm caches, lazy imports), then its
    loop count is chosen so that one sample takes about ``budget_s`` seconds.
    """
    timer = time.perf_counter if wall else time.process_time
    for candidate in candidates:
        candidate.fn()
    loops = {c.name: _loops_for(c.fn, budget_s, timer) for c in candidates}
    samples: dict[str, list[float]] = {c.name: [] for c in candidates}
    for _ in range(repeat):
        for candidate in candidates:
            n = loops[candidate.name]
            elapsed = timeit.Timer(candidate.fn, timer=timer).timeit(number=n)
            samples[candidate.name].append(elapsed / n)
    return samples


def results_for(shape: str, samples: dict[str, list[float]], *, floor: str) -> list[Result]:
    """Medians, and ratios to the ``floor`` candidate.

    The ratio is the median of the *paired* ratios: repeat ``i`` of a candidate
    divided by repeat ``i`` of the floor, timed back to back. A burst of load
    on the shared machine slows both members of a pair, so the pairs cancel
    most of the noise that a ratio of two medians keeps.
    """
    base = samples[floor]
    results = []
    for name, values in samples.items():
        pairs = [v / b for v, b in zip(values, base, strict=True) if b > 0]
        ratio = statistics.median(pairs) if pairs else float("nan")
        results.append(Result(shape, name, statistics.median(values), ratio, values))
    return results


def _format_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds * 1e6:9.2f} µs"


def print_table(title: str, results: Sequence[Result], *, note: str = "") -> None:
    """One table: candidate, median per call, ratio to the floor, spread."""
    print(f"\n{title}")
    if note:
        print(f"  ({note})")
    width = max(len(r.name) for r in results)
    print(f"  {'candidate':<{width}}  {'median':>12}  {'x floor':>8}  {'spread':>7}")
    for r in results:
        spread = ""
        if len(r.samples_s) > 1 and r.median_s > 0:
            spread = f"±{(max(r.samples_s) - min(r.samples_s)) / 2 / r.median_s:.0%}"
        print(f"  {r.name:<{width}}  {_format_time(r.median_s):>12}  {r.ratio:7.2f}x  {spread:>7}")


def print_targets(targets: Sequence[Target]) -> None:
    """The targets and whether each is met."""
    print("\nTargets")
    for t in targets:
        verdict = "met" if t.met else "MISSED"
        print(f"  {t.shape}: {t.name} <= {t.max_ratio:g}x floor: {t.ratio:.2f}x  {verdict}")


def write_json(
    path: Path, *, benchmark: str, quick: bool, results: Sequence[Result], targets: Sequence[Target]
) -> None:
    """Write the results for the benchmark-report command to collect."""
    payload: dict[str, Any] = {
        "benchmark": benchmark,
        "quick": quick,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "results": [asdict(r) for r in results],
        "targets": [{**asdict(t), "met": t.met} for t in targets],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")
