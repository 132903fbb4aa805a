"""One device per job: concurrent jobs claim different GPUs, by UUID, whoever runs them and whatever list of GPUs
each one sees (SLURM's grant included)."""

import os
import stat
import tempfile
from pathlib import Path

import pytest
from make_inputs import GPU_A, GPU_B

from torchbasics.core.gpus import (
    LOCK_DIR_VARIABLE,
    claim_gpu,
    default_lock_dir,
    lock_file_name,
    machine_may_have_gpu,
    nvidia_driver_version,
)


def test_two_claims_get_different_gpus_and_a_release_frees_one(tmp_path):
    first = claim_gpu([GPU_A, GPU_B], tmp_path)
    second = claim_gpu([GPU_A, GPU_B], tmp_path)
    assert {(first.index, first.uuid), (second.index, second.uuid)} == {(0, GPU_A), (1, GPU_B)}
    with pytest.raises(TimeoutError):
        claim_gpu([GPU_A, GPU_B], tmp_path, poll_s=0.01, timeout_s=0.05)
    first.release()
    assert claim_gpu([GPU_A, GPU_B], tmp_path).uuid == first.uuid


def test_claims_by_uuid_keep_apart_jobs_that_see_different_lists_of_gpus(tmp_path):
    # One job was given GPU B alone (its cuda:0); another sees both, B as its cuda:1. By index both would call
    # their first free GPU "0" and share B; by UUID the second takes A.
    only_b = claim_gpu([GPU_B], tmp_path)
    both = claim_gpu([GPU_A, GPU_B], tmp_path)
    assert (only_b.index, only_b.uuid) == (0, GPU_B)
    assert (both.index, both.uuid) == (0, GPU_A)
    with pytest.raises(TimeoutError):  # B is taken, whatever index a job knows it by
        claim_gpu([GPU_B, GPU_A], tmp_path, poll_s=0.01, timeout_s=0.05)


def test_uuid_claims_refuse_an_empty_or_repeated_list(tmp_path):
    with pytest.raises(ValueError, match="at least one GPU"):
        claim_gpu([], tmp_path)
    with pytest.raises(ValueError, match="not distinct"):
        claim_gpu([GPU_A, GPU_A], tmp_path)


def test_uuid_lock_files_have_plain_names():
    assert lock_file_name(GPU_A) == f"gpu-{GPU_A}.lock"
    assert lock_file_name("MIG-GPU-5f2a/1/0") == "gpu-MIG-GPU-5f2a_1_0.lock"


def test_uuid_claims_inside_a_slurm_allocation_of_several_gpus_give_each_job_its_own(tmp_path, monkeypatch):
    # Several jobs in one allocation (snakemake inside salloc/sbatch) see the same granted GPUs.
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_JOB_GPUS", "2,3")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    first = claim_gpu([GPU_A, GPU_B], tmp_path / "locks")
    second = claim_gpu([GPU_A, GPU_B], tmp_path / "locks")
    assert {first.uuid, second.uuid} == {GPU_A, GPU_B}
    assert (tmp_path / "locks" / lock_file_name(GPU_A)).exists()


def test_the_lock_folder_and_files_are_open_to_every_user_whatever_the_umask(tmp_path):
    lock_dir = tmp_path / "locks"
    previous_umask = os.umask(0o077)
    try:
        claim = claim_gpu([GPU_A], lock_dir)
    finally:
        os.umask(previous_umask)
    assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o1777
    assert stat.S_IMODE((lock_dir / lock_file_name(GPU_A)).stat().st_mode) == 0o666
    claim.release()


def test_every_user_shares_one_default_lock_folder_whatever_their_tmpdir(monkeypatch, tmp_path):
    monkeypatch.delenv(LOCK_DIR_VARIABLE, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None  # forget the cached temp folder so that TMPDIR is read again
    try:
        assert default_lock_dir() == Path("/tmp/torchbasics-gpu-locks")
    finally:
        tempfile.tempdir = None
    monkeypatch.setenv(LOCK_DIR_VARIABLE, str(tmp_path / "mine"))
    assert default_lock_dir() == tmp_path / "mine"


@pytest.mark.parametrize(
    ("visible", "nvidia_gpus", "amd_driver", "expected"),
    [
        (None, [], False, False),  # no driver: CPU only
        (None, ["0000:01:00.0"], False, True),  # NVIDIA's driver lists a GPU
        (None, [], True, True),  # AMD's ROCm driver
        ("", ["0000:01:00.0"], False, False),  # the environment grants no GPU, whatever the machine has
        ("-1", ["0000:01:00.0"], True, False),
        ("1", [], False, True),  # granted one: trust the grant (SLURM sets it on the node)
    ],
)
def test_whether_the_machine_may_have_a_gpu(tmp_path, monkeypatch, visible, nvidia_gpus, amd_driver, expected):
    nvidia_list = tmp_path / "nvidia" / "gpus"
    nvidia_list.mkdir(parents=True)
    for bus_id in nvidia_gpus:
        (nvidia_list / bus_id).mkdir()
    amd_device = tmp_path / "kfd"
    if amd_driver:
        amd_device.touch()
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert machine_may_have_gpu(nvidia_list, amd_device) is expected


def test_the_nvidia_driver_version_is_read_from_the_kernel(tmp_path):
    version_file = tmp_path / "version"
    version_file.write_text(
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  (dvs-builder@U16)\n"
        "GCC version:  gcc version 12.2.0\n"
    )
    assert nvidia_driver_version(version_file) == "550.54.15"
    version_file.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.161.07  Thu Feb 29 2024\n")
    assert nvidia_driver_version(version_file) == "535.161.07"
    assert nvidia_driver_version(tmp_path / "missing") is None
