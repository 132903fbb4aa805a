"""What every entry script shares: bad input reported plainly, memory reuse, the device choice."""

import logging
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from conftest import REPO
from torchbasics.errors import InputError
from torchbasics.runtime import ON_GLIBC, resolve_device, run_script

# Allocates 16 MiB with malloc and reports how many more bytes glibc then holds as separate memory maps
# (mallinfo2's hblkhd).
MAPPED_BYTES_OF_A_16_MIB_BLOCK = textwrap.dedent("""
    import ctypes, sys
    sys.path.insert(0, sys.argv[1])
    from torchbasics.runtime import reuse_freed_memory

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


def test_cuda_without_a_gpu_is_an_error_not_a_silent_fallback(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(InputError, match="device 'cuda' was requested but torch sees no CUDA device"):
        resolve_device("cuda")
