"""Part 1.2: total-variation denoising by gradient descent on the pixels, as the handout describes it.

J starts as a copy of the noisy image I and descends ``||I-J|| + alpha (||dJ/dx|| + ||dJ/dy||)`` (L1 norms, or
squared L2 norms), each step moving J by ``lr`` along the loss gradient normalised to unit length. Images are
(N, C, H, W) float tensors scaled to 0..1; a grid of (lr, alpha) settings is solved either as one batch, all
settings advancing together (one batch element each), or one setting after the other.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import quality
from .errors import InputError

log = logging.getLogger(__name__)

NORMS = ("L1", "L2")
SOLVERS = ("batched", "loop")
RESULT_COLUMNS = ["norm", "lr", "alpha", "iterations", "final_loss", "psnr", "ssim", "seconds", "image"]
LOSS_COLUMNS = ["norm", "lr", "alpha", "iteration", "loss"]


@dataclass(frozen=True)
class Setting:
    lr: float
    alpha: float


@dataclass
class Solution:
    """One setting's result: the denoised image (C, H, W), unclamped as the descent left it, and its losses."""

    setting: Setting
    image: torch.Tensor
    losses: list[float]  # before each step, then after the last: iterations + 1 values
    seconds: float  # its own solve, or its equal share of the batch it was solved in


# ------------------------------------------------------------------------------------------- the model

def get_spatial_gradients(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(dJ/dx, dJ/dy) of (N, C, H, W) images: forward differences with zero padding, per channel.

    This is the course's definition, a 3x3 convolution with -1 at the centre and +1 to the right (x) or below
    (y), written as shifted differences: on a CPU that is several times faster than ``conv2d`` with
    single-channel kernels, and the tests check that both agree.
    """
    _check_batch(images, "images")
    right = F.pad(images[..., :, 1:], (0, 1))  # J(x+1, y), zero beyond the last column
    below = F.pad(images[..., 1:, :], (0, 0, 0, 1))  # J(x, y+1), zero beyond the last row
    return right - images, below - images


def denoising_loss(noisy: torch.Tensor, denoised: torch.Tensor, alpha, norm: str) -> torch.Tensor:
    """The loss of each image of the batch ``denoised`` (N, C, H, W): a tensor of N values.

    ``norm`` L1: ``||I-J||_1 + alpha (||dJ/dx||_1 + ||dJ/dy||_1)``; L2: the same with squared L2 norms.
    ``noisy`` is (N, C, H, W) or (1, C, H, W) (shared by the batch); ``alpha`` a number or one per image.
    """
    _check_batch(noisy, "noisy image")
    _check_batch(denoised, "denoised images")
    if noisy.shape[1:] != denoised.shape[1:]:
        raise InputError(f"noisy image {tuple(noisy.shape[1:])} and denoised images {tuple(denoised.shape[1:])} "
                         f"differ in size (channels, height, width)")
    penalty = _penalty(norm)
    dx, dy = get_spatial_gradients(denoised)
    alpha = torch.as_tensor(alpha, dtype=denoised.dtype, device=denoised.device)
    return penalty(noisy - denoised) + alpha * (penalty(dx) + penalty(dy))


def _penalty(norm: str):
    """Per-image sum of |t| (L1) or t**2 (L2), i.e. the norm or the squared norm of each image."""
    if norm == "L1":
        return lambda t: t.abs().flatten(1).sum(dim=1)
    if norm == "L2":
        return lambda t: t.square().flatten(1).sum(dim=1)
    raise InputError(f"unknown norm {norm!r}; expected one of {', '.join(NORMS)}")


# ------------------------------------------------------------------------------------------- the descent

def descend(noisy: torch.Tensor, settings: list[Setting], norm: str, iterations: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the handout's descent for every setting at once, one batch element each.

    ``noisy`` is (1, C, H, W). Returns the final images (N, C, H, W) and the losses (iterations + 1, N): the
    loss before each step and after the last. Each element's gradient is normalised by its own L2 norm over
    its whole image, so the elements move exactly as they would alone.
    """
    check_grid(settings, iterations)
    _check_batch(noisy, "noisy image")
    if noisy.shape[0] != 1:
        raise InputError(f"noisy image: expected one image, (1, C, H, W), got {tuple(noisy.shape)}")
    count = len(settings)
    lr = torch.tensor([s.lr for s in settings], dtype=noisy.dtype, device=noisy.device).view(count, 1, 1, 1)
    alpha = torch.tensor([s.alpha for s in settings], dtype=noisy.dtype, device=noisy.device)
    denoised = noisy.expand(count, -1, -1, -1).clone().requires_grad_(True)
    losses = torch.empty(iterations + 1, count, dtype=noisy.dtype, device=noisy.device)
    for step in range(iterations):
        loss = denoising_loss(noisy, denoised, alpha, norm)
        losses[step] = loss.detach()
        loss.sum().backward()  # the sum's gradient holds each element's own gradient, as they are independent
        with torch.no_grad():  # J -= lr * g / |g|, in place: no image-sized temporaries
            denoised.addcmul_(denoised.grad, _step_scale(denoised.grad, lr), value=-1)
        denoised.grad = None
    with torch.no_grad():
        losses[iterations] = denoising_loss(noisy, denoised, alpha, norm)
    return denoised.detach(), losses


def _step_scale(gradient: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
    """lr / |g| per batch element (shaped like ``lr``), |g| the L2 norm of its gradient over its whole image.
    A zero gradient (J already optimal, e.g. alpha 0 at J = I) gets a zero step instead of 0 * inf = nan."""
    lengths = gradient.flatten(1).norm(dim=1).view_as(lr)
    return torch.where(lengths > 0, lr / lengths, torch.zeros_like(lr))


def solve_grid(noisy: torch.Tensor, settings: list[Setting], norm: str, iterations: int,
               solver: str = "batched") -> list[Solution]:
    """Denoise ``noisy`` (1, C, H, W) with every setting, as one batch or one setting at a time."""
    if solver == "batched":
        return _solve_batch(noisy, settings, norm, iterations)
    if solver == "loop":
        return [solution for setting in settings for solution in _solve_batch(noisy, [setting], norm, iterations)]
    raise InputError(f"unknown solver {solver!r}; expected one of {', '.join(SOLVERS)}")


def _solve_batch(noisy, settings, norm, iterations) -> list[Solution]:
    start = time.perf_counter()
    images, losses = descend(noisy, settings, norm, iterations)
    losses = losses.cpu().T.tolist()  # also waits for a GPU to finish, so the time below is real
    seconds = (time.perf_counter() - start) / len(settings)
    log.info("%s: %d setting(s), %d iterations in %.1f s", norm, len(settings), iterations, seconds * len(settings))
    return [Solution(setting, image, setting_losses, seconds)
            for setting, image, setting_losses in zip(settings, images, losses)]


# ------------------------------------------------------------------------------------------- checks and images

def check_grid(settings: list[Setting], iterations: int) -> None:
    """Refuse what the schema also refuses, for callers that bypass the config: an empty grid, lr <= 0,
    alpha < 0, fewer than one iteration."""
    if not settings:
        raise InputError("denoise: the grid is empty; give at least one lr and one alpha")
    for setting in settings:
        if not setting.lr > 0:
            raise InputError(f"denoise: lr must be positive, got {setting.lr}")
        if not setting.alpha >= 0:
            raise InputError(f"denoise: alpha must be zero or positive, got {setting.alpha}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise InputError(f"denoise: iterations must be a positive integer, got {iterations!r}")


def grid(lrs: list[float], alphas: list[float]) -> list[Setting]:
    """Every (lr, alpha) pair, lr by lr and alpha within lr: the rows and columns of a contact sheet."""
    return [Setting(float(lr), float(alpha)) for lr in lrs for alpha in alphas]


def to_tensor(pixels: np.ndarray, device: str = "cpu") -> torch.Tensor:
    """(H, W, 3) uint8 pixels as a (1, 3, H, W) float32 tensor in 0..1."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InputError(f"expected an (H, W, 3) uint8 RGB image, got shape {pixels.shape} and dtype {pixels.dtype}")
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].to(device=device, dtype=torch.float32) / 255


def to_pixels(image: torch.Tensor) -> np.ndarray:
    """A (3, H, W) image in 0..1 as (H, W, 3) uint8. The descent does not clamp (nor does the handout); values
    that strayed outside 0..1 are clipped here, where an 8-bit image needs it."""
    scaled = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8)
    return scaled.permute(1, 2, 0).cpu().numpy()


def _check_batch(images: torch.Tensor, what: str) -> None:
    if not torch.is_tensor(images) or images.dim() != 4 or not torch.is_floating_point(images):
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise InputError(f"{what}: expected a floating-point (N, C, H, W) tensor, got {shape}")


def check_reference(noisy: np.ndarray, clean: np.ndarray | None, noisy_path, clean_path) -> None:
    """The clean reference, when there is one, must match the noisy image and be large enough for SSIM."""
    if clean is None:
        return
    if clean.shape != noisy.shape:
        raise InputError(f"{clean_path} is {clean.shape[1]}x{clean.shape[0]} but {noisy_path} is "
                         f"{noisy.shape[1]}x{noisy.shape[0]}: the clean reference must be the same photo, same size")
    if min(clean.shape[:2]) < quality.WINDOW_SIZE:
        raise InputError(f"{clean_path}: PSNR/SSIM need images of at least {quality.WINDOW_SIZE}x"
                         f"{quality.WINDOW_SIZE} pixels; set data.parrot.clean to null to go without")


# ------------------------------------------------------------------------------------------- tables and choices

def result_row(norm: str, solution: Solution, pixels: np.ndarray, reference: torch.Tensor | None,
               image_path: str) -> dict:
    """One setting's row of ``RESULT_COLUMNS``. Quality is measured on the saved 8-bit image, which is what
    anyone can recompute from the PNG."""
    measured = quality.measure(to_tensor(pixels)[0], None if reference is None else reference[0])
    return {"norm": norm, "lr": solution.setting.lr, "alpha": solution.setting.alpha,
            "iterations": len(solution.losses) - 1, "final_loss": solution.losses[-1], **measured,
            "seconds": solution.seconds, "image": image_path}


def loss_rows(norm: str, solutions: list[Solution]) -> list[dict]:
    """The loss curve of every setting, long format (``LOSS_COLUMNS``)."""
    return [{"norm": norm, "lr": solution.setting.lr, "alpha": solution.setting.alpha, "iteration": iteration,
             "loss": loss}
            for solution in solutions for iteration, loss in enumerate(solution.losses)]


def summarise(rows: list[dict], noisy_quality: dict) -> dict:
    """Which setting of each norm did best, and which norm did better, from the rows of every norm.

    With a clean reference "best" means highest PSNR. Without one there is no judging: the grid's centre
    setting (middle lr, middle alpha) is named instead, and ``criterion`` says so.
    """
    norms = list(dict.fromkeys(row["norm"] for row in rows))
    has_reference = all(row["psnr"] is not None for row in rows)
    pick = _highest_psnr if has_reference else _grid_centre
    best = {norm: pick([row for row in rows if row["norm"] == norm]) for norm in norms}
    summary = {"criterion": "highest PSNR against the clean reference" if has_reference
               else "no clean reference, so no judged best: the grid's centre setting",
               "noisy": noisy_quality, "best": best, "better_norm": None}
    if has_reference:
        for row in best.values():
            row["psnr_gain_db"] = row["psnr"] - noisy_quality["psnr"]
        if len(norms) > 1:
            summary["better_norm"] = max(norms, key=lambda norm: best[norm]["psnr"])
    return summary


def _highest_psnr(rows: list[dict]) -> dict:
    return dict(max(rows, key=lambda row: row["psnr"]))


def _grid_centre(rows: list[dict]) -> dict:
    lrs = sorted({row["lr"] for row in rows})
    alphas = sorted({row["alpha"] for row in rows})
    lr, alpha = lrs[(len(lrs) - 1) // 2], alphas[(len(alphas) - 1) // 2]
    return dict(next(row for row in rows if row["lr"] == lr and row["alpha"] == alpha))
