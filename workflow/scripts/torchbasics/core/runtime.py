"""What every entry script needs: logging to the rule's log file, memory reuse, seeding, and the compute device."""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from torchbasics.core.errors import DiskFullError, InputError
from torchbasics.core.gpus import GpuClaim, claim_gpu, granted_gpus, machine_may_have_gpu, nvidia_driver_version
from torchbasics.core.settings import STAGE_CHOICES

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


# ------------------------------------------------------------------------------------------ the device

DEVICES = ("auto", "cpu", "cuda")


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
        f"missing or too old for that runtime ({driver_description()}). torch reports: {reported}"
    )


def driver_description() -> str:
    """The NVIDIA driver and the newest CUDA it runs, for an error message."""
    driver = nvidia_driver_version()
    if driver is None:
        return "no NVIDIA driver is loaded"
    cuda = driver_cuda_version()
    return f"driver {driver}, which runs CUDA {cuda} at most" if cuda else f"driver {driver}"


def driver_cuda_version() -> str | None:
    """The newest CUDA version the installed driver runs ("12.4"), from its own library; None without one."""
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    version = ctypes.c_int(0)
    if libcuda.cuDriverGetVersion(ctypes.byref(version)) != 0:
        return None
    return f"{version.value // 1000}.{version.value % 1000 // 10}"


# What to do about a GPU that torch cannot use, the same for every cause.
GPU_REMEDY = (
    "Install a torch build for this driver and GPU (README, 'Cores and GPUs': e.g. PyTorch's CUDA 12.x wheels "
    "where the driver is older than CUDA 13's), or set {stage}.device to 'cpu' (and ask for no GPU) to run on the "
    "CPU on purpose"
)


def gpu_present() -> str:
    """How this job knows of a GPU, for an error message ("" when it knows of none)."""
    granted = granted_gpus()
    if granted:
        return f"this job was given GPU(s) {','.join(granted)} (CUDA_VISIBLE_DEVICES)"
    if "CUDA_VISIBLE_DEVICES" not in os.environ and machine_may_have_gpu():
        driver = nvidia_driver_version()
        return f"this machine has a GPU driver ({f'NVIDIA {driver}' if driver else 'AMD ROCm'})"
    return ""


def architecture_supported(capability: tuple[int, int], arch_list: list[str]) -> bool:
    """Whether a torch built for ``arch_list`` (``torch.cuda.get_arch_list()``) runs on a GPU of ``capability``.

    A GPU runs binaries (``sm_XY``) built for its own major version and an older or equal minor one, and PTX
    (``compute_XY``) of any older or equal architecture, which the driver compiles for it.
    """
    major, minor = capability
    for arch in arch_list:
        kind, _, version = arch.partition("_")
        digits = re.sub(r"\D", "", version)
        if not digits:
            continue
        arch_major, arch_minor = int(digits[:-1]), int(digits[-1])
        if kind == "sm" and arch_major == major and arch_minor <= minor:
            return True
        if kind == "compute" and (arch_major, arch_minor) <= (major, minor):
            return True
    return False


def check_gpus_supported(stage: str) -> None:
    """Refuse visible GPUs that this torch has no kernels for: it would fail at the first operation, or warn and
    compute nothing, after the job has claimed the GPU."""
    import torch

    arch_list = torch.cuda.get_arch_list()
    if not arch_list:  # a build that does not say (ROCm): torch checks nothing either
        return
    for index in range(torch.cuda.device_count()):
        capability = tuple(torch.cuda.get_device_capability(index))
        if not architecture_supported(capability, arch_list):
            raise InputError(
                f"GPU {index} ({torch.cuda.get_device_name(index)}) has compute capability "
                f"{capability[0]}.{capability[1]} (sm_{capability[0]}{capability[1]}), which torch "
                f"{torch.__version__} (CUDA {torch.version.cuda}, driver {nvidia_driver_version() or 'unknown'}) has "
                f"no kernels for: torch.cuda.get_arch_list() is {', '.join(arch_list)}. "
                + GPU_REMEDY.format(stage=stage)
            )


# cuBLAS is deterministic only with a fixed workspace: one of these, set before its first call.
CUBLAS_DETERMINISTIC_WORKSPACES = (":4096:8", ":16:8")


def make_cuda_deterministic() -> None:
    """Deterministic CUDA kernels and IEEE float32, set before CUDA starts (cuBLAS reads its workspace setting
    once, when the process first uses it).

    cuDNN's deterministic algorithms, without benchmarking (which picks an algorithm by timing, so differently
    from run to run), torch's deterministic mode (an operation without a deterministic kernel raises instead of
    varying), and no TF32: float32 products stay float32, as on the CPU, for training in float32 and for every
    validation and test pass. bfloat16 autocast is unaffected: it rounds to bfloat16 on purpose.
    """
    import torch

    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in CUBLAS_DETERMINISTIC_WORKSPACES:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_DETERMINISTIC_WORKSPACES[0]
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def resolve_device(requested: str, stage: str = "the stage") -> str:
    """Map ``<stage>.device`` (``auto|cpu|cuda``) to a torch device string.

    ``auto`` takes CUDA when torch sees a GPU (on a cluster node, the one SLURM granted through
    ``CUDA_VISIBLE_DEVICES``) and the CPU where the machine has none. A GPU that is there but that torch cannot use
    (a driver too old for torch's CUDA, a GPU architecture torch has no kernels for) is an error, not a silent
    fallback: the job would hold the GPU for hours while training on the CPU. Only ``cpu`` runs on the CPU
    whatever the machine has. Where a GPU may be used, the CUDA determinism settings are made first.
    """
    import torch

    if requested not in DEVICES:
        raise InputError(f"unknown device {requested!r} for {stage}; expected auto, cpu or cuda")
    if requested == "cpu":
        return "cpu"
    present = gpu_present()
    if requested == "cuda" or present:
        make_cuda_deterministic()
    if torch.cuda.is_available():
        check_gpus_supported(stage)
        return "cuda"
    if requested == "cuda":
        raise InputError(
            f"device 'cuda' was requested but torch sees no CUDA device: {why_torch_sees_no_gpu()}. "
            + GPU_REMEDY.format(stage=stage)
        )
    if present:
        raise InputError(
            f"{stage}.device is 'auto' and {present}, but torch cannot use it: {why_torch_sees_no_gpu()}. "
            + GPU_REMEDY.format(stage=stage)
        )
    return "cpu"


def visible_gpu_uuids() -> list[str]:
    """The UUIDs of the GPUs torch sees, in its index order ("GPU-" and the hex digits, as nvidia-smi writes them).

    A device torch reports no UUID for (none is known to) gets one made of its index, which identifies it only
    among the jobs that see the same list.
    """
    import torch

    uuids = []
    for index in range(torch.cuda.device_count()):
        uuid = str(getattr(torch.cuda.get_device_properties(index), "uuid", "") or "")
        if not uuid:
            uuid = f"visible-index-{index}"
        elif not uuid.startswith(("GPU-", "MIG-")):
            uuid = f"GPU-{uuid}"
        uuids.append(uuid)
    return uuids


def claim_device(requested: str, stage: str = "the stage"):
    """Like ``resolve_device``, but a CUDA job also claims a GPU of its own by UUID (see ``gpus``) and makes it
    torch's current device.

    Returns (device string such as ``cuda:1`` or ``cpu``, the claim or None); keep the claim referenced for as
    long as the job uses the device.
    """
    import torch

    # Under SLURM this shows the GPU the scheduler granted (the cluster test looks for it).
    log.info("device %r requested; CUDA_VISIBLE_DEVICES=%s", requested, os.environ.get("CUDA_VISIBLE_DEVICES"))
    device = resolve_device(requested, stage)
    if device != "cuda":
        return device, None
    claim = claim_gpu(visible_gpu_uuids())
    torch.cuda.set_device(claim.index)
    return f"cuda:{claim.index}", claim


def gpu_facts(device: str) -> dict | None:
    """What decides a GPU's numbers, for the records: its name, compute capability, UUID, the driver, and the CUDA
    and cuDNN versions torch runs with. None on the CPU."""
    import torch

    if not device.startswith("cuda"):
        return None
    index = torch.device(device).index or 0
    major, minor = torch.cuda.get_device_capability(index)
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {
        "name": torch.cuda.get_device_name(index),
        "compute_capability": f"{major}.{minor}",
        "uuid": visible_gpu_uuids()[index],
        "driver": nvidia_driver_version(),
        "cuda": torch.version.cuda,
        "cudnn": None if cudnn is None else str(cudnn),
    }


# ------------------------------------------------------------------------------ a job's run-time settings


@dataclass
class JobRuntime:
    """What a job computes with, resolved once when it starts (``job_runtime``)."""

    device: str  # "cpu" or "cuda:<index>"
    claim: GpuClaim | None  # the job's GPU, held while this object lives
    threads: int  # torch's CPU threads
    precision: str  # float32 or bfloat16: training's, resolved for the device; float32 for every other stage
    implementation: str | None  # fast or reference, for the stages that have both
    gpu: dict | None  # gpu_facts of the device, for the records; None on the CPU


def job_runtime(stage: str, stage_config: dict, params: dict, threads: int) -> JobRuntime:
    """The run-time settings of a job of ``stage``, from what its entry script holds.

    ``stage_config`` is the stage's config (``snakemake.config[stage]``), which gives the settings that change no
    result (``settings.NOT_SHAPING_RESULTS``: the device); ``params`` the stage's settings that do, as the rule's
    params hold them (``precision``, ``implementation``, where the stage has them); ``threads`` what Snakemake
    granted the job. torch would otherwise take every core, whatever the job was granted.
    """
    import torch

    from torchbasics.core.precision import resolve_precision

    if stage not in STAGE_CHOICES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGE_CHOICES)}")
    torch.set_num_threads(threads)
    device, claim = claim_device(stage_config["device"], stage)
    precision = resolve_precision(params["precision"], device) if "precision" in params else "float32"
    runtime = JobRuntime(
        device=device,
        claim=claim,
        threads=torch.get_num_threads(),
        precision=precision,
        implementation=params.get("implementation"),
        gpu=gpu_facts(device),
    )
    log.info(
        "%s runs on %s (%s), %d torch thread(s), %s", stage, device, runtime.gpu or "no GPU", runtime.threads, precision
    )
    return runtime
