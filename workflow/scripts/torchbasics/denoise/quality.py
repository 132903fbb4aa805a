"""Image quality against a clean reference: PSNR and the standard SSIM, for images scaled to 0..1.

SSIM follows Wang et al. (2004): an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1,
local statistics only where the window fits inside the image ("valid"), the map averaged per channel and the
channels averaged. Images are (C, H, W) or batched (N, C, H, W) tensors; batched inputs give one value each.
Both metrics compute in float64: SSIM's variances are differences of near-equal means, which float32 blurs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from torchbasics.core.errors import InputError

WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
K1, K2 = 0.01, 0.03
DATA_RANGE = 1.0


def psnr(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, one value per image (a 0-d tensor for a single image)."""
    images, reference, batched = _as_batch(images, reference)
    mse = ((images - reference) ** 2).flatten(1).mean(dim=1)
    values = 10 * torch.log10(DATA_RANGE**2 / mse)  # identical images give +inf, as they should
    return values if batched else values[0]


def ssim(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean structural similarity, one value per image (a 0-d tensor for a single image)."""
    images, reference, batched = _as_batch(images, reference)
    if min(images.shape[-2:]) < WINDOW_SIZE:
        raise InputError(
            f"SSIM needs images of at least {WINDOW_SIZE}x{WINDOW_SIZE} pixels, got "
            f"{images.shape[-1]}x{images.shape[-2]}"
        )
    channels = images.shape[1]
    profile = _gaussian_profile(images.device)
    down = profile.view(1, 1, WINDOW_SIZE, 1).expand(channels, 1, -1, -1)
    across = profile.view(1, 1, 1, WINDOW_SIZE).expand(channels, 1, -1, -1)

    def local_mean(t: torch.Tensor) -> torch.Tensor:
        # The 2-D Gaussian window is the outer product of its 1-D profile, so filtering down the columns and then
        # along the rows weighs 2 x 11 pixels each instead of 11 x 11. No padding: only windows inside the image.
        return F.conv2d(F.conv2d(t, down, groups=channels), across, groups=channels)

    mu_x, mu_y = local_mean(images), local_mean(reference)
    var_x = local_mean(images * images) - mu_x**2
    var_y = local_mean(reference * reference) - mu_y**2
    cov_xy = local_mean(images * reference) - mu_x * mu_y
    c1, c2 = (K1 * DATA_RANGE) ** 2, (K2 * DATA_RANGE) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    values = ssim_map.mean(dim=(2, 3)).mean(dim=1)
    return values if batched else values[0]


def measure(image: torch.Tensor, reference: torch.Tensor | None) -> dict[str, float | None]:
    """PSNR and SSIM of one (C, H, W) image, or None for both when there is no reference to measure against."""
    if reference is None:
        return {"psnr": None, "ssim": None}
    return {"psnr": psnr(image, reference).item(), "ssim": ssim(image, reference).item()}


def _gaussian_profile(device) -> torch.Tensor:
    """The (11,) float64 1-D Gaussian, normalised to sum 1: its outer product with itself is the 11x11 window."""
    offsets = torch.arange(WINDOW_SIZE, dtype=torch.float64) - (WINDOW_SIZE - 1) / 2
    profile = torch.exp(-(offsets**2) / (2 * WINDOW_SIGMA**2))
    return (profile / profile.sum()).to(device)


def _as_batch(images: torch.Tensor, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Both as float64 (N, C, H, W) (a single reference serves a whole batch), and whether ``images`` was batched."""
    if images.dim() not in (3, 4) or reference.dim() not in (3, 4):
        raise InputError(
            f"quality metrics take (C, H, W) or (N, C, H, W) images, got shapes "
            f"{tuple(images.shape)} and {tuple(reference.shape)}"
        )
    batched = images.dim() == 4
    images = images if batched else images[None]
    reference = reference if reference.dim() == 4 else reference[None]
    if images.shape[1:] != reference.shape[1:]:
        raise InputError(
            f"image and reference differ in size: {tuple(images.shape[1:])} vs "
            f"{tuple(reference.shape[1:])} (channels, height, width)"
        )
    return images.double(), reference.double(), batched
