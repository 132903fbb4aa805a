"""`throughput.py --baseline COMMIT`: the working tree's speed against an earlier commit's, in one run.

COMMIT is checked out with `git worktree add --detach` into a temporary folder (removed afterwards, also on an
error, Ctrl-C or SIGTERM). Each side is measured by `probe.py` in a fresh interpreter that imports only that side's
`workflow/scripts`, so the two libraries never mix in one process; the sides alternate within a round and swap order
each round (baseline first in even rounds), so a machine that drifts slower or faster during the run moves both
sides alike. The speedup of each measurement is the working tree's median rate over the baseline's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).resolve().with_name("probe.py")
SIDES = ("baseline", "working tree")
# probe.py's measurement -> the key of its ratio on the last line
SPEEDUP_KEYS = {
    "train_plain": "train_speedup_vs_baseline",
    "train_residual": "residual_speedup_vs_baseline",
    "eval_plain": "eval_speedup_vs_baseline",
    "denoise_L1": "denoise_speedup_vs_baseline",
}
SIZES = {  # probe.py's sizes: (training images, evaluation images, denoising iterations)
    "full": {"--train-images": 384, "--eval-images": 1536, "--denoise-iterations": 8},
    "quick": {"--train-images": 192, "--eval-images": 512, "--denoise-iterations": 4},
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def terminate_as_exit():
    """SIGTERM raises SystemExit while inside, so ``finally`` blocks (the checkout's removal) still run."""

    def exit_now(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def checked_out(commit: str):
    """``commit`` in a temporary detached worktree; yields its folder, and removes it whatever happens."""
    sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    folder = Path(tempfile.mkdtemp(prefix="throughput-baseline-")) / "checkout"
    try:
        git("worktree", "add", "--detach", "--quiet", str(folder), sha)
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=REPO, capture_output=True)
        shutil.rmtree(folder.parent, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=REPO, capture_output=True)


def probe(checkout: Path, threads: int, device: str, sizes: dict) -> dict:
    """One side's rates, measured by probe.py in a fresh interpreter that sees only ``checkout``'s library."""
    command = [sys.executable, str(PROBE), "--scripts", str(checkout / "workflow" / "scripts")]
    command += ["--threads", str(threads), "--device", device]
    command += [str(part) for option, value in sizes.items() for part in (option, value)]
    # No inherited PYTHONPATH (the pipeline's rules set one to a checkout's workflow/scripts), and probe.py's
    # folder (benchmarks/, no library there) is the only other path it adds.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"probe.py failed for {checkout}:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def side_order(round_index: int) -> tuple[str, ...]:
    """Baseline first in even rounds, working tree first in odd ones."""
    return SIDES if round_index % 2 == 0 else SIDES[::-1]


def measure_rounds(checkouts: dict[str, Path], rounds: int, threads: int, device: str, sizes: dict) -> dict:
    """{side: {measurement: [rate per round]}}, printing each probe's rates as they come."""
    rates = {side: {key: [] for key in SPEEDUP_KEYS} for side in SIDES}
    for round_index in range(rounds):
        for side in side_order(round_index):
            report = probe(checkouts[side], threads, device, sizes)
            for key in SPEEDUP_KEYS:
                rates[side][key].append(report["rates"][key])
            shown = ", ".join(f"{key} {value:7.1f}" for key, value in report["rates"].items())
            print(f"round {round_index + 1}/{rounds} {side:12s}: {shown}  ({report['precision']})", flush=True)
    return rates


def speedups(rates: dict) -> dict[str, float]:
    """Working tree's median rate over the baseline's, per measurement."""
    return {
        name: statistics.median(rates["working tree"][key]) / statistics.median(rates["baseline"][key])
        for key, name in SPEEDUP_KEYS.items()
    }


def print_summary(rates: dict, ratios: dict[str, float]) -> None:
    """Medians per side, and the spread of the per-round ratios (how far one round's pair could mislead)."""
    for key, name in SPEEDUP_KEYS.items():
        base, work = rates["baseline"][key], rates["working tree"][key]
        per_round = [w / b for w, b in zip(work, base)]
        print(
            f"{key:15s}: baseline {statistics.median(base):8.1f}, working tree {statistics.median(work):8.1f} "
            f"per s (medians), {name}={ratios[name]:.3f}; per-round ratios {min(per_round):.3f}..{max(per_round):.3f}"
        )


def main(commit: str, rounds: int, threads: int, device: str, quick: bool) -> None:
    sizes = SIZES["quick" if quick else "full"]
    with terminate_as_exit(), checked_out(commit) as baseline:
        sha = git("rev-parse", "--short", "HEAD")
        label = git("-C", str(baseline), "rev-parse", "--short", "HEAD")
        print(f"baseline {commit} ({label}) checked out in {baseline}; working tree {REPO} (on {sha})")
        print(f"{rounds} rounds, {threads} threads, device {device}, probe sizes {sizes}", flush=True)
        rates = measure_rounds({"baseline": baseline, "working tree": REPO}, rounds, threads, device, sizes)
    ratios = speedups(rates)
    print_summary(rates, ratios)
    extra = {"baseline": label, "rounds": rounds, "threads": threads}
    print(" ".join([f"{name}={value:.3f}" for name, value in ratios.items()] + [f"{k}={v}" for k, v in extra.items()]))
