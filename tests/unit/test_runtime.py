"""What every entry script shares: bad input reported plainly, memory reuse, the device choice, and a job's
run-time settings, with the GPU's presence simulated (torch.cuda's functions and the kernel's driver files)."""

import os
from types import SimpleNamespace

import pytest
from make_inputs import GPU_A, GPU_B

from torchbasics.core import gpus, runtime
from torchbasics.core.errors import InputError
from torchbasics.core.gpus import LOCK_DIR_VARIABLE, claim_gpu
from torchbasics.core.runtime import (
    architecture_supported,
    claim_device,
    job_runtime,
    resolve_device,
    run_script,
)

# Allocates 16 MiB with malloc and reports how many more bytes glibc then holds as separate memory maps
# (mallinfo2's hblkhd).


def fake_snakemake(log_path):
    return SimpleNamespace(log=[str(log_path)])


def test_input_error_becomes_one_logged_line_and_a_failed_job(tmp_path, restore_root_logging):
    def main(snakemake):
        raise InputError("resources/cifar10.npz: X has shape (3, 32, 32), expected (N, 32, 32, 3)")

    with pytest.raises(SystemExit) as exit_info:
        run_script(fake_snakemake(tmp_path / "logs" / "job.log"), main)
    assert exit_info.value.code == 1
    log_text = (tmp_path / "logs" / "job.log").read_text()
    assert "ERROR resources/cifar10.npz: X has shape (3, 32, 32)" in log_text
    assert "Traceback" not in log_text


def test_a_bug_keeps_its_traceback(tmp_path, restore_root_logging):
    def main(snakemake):
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        run_script(fake_snakemake(tmp_path / "job.log"), main)


def test_cpu_is_always_available_and_unknown_devices_are_refused():
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(InputError, match="unknown device 'tpu'"):
        resolve_device("tpu")


@pytest.fixture(autouse=True)
def cuda_settings_restored(monkeypatch):
    """Put back what a simulated GPU job changes in this process: torch's determinism and TF32 switches and the
    cuBLAS workspace, so that the tests after it compute as before."""
    import torch

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    saved = (
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.get_num_threads(),
    )
    yield
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[0], saved[1]
    torch.use_deterministic_algorithms(saved[2])
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[3], saved[4]
    torch.set_num_threads(saved[5])


@pytest.fixture
def no_gpu_driver(monkeypatch, tmp_path):
    """A machine without a GPU driver: the kernel's driver files point at an empty folder."""
    empty = tmp_path / "no-driver"
    empty.mkdir()
    monkeypatch.setattr(gpus, "NVIDIA_GPU_LIST", empty / "gpus")
    monkeypatch.setattr(gpus, "NVIDIA_DRIVER_VERSION_FILE", empty / "version")
    monkeypatch.setattr(gpus, "AMD_COMPUTE_DEVICE", empty / "kfd")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


@pytest.fixture
def nvidia_driver(monkeypatch, tmp_path):
    """A machine whose kernel has NVIDIA's driver 535.161.07 loaded for one GPU; the driver runs CUDA 12.2."""
    driver = tmp_path / "nvidia"
    (driver / "gpus" / "0000:01:00.0").mkdir(parents=True)
    (driver / "version").write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.161.07  Thu Feb 29 2024\n")
    monkeypatch.setattr(gpus, "NVIDIA_GPU_LIST", driver / "gpus")
    monkeypatch.setattr(gpus, "NVIDIA_DRIVER_VERSION_FILE", driver / "version")
    monkeypatch.setattr(gpus, "AMD_COMPUTE_DEVICE", tmp_path / "no-kfd")
    monkeypatch.setattr(runtime, "driver_cuda_version", lambda: "12.2")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


@pytest.fixture
def torch_without_gpu(monkeypatch, no_gpu_driver):
    """torch as on a machine where it cannot use any GPU: a CUDA build whose initialisation fails (old driver)."""
    import torch

    def failing_init():
        raise RuntimeError("The NVIDIA driver on your system is too old (found version 10010).")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "init", failing_init)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return torch


def test_cuda_without_a_gpu_is_an_error_not_a_silent_fallback(torch_without_gpu):
    assert resolve_device("auto") == "cpu"  # the job was given no GPU: the CPU is what it has
    with pytest.raises(InputError, match="device 'cuda' was requested but torch sees no CUDA device"):
        resolve_device("cuda")


@pytest.mark.parametrize("granted", ["0", "1,3", "GPU-5f2a6c1e-0d1b-4f4c-9c1e-2b7d3f0e8a11"])
def test_a_job_given_a_gpu_torch_cannot_use_fails_at_once_with_what_torch_reports(
    torch_without_gpu, monkeypatch, granted
):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", granted)
    with pytest.raises(InputError) as error:
        resolve_device("auto")
    message = str(error.value)
    assert f"given GPU(s) {granted} (CUDA_VISIBLE_DEVICES)" in message
    assert "built for CUDA 13.0" in message and "driver is probably missing or too old" in message
    assert "The NVIDIA driver on your system is too old (found version 10010)." in message
    assert "'cpu'" in message


def test_a_cpu_only_torch_given_a_gpu_is_named_as_the_cause(torch_without_gpu, monkeypatch):
    monkeypatch.setattr(torch_without_gpu.version, "cuda", None)
    monkeypatch.setattr(torch_without_gpu.version, "hip", None, raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(InputError, match=r"is a CPU-only build \(torch.version.cuda is None\)"):
        resolve_device("auto")
    with pytest.raises(InputError, match="CPU-only build"):
        resolve_device("cuda")


def test_only_the_cpu_asked_for_runs_on_the_cpu_despite_a_granted_gpu(torch_without_gpu, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("nothing_granted", ["", "-1", "NoDevFiles", "-1,0"])
def test_a_visible_devices_list_that_grants_nothing_means_the_cpu(torch_without_gpu, monkeypatch, nothing_granted):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", nothing_granted)
    assert resolve_device("auto") == "cpu"


def test_a_usable_gpu_is_taken(simulated_gpus, monkeypatch):
    simulated_gpus([GPU_A])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("cpu") == "cpu"


def test_an_unexpected_exception_reaches_the_jobs_log_with_its_traceback(tmp_path, restore_root_logging):
    def main(snakemake):
        return [][1]

    log_file = tmp_path / "logs" / "job.log"
    with pytest.raises(IndexError):
        run_script(fake_snakemake(log_file), main)
    text = log_file.read_text()
    assert "Traceback" in text and "IndexError: list index out of range" in text and "return [][1]" in text


# ------------------------------------------------------------------------------- a GPU torch cannot use


def test_an_unusable_gpu_whose_driver_is_loaded_fails_at_once_with_torchs_reason_the_versions_and_the_fix(
    torch_without_gpu, nvidia_driver
):
    # no CUDA_VISIBLE_DEVICES: a workstation, where the driver alone says that a GPU is there
    with pytest.raises(InputError) as error:
        resolve_device("auto", "train")
    message = str(error.value)
    assert "train.device is 'auto' and this machine has a GPU driver (NVIDIA 535.161.07)" in message
    assert "The NVIDIA driver on your system is too old (found version 10010)." in message  # torch's reason
    assert "built for CUDA 13.0" in message and "driver 535.161.07, which runs CUDA 12.2 at most" in message
    assert "CUDA 12.x wheels" in message and "set train.device to 'cpu'" in message


def test_an_unusable_gpu_stops_the_job_before_it_does_anything(torch_without_gpu, nvidia_driver):
    with pytest.raises(InputError, match="eval.device is 'auto' and this machine has a GPU driver"):
        job_runtime("eval", {"device": "auto"}, {"implementation": "fast"}, threads=1)
    assert job_runtime("eval", {"device": "cpu"}, {"implementation": "fast"}, threads=1).device == "cpu"


@pytest.fixture
def simulated_gpus(monkeypatch, tmp_path, nvidia_driver):
    """Install made-up GPUs into torch.cuda (an H200-like device by default); returns the calls to set_device."""
    import torch

    def install(uuids, capability=(9, 0), arch_list=("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")):
        properties = [SimpleNamespace(uuid=uuid.removeprefix("GPU-"), name="NVIDIA H200") for uuid in uuids]
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: len(uuids))
        monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: properties[index])
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
        monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: list(arch_list))
        monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
        monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91002)
        monkeypatch.setattr(torch.version, "cuda", "13.0")
        monkeypatch.setattr(torch.cuda, "set_device", made_current.append)
        return made_current

    made_current = []
    monkeypatch.setenv(LOCK_DIR_VARIABLE, str(tmp_path / "locks"))
    return install


def test_a_gpu_whose_architecture_is_not_in_torchs_arch_list_is_refused_with_the_fix(simulated_gpus):
    simulated_gpus([GPU_A], capability=(10, 0), arch_list=("sm_75", "sm_80", "sm_86", "sm_90"))
    with pytest.raises(InputError) as error:
        resolve_device("auto", "train")
    message = str(error.value)
    assert "GPU 0 (NVIDIA H200) has compute capability 10.0 (sm_100)" in message
    assert "torch.cuda.get_arch_list() is sm_75, sm_80, sm_86, sm_90" in message
    assert "driver 535.161.07" in message and "set train.device to 'cpu'" in message


@pytest.mark.parametrize(
    ("capability", "arch_list", "supported"),
    [
        ((9, 0), ["sm_80", "sm_90"], True),
        ((8, 6), ["sm_80"], True),  # a binary runs on later minor versions of its major one
        ((8, 0), ["sm_86"], False),  # but not on earlier ones
        ((12, 0), ["sm_80", "sm_90", "sm_100"], False),  # nor on another major version
        ((12, 0), ["sm_90", "compute_90"], True),  # PTX: the driver compiles it for newer GPUs
        ((9, 0), ["sm_90a"], True),
        ((7, 0), ["sm_75", "compute_75"], False),
    ],
)
def test_the_arch_list_decides_which_gpus_torch_runs_on(capability, arch_list, supported):
    assert architecture_supported(capability, arch_list) is supported


# ------------------------------------------------------------------------------------------- determinism


def test_deterministic_cuda_settings_are_made_before_cuda_starts(simulated_gpus, monkeypatch):
    import torch

    simulated_gpus([GPU_A])
    seen_when_cuda_starts = {}

    def cuda_starts():
        seen_when_cuda_starts.update(
            cublas_workspace=os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
            cudnn_deterministic=torch.backends.cudnn.deterministic,
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            deterministic_algorithms=torch.are_deterministic_algorithms_enabled(),
            matmul_tf32=torch.backends.cuda.matmul.allow_tf32,
            cudnn_tf32=torch.backends.cudnn.allow_tf32,
        )
        return True

    monkeypatch.setattr(torch.cuda, "is_available", cuda_starts)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    assert resolve_device("auto", "train") == "cuda"
    assert seen_when_cuda_starts == {
        "cublas_workspace": ":4096:8",
        "cudnn_deterministic": True,
        "cudnn_benchmark": False,
        "deterministic_algorithms": True,
        "matmul_tf32": False,
        "cudnn_tf32": False,
    }


def test_deterministic_cuda_settings_leave_a_cpu_job_as_it_was(simulated_gpus):
    import torch

    simulated_gpus([GPU_A])
    before = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic
    assert job_runtime("train", {"device": "cpu"}, {"precision": "float32"}, threads=1).device == "cpu"
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic) == before
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_deterministic_cuda_settings_keep_a_deterministic_workspace_the_user_chose(simulated_gpus, monkeypatch):
    simulated_gpus([GPU_A])
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    resolve_device("cuda", "train")
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":0:0")
    resolve_device("cuda", "train")
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


# -------------------------------------------------------------------------------------- claims by UUID


def test_a_job_claims_a_free_gpu_by_uuid_makes_it_current_and_records_it(simulated_gpus):
    made_current = simulated_gpus([GPU_A, GPU_B])
    other_job = claim_gpu([GPU_A])  # another job already holds A (it may know it by another index)
    job = job_runtime("train", {"device": "auto"}, {"precision": "auto", "implementation": "fast"}, threads=2)
    assert (job.device, job.claim.uuid, made_current) == ("cuda:1", GPU_B, [1])
    assert job.precision == "bfloat16"  # compute capability 9.0 has bfloat16 units
    assert job.gpu == {
        "name": "NVIDIA H200",
        "compute_capability": "9.0",
        "uuid": GPU_B,
        "driver": "535.161.07",
        "cuda": "13.0",
        "cudnn": "91002",
    }
    other_job.release()


def test_uuid_claims_under_slurm_with_several_gpus_give_two_jobs_distinct_devices(simulated_gpus, monkeypatch):
    made_current = simulated_gpus([GPU_A, GPU_B])
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")  # the allocation's two GPUs, as SLURM numbers them
    (first, first_claim), (second, second_claim) = claim_device("auto", "train"), claim_device("auto", "train")
    assert {first, second} == {"cuda:0", "cuda:1"} and {first_claim.uuid, second_claim.uuid} == {GPU_A, GPU_B}
    assert sorted(made_current) == [0, 1]


# ---------------------------------------------------------------------------------- a job's run-time settings


def test_a_cpu_job_gets_its_threads_precision_and_implementation(no_gpu_driver):
    import torch

    job = job_runtime("train", {"device": "auto"}, {"precision": "float32", "implementation": "reference"}, threads=2)
    assert (job.device, job.claim, job.gpu, job.threads, job.precision) == ("cpu", None, None, 2, "float32")
    assert job.implementation == "reference" and torch.get_num_threads() == 2
    autograd = job_runtime("autograd", {"device": "cpu"}, {"n_terms": 10}, threads=1)
    assert (autograd.precision, autograd.implementation) == ("float32", None)  # only training has a precision


def test_a_job_of_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="unknown stage 'report'"):
        job_runtime("report", {"device": "cpu"}, {}, threads=1)
