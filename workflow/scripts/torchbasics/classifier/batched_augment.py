"""The assignment's training augmentation on whole batches, on the training device.

Same distributions as the reference pipeline (``augment.training_transform``: ToTensor, RandomHorizontalFlip,
RandomAffine(degrees (-5, 5), scale (0.8, 1.2)), ColorJitter(brightness (0.8, 1.2), saturation (0.8, 1.2))), but
each op runs once per batch with per-sample parameters instead of once per image in Python. Every op mirrors
torchvision's functional op on tensors (the tests compare them), so the two backends differ only in how the
random parameters are drawn from the generator.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from torchbasics.classifier.augment import (
    BRIGHTNESS_RANGE,
    FLIP_PROBABILITY,
    ROTATION_DEGREES,
    SATURATION_RANGE,
    SCALE_RANGE,
)
from torchbasics.core.tensors import images_to_tensor

GREY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale


@dataclass
class AugmentParams:
    """Per-sample parameters, each a tensor of length B."""

    flip: torch.Tensor  # bool
    angle: torch.Tensor  # degrees
    scale: torch.Tensor
    brightness: torch.Tensor
    saturation: torch.Tensor
    brightness_first: torch.Tensor  # bool: ColorJitter applies its ops in a random order

    def to(self, device) -> AugmentParams:
        return AugmentParams(*(upload(getattr(self, name), device) for name in self.__dataclass_fields__))

    def split(self, sizes: list[int]) -> list[AugmentParams]:
        """Consecutive slices of ``sizes`` samples each (views: nothing is copied)."""
        columns = [getattr(self, name).split(sizes) for name in self.__dataclass_fields__]
        return [AugmentParams(*batch) for batch in zip(*columns)]

    @classmethod
    def concatenate(cls, parts: list[AugmentParams]) -> AugmentParams:
        return cls(*(torch.cat([getattr(part, name) for part in parts]) for name in cls.__dataclass_fields__))


def upload(tensor: torch.Tensor, device) -> torch.Tensor:
    """``tensor`` on ``device``; to a GPU from page-locked memory and without waiting, so the host goes on queueing
    work (the copy is ordered before any kernel that reads it)."""
    device = torch.device(device)
    if device.type != "cuda" or tensor.device == device:
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def _uniform(n: int, low_high: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    low, high = low_high
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


def draw_params(n: int, generator: torch.Generator) -> AugmentParams:
    """Draw B samples' parameters on the CPU (a few hundred numbers), so they do not depend on the device."""
    return AugmentParams(
        flip=torch.rand(n, generator=generator) < FLIP_PROBABILITY,
        angle=_uniform(n, ROTATION_DEGREES, generator),
        scale=_uniform(n, SCALE_RANGE, generator),
        brightness=_uniform(n, BRIGHTNESS_RANGE, generator),
        saturation=_uniform(n, SATURATION_RANGE, generator),
        brightness_first=torch.rand(n, generator=generator) < 0.5,
    )


def draw_epoch_params(batch_sizes: list[int], generator: torch.Generator) -> AugmentParams:
    """Every batch's parameters of one epoch, drawn batch by batch in the order ``draw_params`` draws them (so the
    numbers are those of drawing per batch), in one tensor per parameter."""
    return AugmentParams.concatenate([draw_params(size, generator) for size in batch_sizes])


def horizontal_flip(images: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)


def affine(images: torch.Tensor, angle_degrees: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Rotation and scale about the image centre, nearest neighbour, filled with 0 (torchvision's F.affine).

    torchvision samples output pixel (x, y), in coordinates centred on the image with a half-pixel offset,
    from input pixel M^-1 (x, y), where M^-1 = [[cos, sin], [-sin, cos]] / scale, then normalises by half the
    width and height for grid_sample (align_corners=False). The same here, one matrix per sample.
    """
    batch, _, height, width = images.shape
    rotation = torch.deg2rad(angle_degrees.to(images.device, torch.float32))
    inverse_scale = 1.0 / scale.to(images.device, torch.float32)
    cos, sin = torch.cos(rotation) * inverse_scale, torch.sin(rotation) * inverse_scale
    # grid = [x, y, 1] @ theta^T with theta = M^-1 (2x3, no translation), divided by (w/2, h/2)
    theta_t = torch.zeros(batch, 3, 2, device=images.device)
    theta_t[:, 0, 0], theta_t[:, 1, 0] = cos, sin
    theta_t[:, 0, 1], theta_t[:, 1, 1] = -sin, cos
    theta_t /= _half_size(height, width, images.device)
    grid = _base_grid(height, width, images.device).expand(batch, -1, -1).bmm(theta_t)
    return F.grid_sample(
        images, grid.view(batch, height, width, 2), mode="nearest", padding_mode="zeros", align_corners=False
    )


# The constants of every step are made once per device (a tensor from Python numbers is a copy to the GPU that
# the host waits for); nothing writes to them.
@functools.cache
def _half_size(height: int, width: int, device: torch.device) -> torch.Tensor:
    return torch.tensor([0.5 * width, 0.5 * height], device=device)


@functools.cache
def _grey_weights(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(GREY_WEIGHTS, device=device, dtype=dtype).view(1, 3, 1, 1)


@functools.cache
def _base_grid(height: int, width: int, device: torch.device) -> torch.Tensor:
    """(1, H*W, 3) pixel centres [x, y, 1] relative to the image centre, as torchvision's _gen_affine_grid."""
    xs = torch.linspace(-width * 0.5 + 0.5, width * 0.5 - 0.5, steps=width, device=device)
    ys = torch.linspace(-height * 0.5 + 0.5, height * 0.5 - 0.5, steps=height, device=device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y, torch.ones_like(grid_x)], dim=-1).view(1, height * width, 3)


def adjust_brightness(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (images * factor.to(images).view(-1, 1, 1, 1)).clamp_(0.0, 1.0)


def adjust_saturation(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend each image with its grey version: factor * image + (1 - factor) * grey, clamped to [0, 1]."""
    grey = (images * _grey_weights(images.device, images.dtype)).sum(dim=1, keepdim=True)
    factor = factor.to(images).view(-1, 1, 1, 1)
    return (factor * images + (1.0 - factor) * grey).clamp_(0.0, 1.0)


def color_jitter(
    images: torch.Tensor, brightness: torch.Tensor, saturation: torch.Tensor, brightness_first: torch.Tensor
) -> torch.Tensor:
    """Brightness and saturation in a per-sample random order (the order matters because of the clamping)."""
    first = brightness_first.view(-1, 1, 1, 1).to(images.device)
    after_one = torch.where(first, adjust_brightness(images, brightness), adjust_saturation(images, saturation))
    return torch.where(first, adjust_saturation(after_one, saturation), adjust_brightness(after_one, brightness))


def apply(images_uint8_nhwc: torch.Tensor, params: AugmentParams) -> torch.Tensor:
    params = params.to(images_uint8_nhwc.device)
    images = images_to_tensor(images_uint8_nhwc)
    images = horizontal_flip(images, params.flip)
    images = affine(images, params.angle, params.scale)
    return color_jitter(images, params.brightness, params.saturation, params.brightness_first)


class BatchedAugmentation:
    """The ``augment.Augmentation`` interface, batched: images stay on their device (CPU or GPU)."""

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return apply(images, draw_params(len(images), generator))

    def for_epoch(
        self, generator: torch.Generator, batch_sizes: list[int], device
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """The augmentation of an epoch's batches, in order: the epoch's parameters drawn up front and uploaded
        once, so that no step waits for a copy to the GPU. The same numbers as calling it batch by batch."""
        batches = iter(draw_epoch_params(batch_sizes, generator).to(device).split(batch_sizes))
        return lambda images: apply(images, next(batches))
