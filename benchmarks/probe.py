#!/usr/bin/env python
"""One side of `throughput.py --baseline`: the speed of ONE checkout's library, in this fresh interpreter.

    .venv/bin/python benchmarks/probe.py --scripts /some/checkout/workflow/scripts --threads 2

Imports torchbasics from ``--scripts`` only (so two checkouts never mix in one process) and measures, on made-up
seeded images, the fast training of both networks at the precision the library's ``resolve_precision("auto", ...)``
picks, the fast evaluation of the plain network (float32, at that checkout's config ``eval.batch_size``, as the
pipeline evaluates) and the fused denoising step (L1, the parrot's size). Warm-up batches and iterations are left
out. The last line is one JSON object: rates per measurement, the library's folder, threads and precision.

It works against both library layouts: the stage packages since commit 1311a29 (torchbasics.classifier.train, ...)
and the flat modules before (torchbasics.train, ...); it calls only functions whose signatures both share.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

BATCH_SIZE = 64
WARM_UP_BATCHES = 2  # the first batches create oneDNN's kernels and grow the allocator's pools
VARIANTS = ("plain", "residual")
EVAL_VARIANT = "plain"
DENOISE_NORM = "L1"
PARROT_HEIGHT_WIDTH = (678, 1020)  # the course's noisy parrot


def import_library(scripts: Path) -> SimpleNamespace:
    """The modules the probe uses, from ``scripts``/torchbasics, whichever layout that checkout has."""
    sys.path.insert(0, str(scripts))
    try:  # stage packages (commit 1311a29 and later)
        from torchbasics.classifier import models, train
        from torchbasics.core import precision, runtime
        from torchbasics.data import cifar10
        from torchbasics.denoise import denoise
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("torchbasics."):
            raise  # a missing third-party package, not an older layout
        # flat modules (before 1311a29); `torchbasics.denoise` is then the denoising module itself
        from torchbasics import cifar10, denoise, models, precision, runtime, train
    import torchbasics

    library = Path(torchbasics.__file__).resolve().parent
    if library.parent != scripts.resolve():
        raise SystemExit(f"probe: imported torchbasics from {library}, not from {scripts}")
    return SimpleNamespace(
        root=library, models=models, train=train, precision=precision, runtime=runtime, cifar10=cifar10, denoise=denoise
    )


def made_up_split(lib: SimpleNamespace, n_images: int):
    """``n_images`` random 32x32 images with random labels, seed 0: the same on both sides."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_images).astype(np.int64)
    return lib.cifar10.Split(images, labels, [str(i) for i in range(10)], 0)


def first_images(lib: SimpleNamespace, split, n_images: int):
    return lib.cifar10.Split(split.X[:n_images], split.y[:n_images], split.label_names, 0)


def make_optimizer(lib: SimpleNamespace, model, device: str):
    """The optimizer the side's pipeline trains with: its ``train.make_optimizer`` where it has one (later commits
    choose fused Adam on CUDA there), else plain Adam, as ``train_variant`` made it before."""
    import torch

    if hasattr(lib.train, "make_optimizer"):
        return lib.train.make_optimizer(model, 1e-4, device)
    return torch.optim.Adam(model.parameters(), lr=1e-4)


def training_rate(lib: SimpleNamespace, variant: str, split, precision: str, device: str) -> float:
    """Images/s of the library's own fast training loop over ``split``, after a warm-up pass."""
    import torch

    torch.manual_seed(0)
    settings = lib.train.TrainSettings(
        variant=variant, seed=0, epochs=1, batch_size=BATCH_SIZE, lr=1e-4, implementation="fast", precision=precision
    )
    path = lib.train.DATA_PATHS["fast"]
    model = lib.models.to_fast_layout(lib.models.build_model(variant).to(device))
    optimizer = make_optimizer(lib, model, device)
    augmentation = path.augmentation()
    seconds = 0.0
    for part in (first_images(lib, split, WARM_UP_BATCHES * BATCH_SIZE), split):
        images = lib.train.training_images(part, path, device)
        progress = lib.train.Progress(1, len(images), -(-len(images) // BATCH_SIZE))
        progress.start_epoch(1)
        # Timed here rather than taken from train_one_epoch's own rate, so both sides are timed the same way.
        started = time.perf_counter()
        lib.train.train_one_epoch(model, optimizer, images, augmentation, settings, 1, device, progress)
        seconds = time.perf_counter() - started
    return len(split.X) / seconds


def evaluation_rate(lib: SimpleNamespace, X: np.ndarray, batch_size: int, device: str) -> float:
    """Images/s of the library's fast prediction function over ``X``, after a two-batch warm-up."""
    import torch

    torch.manual_seed(0)
    model = lib.models.to_fast_layout(lib.models.build_model(EVAL_VARIANT).to(device))
    seconds = 0.0
    for images in (X[: 2 * batch_size], X):
        started = time.perf_counter()
        lib.models.predict_logits(model, images, batch_size, device, "fast")
        seconds = time.perf_counter() - started
    return len(X) / seconds


def denoise_rate(lib: SimpleNamespace, iterations: int, device: str) -> float:
    """Iterations/s of one fused denoising setting (lr 0.9, alpha 1.5) on a random parrot-sized image, compiled as
    the pipeline compiles it for a real run; the compiling warm-up is left out."""
    height, width = PARROT_HEIGHT_WIDTH
    pixels = np.random.default_rng(0).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    noisy = lib.denoise.to_tensor(pixels, device)
    setting = [lib.denoise.Setting(lr=0.9, alpha=1.5)]
    lib.denoise.solve_grid(noisy, setting, DENOISE_NORM, 2, "fast", compile=True)
    started = time.perf_counter()
    lib.denoise.solve_grid(noisy, setting, DENOISE_NORM, iterations, "fast", compile=True)
    return iterations / (time.perf_counter() - started)


def eval_batch_size(scripts: Path) -> int:
    """The checkout's config ``eval.batch_size``: what its pipeline evaluates at."""
    import yaml

    config = scripts.resolve().parents[1] / "config.yaml"
    return int(yaml.safe_load(config.read_text())["eval"]["batch_size"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scripts", type=Path, required=True, help="a checkout's workflow/scripts folder")
    parser.add_argument("--threads", type=int, required=True, help="torch CPU threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train-images", type=int, default=1280, help="images per training measurement")
    parser.add_argument("--eval-images", type=int, default=4000, help="images per evaluation measurement")
    parser.add_argument("--denoise-iterations", type=int, default=20, help="denoising iterations measured")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    lib = import_library(args.scripts)
    import torch

    lib.runtime.reuse_freed_memory()  # as every pipeline job does
    torch.set_num_threads(args.threads)
    precision = lib.precision.resolve_precision("auto", args.device)
    split = made_up_split(lib, max(args.train_images, args.eval_images))
    train_split = first_images(lib, split, args.train_images)
    rates = {
        f"train_{variant}": training_rate(lib, variant, train_split, precision, args.device) for variant in VARIANTS
    }
    batch_size = eval_batch_size(args.scripts)
    rates[f"eval_{EVAL_VARIANT}"] = evaluation_rate(lib, split.X[: args.eval_images], batch_size, args.device)
    rates[f"denoise_{DENOISE_NORM}"] = denoise_rate(lib, args.denoise_iterations, args.device)
    report = {
        "rates": rates,
        "library": str(lib.root),
        "threads": torch.get_num_threads(),
        "precision": precision,
        "eval_batch_size": batch_size,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
