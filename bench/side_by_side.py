"""What every side-by-side benchmark does the same way (shared/BENCHMARKING.md): run the
contenders interleaved (A B C A B C ...), then print a Markdown table of the median (min,
max) of each and its ratio to the first contender, the reference."""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Callable


def run_options(description: str, runs: int, seconds: float,
                smoke_seconds: float) -> argparse.Namespace:
    """--runs, --seconds and --smoke (one run of smoke_seconds: does the script work)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--seconds", type=float, default=seconds)
    ap.add_argument("--smoke", action="store_true", help="one short run: does the script work")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.seconds = 1, smoke_seconds
    return args


def run_interleaved(contenders: list[tuple[str, Callable[[], float]]], runs: int,
                    unit: str) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for run in range(runs):
        for name, measure in contenders:
            results[name].append(measure())
            print(f"run {run + 1}: {name}: {results[name][-1]:.2f} {unit}", file=sys.stderr)
    return results


def print_table(results: dict[str, list[float]], first_column: str, unit: str,
                reference_label: str) -> None:
    reference = statistics.median(next(iter(results.values())))
    print(f"| {first_column} | {unit}, median (min, max) | × {reference_label} |")
    print("|---|---|---|")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} ({min(values):.2f}, {max(values):.2f}) | "
              f"{med / reference:.2f} |")
