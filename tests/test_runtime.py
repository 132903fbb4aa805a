"""What every entry script shares: bad input reported plainly, memory reuse, the device choice."""

import logging
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
from conftest import REPO

from torchbasics.core.errors import InputError
from torchbasics.core.runtime import ON_GLIBC, resolve_device, run_script

# Allocates 16 MiB with malloc and reports how many more bytes glibc then holds as separate memory maps
# (mallinfo2's hblkhd).
MAPPED_BYTES_OF_A_16_MIB_BLOCK = textwrap.dedent("""
    import ctypes, sys
    sys.path.insert(0, sys.argv[1])
    from torchbasics.core.runtime import reuse_freed_memory

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype, libc.mallinfo2.restype = ctypes.c_void_p, MallInfo2
    if sys.argv[2] == "reuse":
        assert reuse_freed_memory()
    before = libc.mallinfo2().hblkhd
    block = libc.malloc(16 * 1024 * 1024)
    print(libc.mallinfo2().hblkhd - before)
""")


def mapped_bytes(mode):
    command = [sys.executable, "-c", MAPPED_BYTES_OF_A_16_MIB_BLOCK, str(REPO / "workflow" / "scripts"), mode]
    return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(not ON_GLIBC, reason="the tuning applies to glibc's malloc only")
def test_freed_activation_sized_blocks_come_from_the_reusable_heap_not_fresh_maps():
    assert mapped_bytes("default") >= 16 * 1024 * 1024  # glibc's default: a block this size gets its own map
    assert mapped_bytes("reuse") == 0


def fake_snakemake(log_path):
    return SimpleNamespace(log=[str(log_path)])


@pytest.fixture
def restore_root_logging():
    """run_script points the root logger at the job's log file; put pytest's handlers back afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:]
    yield
    for handler in root.handlers:
        if handler not in saved:
            handler.close()
    root.handlers[:] = saved


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


@pytest.fixture
def torch_without_gpu(monkeypatch):
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


def test_a_usable_gpu_is_taken(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
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
