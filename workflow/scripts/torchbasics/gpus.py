"""One GPU per job on a multi-GPU workstation.

Snakemake's ``--resources gpu=N`` only counts GPU jobs; it does not tell a job *which* GPU to use, so two
concurrent training jobs would both land on ``cuda:0``. Each job here claims a device index by taking an
exclusive ``flock`` on a per-index lock file shared by every job on the machine. The kernel releases the lock
when the process ends, however it ends (a killed job never leaves a stale claim).

Under SLURM the scheduler already hands each job its own GPU through ``CUDA_VISIBLE_DEVICES``; the job sees
exactly the devices it was granted, so it takes index 0 of those without any locking.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_DIR_VARIABLE = "TORCHBASICS_GPU_LOCK_DIR"


def default_lock_dir() -> Path:
    return Path(os.environ.get(LOCK_DIR_VARIABLE) or Path(tempfile.gettempdir()) / "torchbasics-gpu-locks")


def running_under_slurm() -> bool:
    return "SLURM_JOB_ID" in os.environ


class GpuClaim:
    """An exclusive claim on one device index, held until ``release()`` or the end of the process."""

    def __init__(self, index: int, handle=None):
        self.index = index
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the flock
            self._handle = None


def claim_gpu(n_devices: int, lock_dir: Path | None = None, poll_s: float = 1.0,
              timeout_s: float | None = None) -> GpuClaim:
    """Claim the lowest free index in ``0..n_devices-1``, waiting while all are taken.

    Waiting only happens when more GPU jobs run than there are devices (``--resources gpu`` set above the
    machine's count); then a job starts as soon as another finishes, instead of sharing a busy device.
    """
    if n_devices < 1:
        raise ValueError("claim_gpu needs at least one device")
    if running_under_slurm():
        return GpuClaim(0)
    lock_dir = Path(lock_dir or default_lock_dir())
    lock_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    while True:
        for index in range(n_devices):
            handle = open(lock_dir / f"gpu{index}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            log.info("claimed GPU index %d of %d (lock in %s)", index, n_devices, lock_dir)
            return GpuClaim(index, handle)
        if timeout_s is not None and time.monotonic() - started > timeout_s:
            raise TimeoutError(f"all {n_devices} GPU(s) stayed claimed for {timeout_s:.0f}s (locks in {lock_dir})")
        time.sleep(poll_s)
