"""The CIFAR-10 networks of part 2, batched prediction, and their checkpoints.

``PlainCNN`` is the assignment's table; ``ResidualCNN`` swaps its last two conv blocks for residual blocks. Both take
float images (B, 3, 32, 32) in [0, 1] and return class logits (B, 10). Which name builds which network is the
registry's business (``torchbasics.classifier.variants``).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from torchbasics.classifier.variants import variant as registered_variant
from torchbasics.core.errors import InputError
from torchbasics.core.io import atomic_path
from torchbasics.core.tensors import images_to_tensor

N_CLASSES = 10
# How the weights were made goes with them (device, precision, threads): the same config on the same hardware and
# thread count gives the same weights, and evaluation records where they came from.
CHECKPOINT_KEYS = ("variant", "model", "optimizer", "epoch", "seed", "config_digest", "device", "precision", "threads")


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """A 3x3 convolution whose padding of 1 keeps the spatial size, as the table asks."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)


def conv_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    # In place: the convolution's backward needs its input, not its output, so the output can be overwritten,
    # which spares allocating (and page-faulting) another full-size activation tensor per layer.
    return nn.Sequential(conv3x3(in_channels, out_channels), nn.ReLU(inplace=True))


def conv_pool_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """The table's "conv + ReLU, max-pool 2", with the pool applied before the ReLU.

    Max-pooling and ReLU commute exactly (both are monotone; max(relu(a), relu(b)) = relu(max(a, b))), so the
    outputs and the gradients are bit for bit those of the table's order (a test checks it), but the ReLU and
    its backward run on a quarter of the elements.
    """
    return nn.Sequential(conv3x3(in_channels, out_channels), nn.MaxPool2d(2), nn.ReLU(inplace=True))


def classifier_head(in_features: int) -> nn.Sequential:
    """Linear 100 + ReLU, linear 10, over the last block's ``in_features`` flattened features."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, 100), nn.ReLU(), nn.Linear(100, N_CLASSES))


class PlainCNN(nn.Module):
    """The assignment's table: conv 50, pool, conv 100, pool, conv 100, pool, conv 100, linear 100, linear 10.

    Every conv is 3x3 with padding 1 and is followed by a ReLU; the pools are 2x2 max-pools, so the spatial size
    goes 32 -> 16 -> 8 -> 4 and the head sees 100 x 4 x 4 features. Each pooled block pools before its ReLU,
    which computes the same numbers with less work (see ``conv_pool_relu``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_pool_relu(3, 50),
            conv_pool_relu(50, 100),
            conv_pool_relu(100, 100),
            conv_relu(100, 100),
        )
        self.head = classifier_head(100 * 4 * 4)  # 100 channels of 4x4, after three 2x2 max-pools

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


class ResidualBlock(nn.Module):
    """The handout's block: conv, ReLU, conv, add the block's input (the identity path), ReLU.

    Both convs keep the channel count and the spatial size, so the input can be added without a projection.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = conv3x3(channels, channels)
        self.conv2 = conv3x3(channels, channels)
        self.relu = nn.ReLU(inplace=True)  # on fresh tensors only (a conv's output, the sum), never on x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.relu(self.conv1(x))) + x)


class ResidualCNN(nn.Module):
    """The residual variant: the table's network with its last two conv blocks made residual blocks.

    Mapping to the table, block by block:

    ======================  ==========================================  ========================
    table                   here                                        size after
    ======================  ==========================================  ========================
    conv 50 + ReLU, pool    the same (pooled before the ReLU)           50 x 16 x 16
    conv 100 + ReLU, pool   the same (pooled before the ReLU)           100 x 8 x 8
    conv 100, pool          ResidualBlock(100) (two convs), the pool    100 x 4 x 4
    conv 100                ResidualBlock(100) (two convs)              100 x 4 x 4
    linear 100 + ReLU, 10   the same                                    10
    ======================  ==========================================  ========================

    Each of the two blocks has two 3x3 convs (the handout's two weight layers) where the table has one, so this
    variant has two more conv layers than ``PlainCNN``; the max-pool between the blocks is kept.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_pool_relu(3, 50),
            conv_pool_relu(50, 100),
            ResidualBlock(100),
            nn.MaxPool2d(2),
            ResidualBlock(100),
        )
        self.head = classifier_head(100 * 4 * 4)  # 100 channels of 4x4, after three 2x2 max-pools

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def build_model(variant: str) -> nn.Module:
    """A freshly initialised network of the registered ``variant`` (its weights come from torch's global RNG)."""
    module_name, _, class_name = registered_variant(variant).network.partition(":")
    network = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(network, type) and issubclass(network, nn.Module)):
        raise InputError(f"variant {variant!r}: {module_name}:{class_name} is not a torch network class")
    return network()


# How evaluation batches are made: "fast" moves the split to the device once as uint8 and converts each batch
# there (channels_last); "reference" is the assignment's way, ToTensor per image in a DataLoader.
IMPLEMENTATIONS = ("fast", "reference")


def to_fast_layout(tensor_or_model):
    """channels_last: the layout oneDNN's CPU convolutions (and cuDNN's) run fastest on for these networks."""
    return tensor_or_model.to(memory_format=torch.channels_last)


@torch.inference_mode()
def predict_logits(
    model: nn.Module, images: np.ndarray | torch.Tensor, batch_size: int, device: str, implementation: str = "fast"
) -> torch.Tensor:
    """Logits (N, 10) on the CPU for uint8 images (N, 32, 32, 3), without augmentation (validation, test).

    The fast path also takes the images as a tensor already on ``device`` (training's validation split, uploaded
    once for every epoch)."""
    model.eval()
    if implementation not in IMPLEMENTATIONS:
        raise InputError(
            f"unknown evaluation implementation {implementation!r}; expected one of {', '.join(IMPLEMENTATIONS)}"
        )
    batches = (
        _device_batches(images, batch_size, device)
        if implementation == "fast"
        else _per_image_batches(images, batch_size)
    )
    # Kept on the device until the end: copying each batch's logits back would make the host wait for every batch.
    outputs = [model(batch.to(device)).float() for batch in batches]
    return torch.cat(outputs).cpu() if outputs else torch.empty(0, N_CLASSES)


def _device_batches(images: np.ndarray | torch.Tensor, batch_size: int, device: str):
    on_device = torch.as_tensor(images).to(device)
    for start in range(0, len(on_device), batch_size):
        yield to_fast_layout(images_to_tensor(on_device[start : start + batch_size]))


class _ToTensorImages(torch.utils.data.Dataset):
    def __init__(self, images: np.ndarray) -> None:
        # Imported here: torchvision's import loads torch's compiler stack (seconds), which an evaluation job
        # otherwise never needs; only this per-image reference path uses torchvision.
        from torchvision.transforms.functional import to_tensor

        self.images = images
        self.to_tensor = to_tensor

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.to_tensor(self.images[index])


def _per_image_batches(images: np.ndarray, batch_size: int):
    return torch.utils.data.DataLoader(_ToTensorImages(images), batch_size=batch_size, shuffle=False, num_workers=0)


# ------------------------------------------------------------------------------------------- checkpoints


def save_checkpoint(
    path: str | Path,
    *,
    variant: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    seed: int,
    config_digest: str,
    device: str,
    precision: str,
    gpu: dict | None = None,
) -> str:
    """Everything needed to evaluate the epoch or to continue training from it, written atomically; returns
    the sha256 of the bytes written, so that a copy kept for later can be checked against it."""
    state = {
        "variant": variant,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "seed": seed,
        "config_digest": config_digest,
        "device": device,
        "precision": precision,
        "threads": torch.get_num_threads(),
        "gpu": gpu,  # runtime.gpu_facts of the device, None on the CPU
    }
    # Serialised in memory first (a few MB): torch's own file writer reports a full disk as an opaque
    # "unexpected pos" RuntimeError, while a plain write raises ENOSPC, which atomic_path names.
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def load_checkpoint(path: str | Path, variant: str) -> dict:
    """Read a checkpoint of ``variant`` safely (``weights_only=True``), onto the CPU.

    A file torch cannot read, a file of the wrong structure and a checkpoint of the other variant are all the
    user's problem (a truncated copy, a wrong path), so each becomes an ``InputError`` that says which.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as error:
        raise InputError(f"checkpoint {path} does not exist") from error
    except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        raise InputError(f"checkpoint {path} is corrupt or not a torch checkpoint ({_first_line(error)})") from error
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise InputError(f"checkpoint {path} is not a torchbasics checkpoint: it lacks {', '.join(missing)}")
    if state["variant"] != variant:
        raise InputError(f"checkpoint {path} holds the {state['variant']!r} variant, but {variant!r} was asked for")
    return state


def model_from_checkpoint(path: str | Path, variant: str) -> tuple[nn.Module, dict]:
    """The network of ``variant`` with the checkpoint's weights, and the checkpoint itself."""
    state = load_checkpoint(path, variant)
    model = build_model(variant)
    problem = weights_mismatch(model, state["model"])
    if problem:
        raise InputError(f"checkpoint {path}: its weights do not fit the {variant!r} network ({problem})")
    model.load_state_dict(state["model"])
    return model, state


def weights_mismatch(model: nn.Module, weights: dict) -> str | None:
    """Why ``weights`` cannot be loaded into ``model``, or None when they fit.

    Checked before loading because ``load_state_dict`` copies the tensors that fit before it raises about the
    rest, which would leave a half-loaded model behind.
    """
    expected = model.state_dict()
    missing = sorted(expected.keys() - weights.keys())
    unexpected = sorted(weights.keys() - expected.keys())
    misshaped = sorted(
        name
        for name in expected.keys() & weights.keys()
        if not isinstance(weights[name], torch.Tensor) or weights[name].shape != expected[name].shape
    )
    problems = [
        f"{label} {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
        for label, names in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped))
        if names
    ]
    return "; ".join(problems) or None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
