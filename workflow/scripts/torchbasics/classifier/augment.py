"""Training augmentation behind one small interface, so that its implementation can change under the loop.

The interface (``Augmentation``) takes a whole batch of uint8 images (B, 32, 32, 3) and a ``torch.Generator``,
and returns float32 images (B, 3, 32, 32) in [0, 1]. The training loop only ever calls that: this module's
``TorchvisionAugmentation`` is the reference, ``batched_augment.BatchedAugmentation`` the fast path, and
``train.DATA_PATHS`` says which one each implementation uses. All randomness comes from the generator passed
in: the same generator state gives the same batch, which is what makes training repeatable and resumable.

Validation and test images get ToTensor only: ``torchbasics.core.tensors.images_to_tensor``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import torch

if TYPE_CHECKING:
    from torchvision import transforms

# The assignment's ranges. RandomAffine and ColorJitter draw uniformly from them; the flip has probability 0.5.
FLIP_PROBABILITY = 0.5
ROTATION_DEGREES = (-5.0, 5.0)
SCALE_RANGE = (0.8, 1.2)
BRIGHTNESS_RANGE = (0.8, 1.2)
SATURATION_RANGE = (0.8, 1.2)


class Augmentation(Protocol):
    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """uint8 (B, 32, 32, 3) -> augmented float32 (B, 3, 32, 32) in [0, 1], drawing only from ``generator``."""
        ...

    def for_epoch(
        self, generator: torch.Generator, batch_sizes: list[int], device
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """The same, for an epoch's batches of ``batch_sizes`` called in order: the numbers of calling the
        augmentation on each batch with ``generator``, however the implementation draws them."""
        ...


def training_transform() -> transforms.Compose:
    """The assignment's per-image training transform, exactly as specified (torchvision's defaults otherwise)."""
    # Imported here, not with the module: torchvision's import is slow, and the default data path does not use it.
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.ToTensor(),
            transforms.RandomHorizontalFlip(p=FLIP_PROBABILITY),
            transforms.RandomAffine(degrees=ROTATION_DEGREES, scale=SCALE_RANGE),
            transforms.ColorJitter(brightness=BRIGHTNESS_RANGE, saturation=SATURATION_RANGE),
        ]
    )


class TorchvisionAugmentation:
    """The reference implementation: torchvision's transforms applied image by image, on the CPU.

    torchvision's random transforms draw from torch's global RNG and take no generator, so each batch runs under
    a forked global RNG seeded from ``generator``: the result depends on the generator alone, and the global RNG
    (which, for one, initialises weights) is left as it was.
    """

    def __init__(self) -> None:
        self.transform = training_transform()

    def for_epoch(
        self, generator: torch.Generator, batch_sizes: list[int], device
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        return lambda images: self(images, generator)  # on the CPU, batch by batch: nothing to upload

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        batch_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(batch_seed)
            return torch.stack([self.transform(image) for image in images.numpy()])
