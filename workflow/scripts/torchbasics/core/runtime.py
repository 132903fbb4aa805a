"""What every entry script needs: logging to the rule's log file, memory reuse, seeding, and the compute device."""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import random
import sys
from collections.abc import Callable

import numpy as np

from torchbasics.core.errors import DiskFullError, InputError
from torchbasics.core.gpus import claim_gpu, granted_gpus

log = logging.getLogger("torchbasics")


def setup_logging(log_path: str | None) -> None:
    """Send log records to the rule's ``log:`` file (and to stderr, which Snakemake shows)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers, force=True
    )


def run_script(snakemake, main: Callable[[object], None]) -> None:
    """Run an entry script's ``main(snakemake)`` with logging set up and bad input reported plainly.

    An ``InputError`` or a full disk is the user's problem, not a bug: it is logged as one clear line and the
    job exits non-zero (Snakemake then removes the job's outputs). Anything else is a bug: its traceback goes to the
    log file too, since Snakemake's failure message sends the user there, and the exception propagates.
    """
    setup_logging(snakemake.log[0] if len(snakemake.log) else None)
    reuse_freed_memory()
    try:
        main(snakemake)
    except (InputError, DiskFullError) as error:
        log.error("%s", error.strerror if isinstance(error, DiskFullError) else error)
        sys.exit(1)
    except Exception:
        log.exception("the job failed unexpectedly")
        raise


# glibc's mallopt parameters (malloc.h) and the largest mmap threshold it accepts on 64-bit systems.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024
ON_GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def reuse_freed_memory() -> bool:
    """Make glibc's malloc keep freed blocks of up to 32 MiB for reuse instead of handing them back to the system.

    Why: every CNN step allocates and frees the same activation tensors, a few MiB each. By default glibc maps
    blocks that large afresh and unmaps them on free, so each step pays page faults on memory it just gave away.
    Held memory grows by at most the step's peak, which the process reaches anyway. (BENCHMARKS.md has the
    figures.)

    Returns False, changing nothing, where the C library is not glibc.
    """
    if not ON_GLIBC:
        return False
    libc = ctypes.CDLL("libc.so.6")
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) from the config's one seed."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def why_torch_sees_no_gpu() -> str:
    """The likely cause, in the user's terms, of ``torch.cuda.is_available()`` being False."""
    import torch

    hip = getattr(torch.version, "hip", None)
    if torch.version.cuda is None and hip is None:
        return (
            f"this torch ({torch.__version__}) is a CPU-only build (torch.version.cuda is None); install the "
            "CUDA build (requirements.txt installs it on Linux)"
        )
    runtime = f"CUDA {torch.version.cuda}" if torch.version.cuda else f"ROCm {hip}"
    try:
        torch.cuda.init()  # raises torch's own account of the failure
    except Exception as error:  # noqa: BLE001 - whatever it raised is the report; nothing is recovered
        reported = str(error).strip() or type(error).__name__
    else:
        reported = f"no usable device (torch.cuda.device_count() is {torch.cuda.device_count()})"
    return (
        f"torch {torch.__version__} is built for {runtime} but cannot use it; the GPU driver is probably "
        f"missing or too old for that runtime. torch reports: {reported}"
    )


def resolve_device(requested: str) -> str:
    """Map the config's ``auto|cpu|cuda`` to a torch device string.

    ``auto`` takes CUDA when torch sees a GPU (on a cluster node, the one SLURM granted through
    ``CUDA_VISIBLE_DEVICES``) and the CPU where the job was given no GPU. A job given a GPU that torch cannot use
    is an error, not a silent fallback: on a cluster it would hold the GPU for hours while training on the CPU.
    Only ``cpu`` runs on the CPU whatever the job was given.
    """
    import torch

    if requested not in ("auto", "cpu", "cuda"):
        raise InputError(f"unknown device {requested!r}; expected auto, cpu or cuda")
    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        raise InputError(
            f"device 'cuda' was requested but torch sees no CUDA device: {why_torch_sees_no_gpu()}. "
            "Set the stage's device to 'cpu' to run on the CPU"
        )
    granted = granted_gpus()
    if granted:
        raise InputError(
            f"this job was given GPU(s) {','.join(granted)} (CUDA_VISIBLE_DEVICES) but torch cannot "
            f"use them: {why_torch_sees_no_gpu()}. Fix that, or set the stage's device to 'cpu' "
            "(and ask for no GPU) to run on the CPU on purpose"
        )
    return "cpu"


def claim_device(requested: str):
    """Like ``resolve_device``, but a CUDA job also claims its own GPU index (see ``gpus``).

    Returns (device string such as ``cuda:1`` or ``cpu``, the claim or None); keep the claim referenced for as
    long as the job uses the device.
    """
    import torch

    # Under SLURM this shows the GPU the scheduler granted (the cluster test looks for it).
    log.info("device %r requested; CUDA_VISIBLE_DEVICES=%s", requested, os.environ.get("CUDA_VISIBLE_DEVICES"))
    device = resolve_device(requested)
    if device != "cuda":
        return device, None
    claim = claim_gpu(torch.cuda.device_count())
    return f"cuda:{claim.index}", claim
