"""Part 1.2: total-variation denoising by gradient descent on the pixels, as the handout describes it.

J starts as a copy of the noisy image I and descends ``||I-J|| + alpha (||dJ/dx|| + ||dJ/dy||)`` in one of the
norms of ``torchbasics.denoise.norms``, each step moving J by ``lr`` along the loss gradient normalised to unit length.
Images are (N, C, H, W) float tensors scaled to 0..1; a grid of (lr, alpha) settings is solved one setting after
the other, with the gradient from autograd (the reference) or from its closed form in one fused step (the default).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from torchbasics.core.errors import InputError
from torchbasics.core.io import table_rows
from torchbasics.core.tensors import images_to_tensor
from torchbasics.denoise import quality
from torchbasics.denoise.grid import Setting
from torchbasics.denoise.norms import REGISTRY as NORM_REGISTRY
from torchbasics.denoise.norms import norm as registered_norm

log = logging.getLogger(__name__)

NORMS = tuple(NORM_REGISTRY)
# The fast path (the closed-form gradient, fused) and the reference it is tested against (autograd).
IMPLEMENTATIONS = ("fast", "reference")


@dataclass
class Solution:
    """One setting's result: the denoised image (C, H, W), unclamped as the descent left it, and its losses."""

    setting: Setting
    image: torch.Tensor
    losses: list[float]  # before each step, then after the last: iterations + 1 values
    seconds: float  # its own solve
    implementation: str  # which of IMPLEMENTATIONS computed it


# ------------------------------------------------------------------------------------------- the model


def get_spatial_gradients(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(dJ/dx, dJ/dy) of (N, C, H, W) images: forward differences with zero padding, per channel.

    This is the course's definition, a 3x3 convolution with -1 at the centre and +1 to the right (x) or below
    (y), written as shifted differences, which touch each pixel twice where ``conv2d`` with single-channel
    kernels does nine multiply-adds; the tests check that both agree.
    """
    _check_batch(images, "images")
    return _forward_differences(images)


def _forward_differences(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    right = F.pad(images[..., :, 1:], (0, 1))  # J(x+1, y), zero beyond the last column
    below = F.pad(images[..., 1:, :], (0, 0, 0, 1))  # J(x, y+1), zero beyond the last row
    return right - images, below - images


def _adjoint_x(values: torch.Tensor) -> torch.Tensor:
    """Dx^T of the forward difference along x: each value's left neighbour (zero in the first column) minus it."""
    return F.pad(values[..., :, :-1], (1, 0)) - values


def _adjoint_y(values: torch.Tensor) -> torch.Tensor:
    """Dy^T of the forward difference along y: each value's upper neighbour (zero in the first row) minus it."""
    return F.pad(values[..., :-1, :], (0, 0, 1, 0)) - values


def denoising_loss(noisy: torch.Tensor, denoised: torch.Tensor, alpha, norm: str) -> torch.Tensor:
    """The loss of each image of the batch ``denoised`` (N, C, H, W): a tensor of N values.

    ``norm`` names a registered norm, whose penalty phi makes ``sum phi(I-J) + alpha (sum phi(dJ/dx) + sum
    phi(dJ/dy))``.
    ``noisy`` is (N, C, H, W) or (1, C, H, W) (shared by the batch); ``alpha`` a number or one per image.
    """
    _check_pair(noisy, denoised)
    penalty = _penalty(norm)
    dx, dy = get_spatial_gradients(denoised)
    alpha = torch.as_tensor(alpha, dtype=denoised.dtype, device=denoised.device)
    return penalty(noisy - denoised) + alpha * (penalty(dx) + penalty(dy))


def _penalty(norm: str):
    """Per-image sum of phi(t): the norm, or the squared norm, of each image."""
    penalty = _penalty_of(norm)
    return lambda t: penalty(t).flatten(1).sum(dim=1)


def _penalty_of(norm: str):
    """phi, elementwise."""
    return registered_norm(norm).penalty


def _penalty_derivative(norm: str):
    """phi', elementwise."""
    return registered_norm(norm).derivative


# ------------------------------------------------------------------------------------------- the descent


def descend(
    noisy: torch.Tensor,
    setting: Setting,
    norm: str,
    iterations: int,
    implementation: str = "fast",
    compile: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the handout's descent for one setting: ``iterations`` steps of J -= lr * g / |g| from J = I.

    ``noisy`` is (1, C, H, W). Returns the final image (1, C, H, W) and the losses (iterations + 1,): the loss
    before each step and after the last. The ``reference`` implementation takes g from backpropagation; ``fast``
    takes it from ``closed_form_gradient``, the loss, the gradient and the step in one function, which
    ``compile`` decides to run under torch.compile (None: when the run is long enough to repay compiling).
    """
    check_grid([setting], iterations)
    _check_single_image(noisy)
    _penalty(norm)  # refuses an unknown norm before any work
    step = _choose_step(implementation, compile, iterations * noisy.numel())
    alpha = torch.tensor(setting.alpha, dtype=noisy.dtype, device=noisy.device)
    lr = torch.tensor(setting.lr, dtype=noisy.dtype, device=noisy.device)
    denoised = noisy.clone()
    losses = torch.empty(iterations + 1, dtype=noisy.dtype, device=noisy.device)
    for iteration in range(iterations):
        losses[iteration], denoised = step(noisy, denoised, alpha, lr, norm)
    with torch.no_grad():
        losses[iterations] = denoising_loss(noisy, denoised, alpha, norm)[0]
    return denoised, losses


def autograd_step(noisy, denoised, alpha, lr, norm: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One step with the gradient from backpropagation through ``denoising_loss``: (loss before, next J)."""
    denoised = denoised.detach().requires_grad_(True)
    loss = denoising_loss(noisy, denoised, alpha, norm)[0]
    loss.backward()
    with torch.no_grad():  # J -= lr * g / |g|, in place: no image-sized temporaries
        gradient = denoised.grad
        return loss.detach(), denoised.detach().addcmul_(gradient, _step_scale(gradient, lr), value=-1)


def closed_form_gradient(noisy: torch.Tensor, denoised: torch.Tensor, alpha, norm: str) -> torch.Tensor:
    """The loss gradient with respect to J, written out instead of backpropagated.

    With phi a norm's elementwise penalty: g = -phi'(I-J) + alpha (Dx^T phi'(Dx J) + Dy^T phi'(Dy J)), Dx and Dy
    the forward differences of ``get_spatial_gradients`` and Dx^T s at a pixel = s at its left neighbour (zero
    in the first column) - s there (likewise upwards for Dy^T). Where phi has a kink (|t| at t = 0), the norm's
    phi' takes the value torch's backward gives there (sign(0) = 0), so this equals autograd's gradient exactly.
    Shapes as for ``denoising_loss``.
    """
    _check_pair(noisy, denoised)
    return _gradient_of_parts(noisy - denoised, *_forward_differences(denoised), alpha, norm)


def _gradient_of_parts(misfit, dx, dy, alpha, norm: str) -> torch.Tensor:
    derivative = _penalty_derivative(norm)
    return -derivative(misfit) + alpha * (_adjoint_x(derivative(dx)) + _adjoint_y(derivative(dy)))


def fused_step(noisy, denoised, alpha, lr, norm: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One step with the closed-form gradient: (loss before, next J), for one image. Plain tensor code, so that
    torch.compile can fuse the loss, the gradient, its length and the update into a few passes over the image."""
    penalty = _penalty_of(norm)
    misfit, (dx, dy) = noisy - denoised, _forward_differences(denoised)
    # one sum of the per-pixel loss, not three: compiled, it then shares its pass over the image with |g|
    loss = (penalty(misfit) + alpha * (penalty(dx) + penalty(dy))).sum()
    gradient = _gradient_of_parts(misfit, dx, dy, alpha, norm)
    return loss, denoised - _step_scale(gradient, lr) * gradient


class CompiledFusedStep:
    """``fused_step`` under torch.compile, falling back to the eager ``fused_step`` (the same arithmetic) for
    good when compiling fails, e.g. on a machine without a working C++ compiler. Compiling happens at the first
    call and again for each new image size or norm; alpha and lr are tensors so that a new setting does not
    recompile."""

    def __init__(self, build=None):
        self._build = build or (lambda: torch.compile(fused_step, dynamic=False))
        self._compiled = None
        self.failed = False

    def __call__(self, *args):
        if not self.failed:
            try:
                if self._compiled is None:
                    self._compiled = self._build()
                return self._compiled(*args)
            except Exception as error:  # any failure to build: the eager step computes the same, only slower
                self.failed = True
                log.warning("torch.compile of the fused step failed, using the eager closed form: %s", error)
        return fused_step(*args)


_COMPILED_FUSED_STEP = CompiledFusedStep()  # one per process: compiled kernels are reused by every setting
# Compiling takes seconds (more with an empty cache): below this much work (pixels x iterations of one setting)
# the eager closed form finishes before the compiled one would have been built.
COMPILE_MIN_WORK = 1e9


def _choose_step(implementation: str, compile: bool | None, work: int):
    if implementation == "reference":
        return autograd_step
    if implementation != "fast":
        raise InputError(f"unknown implementation {implementation!r}; expected one of {', '.join(IMPLEMENTATIONS)}")
    if compile is None:
        compile = work >= COMPILE_MIN_WORK
    log.info("fused step: %s", "torch.compile (eager if compiling fails)" if compile else "eager")
    return _COMPILED_FUSED_STEP if compile else fused_step


def _step_scale(gradient: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
    """lr / |g|, |g| the L2 norm of the gradient over the whole image. A zero gradient (J already optimal, e.g.
    alpha 0 at J = I) gets a zero step instead of 0 * inf = nan."""
    length = torch.linalg.vector_norm(gradient)
    return torch.where(length > 0, lr / length, torch.zeros_like(lr))


def solve_grid(
    noisy: torch.Tensor,
    settings: list[Setting],
    norm: str,
    iterations: int,
    implementation: str = "fast",
    compile: bool | None = None,
) -> list[Solution]:
    """Denoise ``noisy`` (1, C, H, W) with every setting, one after the other (see ``descend``)."""
    check_grid(settings, iterations)
    solutions = [_solve_one(noisy, setting, norm, iterations, implementation, compile) for setting in settings]
    log.info(
        "%s: %d setting(s), %d iterations each, %s implementation, in %.1f s",
        norm,
        len(settings),
        iterations,
        implementation,
        sum(solution.seconds for solution in solutions),
    )
    return solutions


def _solve_one(noisy, setting, norm, iterations, implementation, compile) -> Solution:
    start = time.perf_counter()
    image, losses = descend(noisy, setting, norm, iterations, implementation, compile)
    losses = losses.tolist()  # also waits for a GPU to finish, so the time below is real
    seconds = time.perf_counter() - start
    log.info(
        "%s lr %g alpha %g, %s: %d iterations in %.1f s",
        norm,
        setting.lr,
        setting.alpha,
        implementation,
        iterations,
        seconds,
    )
    return Solution(setting, image[0], losses, seconds, implementation)


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


def to_tensor(pixels: np.ndarray, device: str = "cpu") -> torch.Tensor:
    """(H, W, 3) uint8 pixels as a (1, 3, H, W) float32 tensor in 0..1, each channel a contiguous plane.

    Contiguous, not the channels-last view ``images_to_tensor`` gives: the descent's differences between
    neighbouring pixels then read consecutive memory, and the compiled step is built for this one layout.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InputError(f"expected an (H, W, 3) uint8 RGB image, got shape {pixels.shape} and dtype {pixels.dtype}")
    return images_to_tensor(pixels[None]).contiguous().to(device)


def to_pixels(image: torch.Tensor) -> np.ndarray:
    """A (3, H, W) image in 0..1 as (H, W, 3) uint8. The descent does not clamp (nor does the handout); values
    that strayed outside 0..1 are clipped here, where an 8-bit image needs it."""
    scaled = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8)
    return scaled.permute(1, 2, 0).cpu().numpy()


def _check_pair(noisy: torch.Tensor, denoised: torch.Tensor) -> None:
    _check_batch(noisy, "noisy image")
    _check_batch(denoised, "denoised images")
    if noisy.shape[1:] != denoised.shape[1:]:
        raise InputError(
            f"noisy image {tuple(noisy.shape[1:])} and denoised images {tuple(denoised.shape[1:])} "
            f"differ in size (channels, height, width)"
        )


def _check_single_image(noisy: torch.Tensor) -> None:
    _check_batch(noisy, "noisy image")
    if noisy.shape[0] != 1:
        raise InputError(f"noisy image: expected one image, (1, C, H, W), got {tuple(noisy.shape)}")


def _check_batch(images: torch.Tensor, what: str) -> None:
    if not torch.is_tensor(images) or images.dim() != 4 or not torch.is_floating_point(images):
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise InputError(f"{what}: expected a floating-point (N, C, H, W) tensor, got {shape}")


def check_reference(noisy: np.ndarray, clean: np.ndarray | None, noisy_path, clean_path) -> None:
    """The clean reference, when there is one, must match the noisy image and be large enough for SSIM."""
    if clean is None:
        return
    if clean.shape != noisy.shape:
        raise InputError(
            f"{clean_path} is {clean.shape[1]}x{clean.shape[0]} but {noisy_path} is "
            f"{noisy.shape[1]}x{noisy.shape[0]}: the clean reference must be the same photo, same size"
        )
    if min(clean.shape[:2]) < quality.WINDOW_SIZE:
        raise InputError(
            f"{clean_path}: PSNR/SSIM need images of at least {quality.WINDOW_SIZE}x"
            f"{quality.WINDOW_SIZE} pixels; set data.parrot.clean to null to go without"
        )


# ------------------------------------------------------------------------------------------- tables and choices


def result_row(
    norm: str, solution: Solution, pixels: np.ndarray, reference: torch.Tensor | None, image_path: str
) -> dict:
    """One setting's row of ``denoise_files.RESULT_COLUMNS``. Quality is measured on the saved 8-bit image, which
    is what anyone can recompute from the PNG."""
    measured = quality.measure(to_tensor(pixels)[0], None if reference is None else reference[0])
    return {
        "norm": norm,
        "lr": solution.setting.lr,
        "alpha": solution.setting.alpha,
        "iterations": len(solution.losses) - 1,
        "implementation": solution.implementation,
        "final_loss": solution.losses[-1],
        **measured,
        "seconds": solution.seconds,
        "image": image_path,
    }


def loss_rows(norm: str, solutions: list[Solution]) -> list[dict]:
    """The loss curve of every setting, long format (``denoise_files.LOSS_COLUMNS``)."""
    return [
        {"norm": norm, "lr": solution.setting.lr, "alpha": solution.setting.alpha, "iteration": iteration, "loss": loss}
        for solution in solutions
        for iteration, loss in enumerate(solution.losses)
    ]


def summarise(results: pd.DataFrame, noisy_quality: dict) -> dict:
    """Which setting of each norm did best, and which norm did better, from the results of every norm.

    With a clean reference "best" means highest PSNR. Without one there is no judging: the grid's centre
    setting (middle lr, middle alpha) is named instead, and ``criterion`` says so.
    """
    norms = list(dict.fromkeys(results["norm"]))
    has_reference = bool(results["psnr"].notna().all())
    pick = _highest_psnr if has_reference else _grid_centre
    best = {norm: pick(results[results["norm"] == norm]) for norm in norms}
    summary = {
        "criterion": "highest PSNR against the clean reference"
        if has_reference
        else "no clean reference, so no judged best: the grid's centre setting",
        "noisy": noisy_quality,
        "best": best,
        "better_norm": None,
    }
    if has_reference:
        for row in best.values():
            row["psnr_gain_db"] = row["psnr"] - noisy_quality["psnr"]
        if len(norms) > 1:
            summary["better_norm"] = max(norms, key=lambda norm: best[norm]["psnr"])
    return summary


def _highest_psnr(results: pd.DataFrame) -> dict:
    # argmax takes the first of equal PSNRs: ties go to the earlier setting of the grid
    return table_rows(results.iloc[[int(results["psnr"].to_numpy(dtype=float).argmax())]])[0]


def _grid_centre(results: pd.DataFrame) -> dict:
    lrs = sorted(set(results["lr"]))
    alphas = sorted(set(results["alpha"]))
    lr, alpha = lrs[(len(lrs) - 1) // 2], alphas[(len(alphas) - 1) // 2]
    return table_rows(results[(results["lr"] == lr) & (results["alpha"] == alpha)].head(1))[0]
