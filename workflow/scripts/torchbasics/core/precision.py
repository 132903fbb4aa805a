"""The arithmetic precision of training: float32, or bfloat16 where the hardware computes it natively.

bfloat16 here means ``torch.autocast`` around the forward pass: the matrix products and convolutions run in
bfloat16, while the weights, the optimizer's state, the loss and its running sum stay float32. It pays only on
hardware with bfloat16 units (a CPU with AMX or AVX-512 BF16, a CUDA GPU of compute capability 8.0 or more);
elsewhere torch emulates it, more slowly than float32, so ``auto`` takes it only where it is native. Which
machine a run lands on is not known in advance, so the choice is made when the job starts, and recorded.
"""

from __future__ import annotations

import contextlib
import logging

import torch

from torchbasics.core.errors import InputError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "float32", "bfloat16")
# The oldest CUDA architecture (Ampere) whose tensor cores take bfloat16.
CUDA_BFLOAT16_CAPABILITY = (8, 0)


def cpu_bfloat16_units() -> list[str]:
    """The CPU's bfloat16 instruction sets that torch can use: AMX tiles and AVX-512 BF16 (empty if none).

    torch exposes these checks only privately (``torch.cpu._is_*_supported``), and only on x86 builds, so a
    missing check counts as a missing unit.
    """
    checks = {"amx_bf16": "_is_amx_tile_supported", "avx512_bf16": "_is_avx512_bf16_supported"}
    return [unit for unit, check in checks.items() if getattr(torch.cpu, check, lambda: False)()]


def native_bfloat16(device: str) -> bool:
    """Whether ``device`` ("cpu", "cuda", "cuda:1") computes bfloat16 matrix products in hardware."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_capability(device) >= CUDA_BFLOAT16_CAPABILITY
    return bool(cpu_bfloat16_units())


def resolve_precision(requested: str, device: str) -> str:
    """Map the config's ``auto|float32|bfloat16`` to the precision a job on ``device`` trains in."""
    if requested not in PRECISIONS:
        raise InputError(f"unknown precision {requested!r}; expected one of {', '.join(PRECISIONS)}")
    native = native_bfloat16(device)
    if requested == "auto":
        return "bfloat16" if native else "float32"
    if requested == "bfloat16" and not native:
        log.warning(
            "bfloat16 was asked for, but %s has no bfloat16 units: torch emulates it, which is slower than float32",
            device,
        )
    return requested


def autocast(precision: str, device: str):
    """The context a forward pass runs in: bfloat16 autocast, or nothing for float32."""
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)
