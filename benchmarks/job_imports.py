#!/usr/bin/env python
"""What each job pays before it starts working: the imports of every entry script, in a fresh interpreter.

    .venv/bin/python benchmarks/job_imports.py                       # the working tree
    .venv/bin/python benchmarks/job_imports.py --baseline 902e318    # against that commit, in one run

A run starts about fifty jobs, each a new Python process that imports its entry script's modules (torch, pandas,
matplotlib, ...) before it reads a byte; on a small machine that start-up is most of a short job. For each
`workflow/scripts/<stage>/<script>.py` this runs the script's top-level import statements (read with `ast`, so
nothing else of the script runs) with PYTHONPATH at that checkout's `workflow/scripts`, --rounds times, and prints
the median wall time. With --baseline the two sides alternate script by script and swap order each round
(benchmarks/against_commit.py checks the commit out into a temporary worktree). The last line is machine-readable:
the sum of the medians per side and, with a baseline, `job_imports_speedup_vs_baseline=` (baseline sum / working
tree sum).
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def entry_scripts(checkout: Path) -> dict[str, Path]:
    """{stage/script.py: path} for every entry script (the library, torchbasics/, is not one)."""
    scripts = checkout / "workflow" / "scripts"
    return {
        str(path.relative_to(scripts)): path
        for path in sorted(scripts.glob("*/*.py"))
        if path.parent.name != "torchbasics"
    }


def import_statements(script: Path) -> str:
    """The script's top-level imports as one program: what the job runs before its own code."""
    tree = ast.parse(script.read_text())
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(ast.unparse(node) for node in imports)


def seconds_to_import(code: str, checkout: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(checkout / "workflow" / "scripts"))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=checkout)
    return time.perf_counter() - started


def measure(checkouts: dict[str, Path], rounds: int) -> dict[str, dict[str, list[float]]]:
    """{side: {script: [seconds per round]}} for the scripts every side has; sides alternate, swapping each round."""
    scripts = {side: entry_scripts(folder) for side, folder in checkouts.items()}
    shared = sorted(set.intersection(*(set(found) for found in scripts.values())))
    codes = {side: {name: import_statements(scripts[side][name]) for name in shared} for side in checkouts}
    times = {side: {name: [] for name in shared} for side in checkouts}
    sides = list(checkouts)
    for round_index in range(rounds):
        order = sides if round_index % 2 == 0 else sides[::-1]
        for name in shared:
            for side in order:
                times[side][name].append(seconds_to_import(codes[side][name], checkouts[side]))
        print(f"round {round_index + 1}/{rounds} done", file=sys.stderr, flush=True)
    return times


def report(times: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    """Prints the median per script and side; returns each side's sum of medians."""
    sides = list(times)
    print(f"{'entry script':40s}" + "".join(f"{side:>16s}" for side in sides) + "   (median s)")
    totals = dict.fromkeys(sides, 0.0)
    for name in next(iter(times.values())):
        medians = {side: statistics.median(times[side][name]) for side in sides}
        print(f"{name:40s}" + "".join(f"{medians[side]:16.2f}" for side in sides))
        for side in sides:
            totals[side] += medians[side]
    print(f"{'sum':40s}" + "".join(f"{totals[side]:16.2f}" for side in sides))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="COMMIT", help="also measure this commit's entry scripts")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per script and side (default 3)")
    args = parser.parse_args()
    if args.baseline is None:
        totals = report(measure({"working tree": REPO}, args.rounds))
        print(f"job_imports_seconds={totals['working tree']:.2f} rounds={args.rounds}")
        return
    import against_commit  # beside this script

    with against_commit.terminate_as_exit(), against_commit.checked_out(args.baseline) as baseline:
        label = against_commit.git("-C", str(baseline), "rev-parse", "--short", "HEAD")
        times = measure({"baseline": baseline, "working tree": REPO}, args.rounds)
    totals = report(times)
    print(
        f"job_imports_speedup_vs_baseline={totals['baseline'] / totals['working tree']:.3f} "
        f"baseline_seconds={totals['baseline']:.2f} working_tree_seconds={totals['working tree']:.2f} "
        f"baseline={label} rounds={args.rounds}"
    )


if __name__ == "__main__":
    main()
