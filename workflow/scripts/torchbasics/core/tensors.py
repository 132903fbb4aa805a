"""uint8 images to float tensors, as torchvision's ToTensor converts them: one conversion for every stage."""

from __future__ import annotations

import numpy as np
import torch


def images_to_tensor(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (B, H, W, C) -> float32 (B, C, H, W) in [0, 1], on the device the images are on."""
    batch = torch.as_tensor(images)
    return batch.permute(0, 3, 1, 2).to(torch.float32).div_(255)
