"""Reading the parrot images as 8-bit RGB, converting what can be converted and refusing the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from torchbasics.core.errors import InputError
from torchbasics.core.io import atomic_path

MIN_SIDE = 8  # smaller than this, the 3x3 gradient stencils and SSIM windows say nothing useful


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as (H, W, 3) uint8.

    Grey (8 or 16 bit), palette and CMYK images are converted; 16-bit values are scaled to 8 bits;
    an alpha channel is dropped when fully opaque and refused otherwise (there is no right background
    to composite over); other modes (32-bit integer or float) are refused.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            pixels = _to_rgb(image, path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{path}: not a readable image (corrupt, truncated or unknown format: {error})") from error
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise InputError(f"{path}: image is {width}x{height}; both sides must be at least {MIN_SIDE} pixels")
    return pixels


def _to_rgb(image, path) -> np.ndarray:
    mode = image.mode
    if mode in ("RGB", "L", "P", "CMYK", "YCbCr", "1"):
        if mode == "P" and "transparency" in image.info:
            image = image.convert("RGBA")
            return _drop_opaque_alpha(np.asarray(image), path)
        return np.asarray(image.convert("RGB"))
    if mode in ("RGBA", "LA", "PA"):
        return _drop_opaque_alpha(np.asarray(image.convert("RGBA")), path)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        grey = np.asarray(image, dtype=np.uint16).astype(np.float64)
        grey8 = np.round(grey / 257.0).astype(np.uint8)  # 65535 -> 255, exactly proportional
        return np.repeat(grey8[:, :, None], 3, axis=2)
    raise InputError(f"{path}: image mode {mode!r} is not supported; save it as 8-bit RGB (or grey) PNG")


def _drop_opaque_alpha(rgba: np.ndarray, path) -> np.ndarray:
    if (rgba[:, :, 3] != 255).any():
        raise InputError(f"{path}: image has transparent pixels; flatten it onto a background and save it as RGB")
    return np.ascontiguousarray(rgba[:, :, :3])


def save_png(pixels: np.ndarray, target: str | Path) -> None:
    """Write (H, W, 3) uint8 pixels as PNG, atomically."""
    from PIL import Image

    with atomic_path(target, suffix=".png") as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")


def prepare(source_file: str | Path, target: str | Path) -> tuple[int, int]:
    """Validate and convert one parrot image to 8-bit RGB PNG; returns (width, height)."""
    pixels = load_rgb(source_file)
    save_png(pixels, target)
    return pixels.shape[1], pixels.shape[0]
