"""The CIFAR-10 splits as a torch ``Dataset`` and the training loader over it.

Images stay uint8 (32, 32, 3) all the way into the batch: converting and augmenting them is the augmentation's
job (``torchbasics.augment``), done per batch, so that a batched backend can take it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .cifar10 import SPLITS, load_split
from .errors import InputError


@dataclass
class Split:
    X: np.ndarray  # (n, 32, 32, 3) uint8
    y: np.ndarray  # (n,) int64
    label_names: list[str]
    start: int  # index of the split's first image in the npz, to name images by their npz index


def load_splits(npz_path: str | Path, split_config: dict, names=SPLITS) -> dict[str, Split]:
    """The named splits of the prepared npz."""
    splits = {}
    for name in names:
        X, y, label_names = load_split(npz_path, split_config, name)
        splits[name] = Split(X=X, y=y, label_names=label_names, start=int(split_config[name][0]))
    return splits


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


def training_loader(dataset: CifarImages, batch_size: int, generator: torch.Generator) -> DataLoader:
    """Shuffled batches (uint8 images (B, 32, 32, 3), int64 labels) in an order drawn from ``generator`` alone.

    No worker processes: the batches are cheap slices of an in-memory array, and the augmentation runs in the
    training loop, so workers would only add start-up time and a second source of ordering.
    """
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator, num_workers=0)
