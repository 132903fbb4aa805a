"""The two sources of training batches over a CIFAR-10 split (``cifar10.Split``).

Images stay uint8 (32, 32, 3) all the way into the batch: converting and augmenting them is the augmentation's
job (``torchbasics.classifier.augment``), done per batch. Both sources yield the same batches in the same order for the
same generator (``shuffled_order``):

* ``CifarImages``: a torch ``Dataset`` read by a ``DataLoader`` (the assignment's way), batches on the CPU;
* ``DeviceImages``: the split as one uint8 tensor on the training device, each batch one indexing operation,
  for the batched augmentation, which then never leaves the device.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from torchbasics.core.errors import InputError


class CifarImages(Dataset):
    """(image, label) pairs of one split: the image a uint8 tensor (32, 32, 3), the label an int."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        if len(X) != len(y):
            raise InputError(f"{len(X)} images but {len(y)} labels")
        self.X = X
        self.y = y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.X[index]), int(self.y[index])

    def batches(self, batch_size: int, generator: torch.Generator):
        return training_loader(self, batch_size, generator)


def shuffled_order(n: int, generator: torch.Generator) -> torch.Tensor:
    """An epoch's image order, drawn from ``generator`` alone (the same for both sources of batches)."""
    return torch.randperm(n, generator=generator)


class DeviceImages:
    """One split as a uint8 tensor (n, 32, 32, 3) and its labels, both on ``device``."""

    def __init__(self, X: np.ndarray, y: np.ndarray, device: str) -> None:
        if len(X) != len(y):
            raise InputError(f"{len(X)} images but {len(y)} labels")
        self.X = torch.from_numpy(X).to(device)
        self.y = torch.from_numpy(y).to(device)

    def __len__(self) -> int:
        return len(self.y)

    def batches(self, batch_size: int, generator: torch.Generator):
        """Shuffled (images, labels) batches on the device, in the DataLoader's order for this generator."""
        order = shuffled_order(len(self), generator).to(self.X.device)
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            yield self.X[index], self.y[index]


def training_loader(dataset: CifarImages, batch_size: int, generator: torch.Generator) -> DataLoader:
    """Shuffled batches (uint8 images (B, 32, 32, 3), int64 labels) in an order drawn from ``generator`` alone.

    The order is drawn up front and handed to the DataLoader as its sampler, rather than letting the DataLoader
    shuffle, because its iterator also draws seeds of its own from the generator. No worker processes: the
    batches are cheap slices of an in-memory array, and the augmentation runs in the training loop, so workers
    would only add start-up time and a second source of ordering.
    """
    order = shuffled_order(len(dataset), generator).tolist()
    return DataLoader(dataset, batch_size=batch_size, sampler=order, num_workers=0)
