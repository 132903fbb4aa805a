"""Where each denoising norm wins: the quality of every denoised image on the clean image's edges and in its flat
areas, beside the quality over the whole image.

Total-variation denoising flattens noise but also rounds off edges, and each norm trades the two differently;
one PSNR over the whole image hides which norm keeps the edges. The regions come from the CLEAN
image, so every image (the noisy input and each denoised one) is judged on the same pixels.

Torch-free on purpose: it reads PNGs and the results tables, and the gradients are a few numpy differences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from torchbasics.core.errors import InputError
from torchbasics.core.io import read_table, write_table
from torchbasics.data import images

REGION_COLUMNS = ["norm", "lr", "alpha", "region", "pixels", "psnr", "mean_abs_error"]
REGION_NUMBERS = ["lr", "alpha", "pixels", "psnr", "mean_abs_error"]
REGIONS = ("edges", "flat", "all")
NOISY = "noisy"  # the norm column's name for the noisy input, measured beside the denoised images

# Edges are the top decile of the clean image's gradient magnitude: few enough to be its outlines, not its texture.
EDGE_PERCENTILE = 90
# Flat areas are the lower half: where the clean image barely changes, so any structure left there is noise.
FLAT_PERCENTILE = 50
DATA_RANGE = 1.0  # PSNR's peak, for values scaled to 0..1 as quality.psnr has it


# ------------------------------------------------------------------------------------------- the regions


def scaled(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 as float64 in 0..1, divided in float32 first as ``tensors.images_to_tensor`` does, so that
    the "all" region's PSNR is the very number ``quality.psnr`` gives for the same image."""
    return (pixels.astype(np.float32) / np.float32(255)).astype(np.float64)


def forward_differences(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dJ/dx, dJ/dy) of an (H, W, C) image: the course's forward differences with zero padding, per channel.

    The numpy twin of ``denoise.get_spatial_gradients`` (which takes (N, C, H, W) tensors): the right (x) or
    lower (y) neighbour minus the pixel, the neighbour beyond the last column or row being zero.
    """
    right = np.zeros_like(image)
    right[:, :-1] = image[:, 1:]
    below = np.zeros_like(image)
    below[:-1] = image[1:]
    return right - image, below - image


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """(H, W): per pixel, sqrt(sum over the channels of dx^2 + dy^2), the length of the pixel's six forward
    differences (x and y of R, G and B). Summing the squares before the root counts an edge seen in any channel,
    a colour edge of equal brightness included, and an edge seen in all three more."""
    dx, dy = forward_differences(image)
    return np.sqrt((dx**2 + dy**2).sum(axis=2))


def region_masks(clean: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean (H, W) masks of the clean (H, W, 3) image in 0..1: ``edges`` (gradient magnitude at or above its
    90th percentile), ``flat`` (at or below its median) and ``all``. Ties at a threshold all join the region."""
    magnitude = gradient_magnitude(clean)
    return {
        "edges": magnitude >= np.percentile(magnitude, EDGE_PERCENTILE),
        "flat": magnitude <= np.percentile(magnitude, FLAT_PERCENTILE),
        "all": np.ones(magnitude.shape, dtype=bool),
    }


# ------------------------------------------------------------------------------------------- the quality


def region_quality(image: np.ndarray, clean: np.ndarray, masks: dict[str, np.ndarray]) -> list[dict]:
    """Per region of ``masks``: its pixel positions, and the PSNR (dB) and mean absolute error of ``image``
    against ``clean`` over those pixels and all channels. Both images (H, W, C) in 0..1; an exact region's PSNR
    is +inf."""
    rows = []
    for region, mask in masks.items():
        errors = image[mask] - clean[mask]  # (pixels, C)
        mse = float(np.mean(errors**2))
        rows.append(
            {
                "region": region,
                "pixels": int(mask.sum()),
                "psnr": float("inf") if mse == 0 else float(10 * np.log10(DATA_RANGE**2 / mse)),
                "mean_abs_error": float(np.mean(np.abs(errors))),
            }
        )
    return rows


def region_table(
    clean_path: str | Path, noisy_path: str | Path, results: pd.DataFrame, image_paths: list[str]
) -> pd.DataFrame:
    """Every region's quality (``REGION_COLUMNS``) of the noisy input (norm "noisy", no lr or alpha) and of each
    denoised image of ``results`` (rows of ``denoise_files.RESULT_COLUMNS``, which name each setting's image).

    ``image_paths`` are the denoised images the caller was given: the results must name exactly these, so that
    no stale image and no unlisted setting slips in.
    """
    _check_results_name_the_images(results, image_paths)
    clean_pixels = images.load_rgb(clean_path)
    clean = scaled(clean_pixels)
    masks = region_masks(clean)
    measured = [({"norm": NOISY, "lr": None, "alpha": None}, noisy_path)]
    measured += [
        ({"norm": row.norm, "lr": row.lr, "alpha": row.alpha}, row.image) for row in results.itertuples(index=False)
    ]
    rows = []
    for setting, path in measured:
        pixels = images.load_rgb(path)
        _check_same_size(pixels, clean_pixels, path, clean_path)
        rows += [{**setting, **quality} for quality in region_quality(scaled(pixels), clean, masks)]
    return pd.DataFrame(rows, columns=REGION_COLUMNS)


def _check_results_name_the_images(results: pd.DataFrame, image_paths: list[str]) -> None:
    named, given = {str(path) for path in results["image"]}, {str(path) for path in image_paths}
    unlisted, unmeasured = sorted(named - given), sorted(given - named)
    if unlisted:
        raise InputError(f"the denoising results name image(s) not among the denoised images: {', '.join(unlisted)}")
    if unmeasured:
        raise InputError(f"no denoising result names the denoised image(s) {', '.join(unmeasured)}")


def _check_same_size(pixels: np.ndarray, clean: np.ndarray, path, clean_path) -> None:
    if pixels.shape != clean.shape:
        raise InputError(
            f"{path} is {pixels.shape[1]}x{pixels.shape[0]} but the clean original {clean_path} is "
            f"{clean.shape[1]}x{clean.shape[0]}: regions of one cannot be measured on the other"
        )


# ------------------------------------------------------------------------------------------- the file


def write_regions(path: str | Path, table: pd.DataFrame) -> None:
    """One row per (image, region), ``REGION_COLUMNS``; the noisy input's lr and alpha stay empty."""
    write_table(path, table[REGION_COLUMNS])


def read_regions(path: str | Path) -> pd.DataFrame:
    return read_table(path, REGION_COLUMNS, "a denoising regions table", numbers=REGION_NUMBERS)
