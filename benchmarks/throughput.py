#!/usr/bin/env python
"""Training, evaluation and denoising speed of the reference and the fast implementations, in one run on one machine.

    .venv/bin/python benchmarks/throughput.py
    .venv/bin/python benchmarks/throughput.py --quick    # a short run, for a smoke check
    .venv/bin/python benchmarks/throughput.py --device cuda
    .venv/bin/python benchmarks/throughput.py --compile    # also torch.compile'd fast paths, with compile time
    .venv/bin/python benchmarks/throughput.py --baseline c3d23de    # the working tree against that commit

Measures, on made-up 32x32 images (the speed does not depend on their content):
  * training images/s of every registered variant with the reference implementation (the assignment's per-image
    transforms from a DataLoader) and the fast one (the split on the device, per-batch augmentation,
    channels_last), through the pipeline's own training loop (torchbasics.classifier.train.train_one_epoch);
  * evaluation images/s, reference (ToTensor per image, batch 64) and fast (the config's eval.batch_size);
  * the fast paths in float32 and in bfloat16 (train.precision), training and evaluation, every variant;
  * one denoising setting at the real image's size (3 x 678 x 1020), solved by autograd (the reference) and by
    the fused closed-form step (fast);
  * the machine's float32 matrix-multiply rate, and the fraction of it the fast training reaches (the
    model's training FLOPs per image, about 3x its forward pass, times images/s);
  * with --compile, the baseline network's fast training and evaluation wrapped in torch.compile, and the
    seconds the first batches took (compiling).
Both paths run under the pipeline's own process set-up (torchbasics.core.runtime.reuse_freed_memory).
The last line is machine-readable: key=value pairs.

With --baseline COMMIT it measures only this instead, for COMMIT's library and the working tree's, alternating in
several rounds (--rounds), each side in a fresh interpreter (benchmarks/probe.py, benchmarks/against_commit.py):
fast training of both networks at the precision `auto` picks on this machine, fast evaluation (plain) and the
fused denoising step (L1); its last line gives each as working tree / baseline (`train_speedup_vs_baseline=`,
`residual_speedup_vs_baseline=`, `eval_speedup_vs_baseline=`, `denoise_speedup_vs_baseline=`). --threads defaults
to the cores this process may use; --quick makes each probe shorter.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from torchbasics.classifier.models import build_model, predict_logits, to_fast_layout  # noqa: E402
from torchbasics.classifier.train import DATA_PATHS, Progress, TrainSettings, train_one_epoch, training_images  # noqa: E402
from torchbasics.classifier.variants import DEFAULT_BASELINE, REGISTRY  # noqa: E402
from torchbasics.core.precision import autocast, cpu_bfloat16_units, native_bfloat16  # noqa: E402
from torchbasics.core.runtime import reuse_freed_memory  # noqa: E402
from torchbasics.data.cifar10 import Split  # noqa: E402
from torchbasics.denoise import denoise  # noqa: E402
from torchbasics.denoise.norms import REFERENCE as REFERENCE_NORM  # noqa: E402

VARIANTS = tuple(REGISTRY)
BASELINE = DEFAULT_BASELINE  # the network the single-network rows (evaluation, compiled, FLOPs) measure

IMPLEMENTATIONS = ("reference", "fast")
PRECISIONS = ("float32", "bfloat16")
BATCH_SIZE = 64
PARROT_SHAPE = (1, 3, 678, 1020)  # the course's noisy parrot, (N, C, H, W)
# The reference evaluates at the training batch size; the fast path at the config's eval.batch_size.
EVAL_BATCH = {
    "reference": BATCH_SIZE,
    "fast": yaml.safe_load((REPO / "config.yaml").read_text())["eval"]["batch_size"],
}


def matmul_rate(device: str, size: int = 2048, repeats: int = 10) -> float:
    """float32 FLOP/s of a square matrix product, best of ``repeats``."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def forward_flops_per_image(variant: str) -> float:
    """Multiply-adds of the convolutions and linear layers of one forward pass, times 2."""
    model = build_model(variant)
    macs = []

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            macs.append(output[0].numel() * kernel)
        elif isinstance(module, torch.nn.Linear):
            macs.append(module.in_features * module.out_features)

    hooks = [module.register_forward_hook(count) for module in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    return 2.0 * sum(macs)


def made_up_split(n_images: int) -> Split:
    """``n_images`` random 32x32 images with random labels (seed 0): the speeds do not depend on their content."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_images).astype(np.int64)
    return Split(images, labels, [str(i) for i in range(10)], 0)


def training_rate(
    variant: str, implementation: str, split: Split, device: str, compiled: bool = False, precision: str = "float32"
) -> tuple[float, float]:
    """Images/s of the pipeline's training loop over ``split``, and the seconds of a short warm-up pass before it."""
    torch.manual_seed(0)
    settings = TrainSettings(
        variant=variant,
        seed=0,
        epochs=1,
        batch_size=BATCH_SIZE,
        lr=1e-4,
        implementation=implementation,
        precision=precision,
    )
    path = DATA_PATHS[implementation]
    augmentation = path.augmentation()
    model = build_model(variant).to(device)
    if path.channels_last:
        model = to_fast_layout(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    if compiled:
        model = torch.compile(model)
    warm_up = Split(split.X[: 4 * BATCH_SIZE], split.y[: 4 * BATCH_SIZE], split.label_names, 0)
    seconds = []
    for part in (warm_up, split):
        images = training_images(part, path, device)
        progress = Progress(1, len(images), -(-len(images) // BATCH_SIZE))
        progress.start_epoch(1)
        start = time.perf_counter()
        _, rate = train_one_epoch(model, optimizer, images, augmentation, settings, 1, device, progress)
        seconds.append(time.perf_counter() - start)
    return rate, seconds[0]


def evaluation_rate(
    variant: str, implementation: str, X: np.ndarray, device: str, compiled: bool = False, precision: str = "float32"
) -> tuple[float, float]:
    """Images/s of the pipeline's prediction function over ``X``, and the seconds of a short warm-up before it."""
    model = build_model(variant).to(device)
    if implementation == "fast":
        model = to_fast_layout(model)
    if compiled:
        model = torch.compile(model)
    seconds = []
    for images in (X[: EVAL_BATCH[implementation] * 2], X):
        synchronize(device)
        start = time.perf_counter()
        with autocast(precision, device):
            predict_logits(model, images, EVAL_BATCH[implementation], device, implementation)
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return len(X) / seconds[1], seconds[0]


def denoise_seconds_per_iteration(implementation: str, norm: str, iterations: int, device: str) -> float:
    """Seconds per iteration of one setting (lr 0.9, alpha 1.5) on a random image of the parrot's size, made into
    a tensor as the pipeline makes the parrot (denoise.to_tensor)."""
    height, width = PARROT_SHAPE[2:]
    pixels = np.random.default_rng(0).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    noisy = denoise.to_tensor(pixels, device)
    setting = [denoise.Setting(lr=0.9, alpha=1.5)]
    # compile=True: the pipeline compiles the fused step for a real run's size; short runs like these would not
    denoise.solve_grid(noisy, setting, norm, 2, implementation, compile=True)  # warm-up, and compiling the fused step
    synchronize(device)
    start = time.perf_counter()
    denoise.solve_grid(noisy, setting, norm, iterations, implementation, compile=True)
    synchronize(device)
    return (time.perf_counter() - start) / iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (fewer images and iterations)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's choice; with --baseline, the cores this process may use)",
    )
    parser.add_argument("--compile", action="store_true", help="also measure the fast paths under torch.compile")
    parser.add_argument(
        "--baseline", metavar="COMMIT", help="measure the working tree against COMMIT's library instead"
    )
    parser.add_argument("--rounds", type=int, default=5, help="with --baseline: rounds of both sides (default 5)")
    args = parser.parse_args()
    if args.baseline:
        import against_commit  # beside this script

        threads = args.threads or len(os.sched_getaffinity(0))
        against_commit.main(args.baseline, args.rounds, threads, args.device, args.quick)
        return
    reuse_freed_memory()  # as every pipeline job does
    if args.threads:
        torch.set_num_threads(args.threads)
    n_train, n_eval = (640, 2000) if args.quick else (6400, 10000)
    denoise_iterations = 5 if args.quick else 40

    images = made_up_split(max(n_train, n_eval))
    X = images.X
    split = Split(X[:n_train], images.y[:n_train], images.label_names, 0)
    device = args.device

    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {device}"
        + (
            f" ({torch.cuda.get_device_name()})"
            if device.startswith("cuda")
            else f", CPU bfloat16 units: {', '.join(cpu_bfloat16_units()) or 'none'}"
        )
    )
    rate = matmul_rate(device)
    print(f"float32 matmul: {rate / 1e9:.1f} GFLOP/s")

    results = {}
    for variant in VARIANTS:
        for implementation in IMPLEMENTATIONS:
            key = f"train_{variant}_{implementation}"
            results[key], _ = training_rate(variant, implementation, split, device)
            print(f"train {variant:8s} {implementation:9s}: {results[key]:8.0f} images/s")
    for implementation in IMPLEMENTATIONS:
        results[f"eval_{implementation}"], _ = evaluation_rate(BASELINE, implementation, X[:n_eval], device)
        print(
            f"eval  {BASELINE:8s} {implementation:9s}: {results[f'eval_{implementation}']:8.0f} images/s "
            f"(batch {EVAL_BATCH[implementation]})"
        )
    # float32 is measured again here, beside bfloat16, though the fast row above is the same path: the machine's
    # speed drifts within a run, and a ratio of two adjacent measurements drifts least.
    for variant in VARIANTS:
        for precision in PRECISIONS:
            key = f"{variant}_{precision}"
            results[f"train_{key}"], _ = training_rate(variant, "fast", split, device, precision=precision)
            results[f"eval_{key}"], _ = evaluation_rate(variant, "fast", X[:n_eval], device, precision=precision)
            print(
                f"fast {variant:8s} {precision:8s}: train {results[f'train_{key}']:8.0f} images/s, "
                f"eval {results[f'eval_{key}']:8.0f} images/s"
            )
    if args.compile:
        results["train_compiled"], warm_up = training_rate(BASELINE, "fast", split, device, compiled=True)
        print(
            f"train {BASELINE:8s} fast, torch.compile: {results['train_compiled']:8.0f} images/s "
            f"(first 4 batches, compiling: {warm_up:.1f} s)"
        )
        results["eval_compiled"], warm_up = evaluation_rate(BASELINE, "fast", X[:n_eval], device, compiled=True)
        print(
            f"eval  {BASELINE:8s} fast, torch.compile: {results['eval_compiled']:8.0f} images/s "
            f"(first 2 batches, compiling: {warm_up:.1f} s)"
        )
    for norm in denoise.NORMS:
        for implementation in denoise.IMPLEMENTATIONS:
            key = f"denoise_{norm}_{implementation}"
            results[key] = denoise_seconds_per_iteration(implementation, norm, denoise_iterations, device)
            print(
                f"denoise {norm} one setting, {'x'.join(map(str, PARROT_SHAPE[1:]))}, {implementation:9s}: "
                f"{1000 * results[key]:6.1f} ms per iteration"
            )

    baseline = f"train_{BASELINE}"
    summary = {
        f"train_{variant}_speedup": results[f"train_{variant}_fast"] / results[f"train_{variant}_reference"]
        for variant in VARIANTS
    }
    summary |= {
        "eval_speedup": results["eval_fast"] / results["eval_reference"],
        "compute_fraction": 3 * forward_flops_per_image(BASELINE) * results[f"{baseline}_fast"] / rate,
        # 0 where torch emulates bfloat16 (no AMX or AVX-512 BF16, or a GPU older than Ampere): the speedups below
        # are then below 1, and say why `train.precision: auto` takes float32 there
        "bf16_native": int(native_bfloat16(device)),
        "train_bf16_speedup": results[f"{baseline}_bfloat16"] / results[f"{baseline}_float32"],
    }
    summary |= {
        f"train_{variant}_bf16_speedup": results[f"train_{variant}_bfloat16"] / results[f"train_{variant}_float32"]
        for variant in VARIANTS
        if variant != BASELINE
    }
    summary["eval_bf16_speedup"] = results[f"eval_{BASELINE}_bfloat16"] / results[f"eval_{BASELINE}_float32"]
    summary |= {
        ("denoise_speedup" if norm == REFERENCE_NORM else f"denoise_{norm}_speedup"): (
            results[f"denoise_{norm}_reference"] / results[f"denoise_{norm}_fast"]
        )
        for norm in denoise.NORMS
    }
    summary[f"{baseline}_fast_ips"] = results[f"{baseline}_fast"]
    summary[f"{baseline}_reference_ips"] = results[f"{baseline}_reference"]
    if args.compile:
        summary["train_compiled_over_eager"] = results["train_compiled"] / results[f"{baseline}_fast"]
        summary["eval_compiled_over_eager"] = results["eval_compiled"] / results["eval_fast"]
    print(
        "model forward MFLOP per image: "
        + ", ".join(f"{variant} {forward_flops_per_image(variant) / 1e6:.1f}" for variant in VARIANTS)
    )
    print(" ".join(f"{key}={value:.3g}" if value < 100 else f"{key}={value:.0f}" for key, value in summary.items()))


if __name__ == "__main__":
    main()
