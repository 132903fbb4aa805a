"""One GPU per job, on a workstation with several GPUs and inside a SLURM allocation that holds several.

Snakemake's ``--resources gpu=N`` only counts GPU jobs; it does not tell a job *which* GPU to use, so two
concurrent training jobs would both land on ``cuda:0``. Each job here claims a GPU by taking an exclusive
``flock`` on a lock file named after the GPU's UUID, shared by every job on the machine. The kernel releases the
lock when the process ends, however it ends (a killed job never leaves a stale claim).

By UUID, not by index: an index counts only the GPUs a job sees (``CUDA_VISIBLE_DEVICES``, which SLURM sets), so
jobs that see different lists (one granted GPU 1, another all of them) would each call a different GPU "0", and
the same GPU by different numbers. The UUID names the hardware whatever the list. The same holds inside a SLURM
allocation of several GPUs in which several jobs run: each claims one of the allocation's GPUs.

The lock folder is shared by every user of the machine (the GPUs are), like ``/tmp`` itself: the job that
creates it makes it world-writable with the sticky bit, creates lock files readable by everyone, and every job
opens the lock files read-only (``flock`` needs no write access), so one user's files never block another's jobs.

Torch-free: Snakemake imports this module while it plans the jobs (``machine_may_have_gpu``); the job passes in
the UUIDs torch reports (``runtime.visible_gpu_uuids``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import tempfile
import time
from pathlib import Path

from torchbasics.core.errors import InputError

log = logging.getLogger(__name__)

LOCK_DIR_VARIABLE = "TORCHBASICS_GPU_LOCK_DIR"


def granted_gpus() -> list[str]:
    """The GPUs ``CUDA_VISIBLE_DEVICES`` gives this job (SLURM sets it for a job granted GPUs); [] when unset.

    CUDA ignores the list from its first invalid entry on, so ``-1`` (or SLURM's ``NoDevFiles``) grants nothing.
    """
    granted = []
    for entry in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(","):
        entry = entry.strip()
        if not entry or entry.startswith("-") or entry == "NoDevFiles":
            break
        granted.append(entry)
    return granted


# Like /tmp: everyone may add files, only a file's owner may remove it.
SHARED_DIR_MODE = 0o1777
# Everyone may open the lock (read-only is enough to flock it).
LOCK_FILE_MODE = 0o666


def default_lock_dir() -> Path:
    """The machine-wide lock folder; ``$TORCHBASICS_GPU_LOCK_DIR`` overrides it.

    /tmp rather than ``$TMPDIR``: TMPDIR can differ between users and sessions, and jobs that looked in
    different folders would not see each other's claims.
    """
    configured = os.environ.get(LOCK_DIR_VARIABLE)
    if configured:
        return Path(configured)
    machine_tmp = Path("/tmp")
    return (machine_tmp if machine_tmp.is_dir() else Path(tempfile.gettempdir())) / "torchbasics-gpu-locks"


# Where the kernel shows a GPU driver: NVIDIA's lists one folder per GPU and names its version; AMD's ROCm
# driver opens /dev/kfd. Module attributes, read at each call, so that tests can point them at made-up files.
NVIDIA_GPU_LIST = Path("/proc/driver/nvidia/gpus")
NVIDIA_DRIVER_VERSION_FILE = Path("/proc/driver/nvidia/version")
AMD_COMPUTE_DEVICE = Path("/dev/kfd")


def machine_may_have_gpu(nvidia_gpu_list: Path | None = None, amd_device: Path | None = None) -> bool:
    """Whether a job started on this machine could compute on a GPU; False only where none can.

    Read from the environment and the kernel, not from torch, so that Snakemake can ask it while it plans the
    jobs: ``CUDA_VISIBLE_DEVICES``, when set, is the list of GPUs jobs may use; otherwise a GPU needs its driver.
    """
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return bool(granted_gpus())
    nvidia_gpu_list = nvidia_gpu_list or NVIDIA_GPU_LIST
    nvidia_gpus = nvidia_gpu_list.is_dir() and any(nvidia_gpu_list.iterdir())
    return nvidia_gpus or (amd_device or AMD_COMPUTE_DEVICE).exists()


def nvidia_driver_version(version_file: Path | None = None) -> str | None:
    """The loaded NVIDIA kernel driver's version ("550.54.15"), or None where none is loaded."""
    try:
        text = (version_file or NVIDIA_DRIVER_VERSION_FILE).read_text()
    except OSError:
        return None
    found = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d[\w.]*)", text)
    return found.group(1) if found else None


class GpuClaim:
    """An exclusive claim on one GPU, held until ``release()`` or the end of the process.

    ``index`` is the GPU's position among those the job sees (torch's ``cuda:<index>``), ``uuid`` the hardware's.
    """

    def __init__(self, index: int, uuid: str, descriptor: int | None = None):
        self.index = index
        self.uuid = uuid
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the descriptor drops the flock
            self._descriptor = None


def unusable_lock_dir(lock_dir: Path, error: OSError) -> InputError:
    """The error for a lock folder (or file) this user may not use, with the fix."""
    return InputError(
        f"cannot use the GPU lock folder {lock_dir} ({error.strerror}: {error.filename}): another user's job "
        f"probably created it, or a lock file in it, with narrower permissions. Every user of this machine's GPUs "
        f"must be able to use it: have its owner run `chmod {SHARED_DIR_MODE:o} {lock_dir}` and "
        f"`chmod {LOCK_FILE_MODE:o} {lock_dir}/gpu-*.lock`, or point {LOCK_DIR_VARIABLE} at a folder that every "
        f"user's jobs share (mode {SHARED_DIR_MODE:o}, as /tmp). A folder private to you would let other users' "
        f"jobs take the same GPU."
    )


def make_shared_lock_dir(lock_dir: Path) -> None:
    """Create the lock folder, if missing, open to every user (mkdir's mode is cut by the umask: chmod)."""
    lock_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock_dir.mkdir()
    except FileExistsError:
        return
    os.chmod(lock_dir, SHARED_DIR_MODE)


def open_lock_file(path: Path) -> int:
    """A read-only descriptor on ``path``, creating the file (mode 0666 whatever the umask) when missing.

    An existing file is opened without O_CREAT: in a sticky world-writable folder the kernel may refuse O_CREAT on
    another user's file (fs.protected_regular), even though opening it plainly is allowed.
    """
    while True:
        try:
            return os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            pass
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, LOCK_FILE_MODE)
        except FileExistsError:
            continue  # another job created it just now: open theirs
        os.fchmod(descriptor, LOCK_FILE_MODE)
        return descriptor


def try_lock(path: Path) -> int | None:
    """The descriptor holding an exclusive flock on ``path``, or None when another job holds it."""
    descriptor = open_lock_file(path)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def lock_file_name(uuid: str) -> str:
    """The lock file of GPU ``uuid`` ("GPU-5f2a..." or a MIG instance's "MIG-..."), safe as a file name."""
    return "gpu-" + re.sub(r"[^A-Za-z0-9._-]", "_", uuid) + ".lock"


def claim_gpu(
    uuids: list[str], lock_dir: Path | None = None, poll_s: float = 1.0, timeout_s: float | None = None
) -> GpuClaim:
    """Claim the first free GPU of ``uuids`` (those the job sees, in torch's index order), waiting while all are
    taken.

    Waiting only happens when more GPU jobs run than there are devices (``--resources gpu`` set above the
    machine's count, or other users' jobs); then a job starts as soon as another finishes, instead of sharing a
    busy device.
    """
    if not uuids:
        raise ValueError("claim_gpu needs at least one GPU")
    if len(set(uuids)) != len(uuids):
        raise ValueError(f"the GPUs' UUIDs are not distinct: {uuids}")
    lock_dir = Path(lock_dir or default_lock_dir())
    started = time.monotonic()
    try:
        make_shared_lock_dir(lock_dir)
        while True:
            for index, uuid in enumerate(uuids):
                descriptor = try_lock(lock_dir / lock_file_name(uuid))
                if descriptor is not None:
                    log.info("claimed GPU %s (cuda:%d of %d visible; lock in %s)", uuid, index, len(uuids), lock_dir)
                    return GpuClaim(index, uuid, descriptor)
            if timeout_s is not None and time.monotonic() - started > timeout_s:
                raise TimeoutError(f"all {len(uuids)} GPU(s) stayed claimed for {timeout_s:.0f}s (locks in {lock_dir})")
            time.sleep(poll_s)
    except PermissionError as error:
        raise unusable_lock_dir(lock_dir, error) from error
