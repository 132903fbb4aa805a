#!/usr/bin/env python
"""Training both networks on a CPU: one after the other on every core, or side by side on a share each.

    .venv/bin/python benchmarks/cpu_sharing.py              # all the cores this process may use
    .venv/bin/python benchmarks/cpu_sharing.py --cores 4 --images 6400

What the pipeline does on a CPU (workflow/rules/common.smk): each training job takes an even share of --cores, so
on 2 cores the two networks train at the same time on one thread each. This measures, on made-up 32x32 images and
through the pipeline's own training loop (as benchmarks/throughput.py does):
  * one after the other: each network's fast training rate alone, on all the cores;
  * side by side: both networks' rates while they train at once, in two processes, on half the cores each.
From the rates it gives the time to train both networks on the same number of images each way; side by side counts
until the slower network is done (the core the faster one frees is left idle, which a real run fills with other
jobs). The last line is machine-readable: key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "workflow" / "scripts"))
from torchbasics.classifier.variants import REGISTRY  # noqa: E402

VARIANTS = tuple(REGISTRY)
WORKER_FLAG = "--worker"


def training_rate_in_this_process(variant: str, threads: int, n_images: int) -> float:
    """Fast float32 training images/s of ``variant`` with ``threads`` torch threads."""
    import torch

    sys.path.insert(0, str(HERE))
    from throughput import made_up_split, training_rate  # puts the pipeline's library on the path

    from torchbasics.core.runtime import reuse_freed_memory

    reuse_freed_memory()  # as every pipeline job does
    torch.set_num_threads(threads)
    rate, _ = training_rate(variant, "fast", made_up_split(n_images), "cpu")
    return rate


def start_worker(variant: str, threads: int, n_images: int) -> subprocess.Popen:
    command = [sys.executable, __file__, WORKER_FLAG, variant, str(threads), str(n_images)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def rates(workers: dict[str, subprocess.Popen]) -> dict[str, float]:
    """Each worker's images/s, once all have finished."""
    measured = {}
    for variant, worker in workers.items():
        output, _ = worker.communicate()
        if worker.returncode != 0:
            raise SystemExit(f"the {variant} worker failed (exit status {worker.returncode})")
        measured[variant] = float(output.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)), help="default: all usable")
    parser.add_argument("--images", type=int, default=4800, help="training images per measurement")
    args = parser.parse_args()
    share = max(1, args.cores // len(VARIANTS))

    alone = {}
    for variant in VARIANTS:  # one at a time: each has the machine to itself
        alone |= rates({variant: start_worker(variant, args.cores, args.images)})
        print(f"alone, {args.cores} threads: {variant:8s} {alone[variant]:6.0f} images/s", flush=True)
    together = rates({variant: start_worker(variant, share, args.images) for variant in VARIANTS})
    for variant in VARIANTS:
        print(f"side by side, {share} thread(s) each: {variant:8s} {together[variant]:6.0f} images/s")

    # seconds per training image of each network, i.e. per image of both
    one_after_the_other = sum(1 / alone[variant] for variant in VARIANTS)
    side_by_side = max(1 / together[variant] for variant in VARIANTS)
    epochs_of_the_assignment = 15 * 40_000
    minutes = {
        way: seconds * epochs_of_the_assignment / 60
        for way, seconds in (("one after the other", one_after_the_other), ("side by side", side_by_side))
    }
    print("both networks, 15 epochs of 40,000 images: " + ", ".join(f"{way} {m:.1f} min" for way, m in minutes.items()))
    print(
        f"cores={args.cores} share={share} "
        + " ".join(f"{variant}_alone_ips={alone[variant]:.0f}" for variant in VARIANTS)
        + " "
        + " ".join(f"{variant}_side_by_side_ips={together[variant]:.0f}" for variant in VARIANTS)
        + f" side_by_side_speedup={one_after_the_other / side_by_side:.3g}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == WORKER_FLAG:
        variant, threads, n_images = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(training_rate_in_this_process(variant, threads, n_images))
    else:
        main()
