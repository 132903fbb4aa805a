"""One device per job: concurrent jobs claim different GPUs, by UUID, whoever runs them and whatever list of GPUs
each one sees (SLURM's grant included)."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from conftest import REPO

from torchbasics.core.gpus import (
    LOCK_DIR_VARIABLE,
    claim_gpu,
    default_lock_dir,
    lock_file_name,
    machine_may_have_gpu,
    nvidia_driver_version,
)

# Two GPUs of one machine, as nvidia-smi --query-gpu=uuid names them.
GPU_A, GPU_B = "GPU-5f2a6c1e-0d1b-4f4c-9c1e-2b7d3f0e8a11", "GPU-9b1d0c2e-77aa-4e21-8f3b-0c6d5e4f3a22"


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


def test_a_killed_job_leaves_no_stale_claim(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO / "workflow" / "scripts")!r})
        from torchbasics.core.gpus import claim_gpu
        claim = claim_gpu([{GPU_A!r}], {str(tmp_path)!r})
        print(claim.uuid, flush=True)
        time.sleep(60)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == GPU_A
    holder.kill()
    holder.wait()
    assert claim_gpu([GPU_A], tmp_path, poll_s=0.01, timeout_s=2).uuid == GPU_A


def test_uuid_claims_inside_a_slurm_allocation_of_several_gpus_give_each_job_its_own(tmp_path, monkeypatch):
    # Several jobs in one allocation (snakemake inside salloc/sbatch) see the same granted GPUs.
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_JOB_GPUS", "2,3")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    first = claim_gpu([GPU_A, GPU_B], tmp_path / "locks")
    second = claim_gpu([GPU_A, GPU_B], tmp_path / "locks")
    assert {first.uuid, second.uuid} == {GPU_A, GPU_B}
    assert (tmp_path / "locks" / lock_file_name(GPU_A)).exists()


SNAKEFILE = """
rule all:
    input: "a.txt", "b.txt"

rule train:
    output: "{name}.txt"
    resources: gpu=1
    run:
        import sys, time
        sys.path.insert(0, LIBRARY)
        from torchbasics.core.gpus import claim_gpu
        claim = claim_gpu(["GPU-a", "GPU-b"], LOCKS)    # two simulated devices
        started = time.time()
        time.sleep(3)                   # both jobs hold their device at the same time
        with open(output[0], "w") as out:
            out.write(f"{claim.index} {started} {time.time()}")
"""


def test_snakemake_with_two_gpus_runs_two_jobs_on_different_devices(tmp_path):
    header = f"LIBRARY = {str(REPO / 'workflow' / 'scripts')!r}\nLOCKS = {str(tmp_path / 'locks')!r}\n"
    (tmp_path / "Snakefile").write_text(header + SNAKEFILE)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--resources", "gpu=2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    runs = [(tmp_path / name).read_text().split() for name in ("a.txt", "b.txt")]
    (index_a, start_a, end_a), (index_b, start_b, end_b) = [(int(i), float(s), float(e)) for i, s, e in runs]
    assert max(float(start_a), start_b) < min(end_a, end_b), "the two jobs did not overlap"
    assert index_a != index_b


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


# Two unprivileged users of one workstation (uids without a passwd entry are fine for setuid).
USER_A, USER_B = 65533, 65534
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="switching to other users needs root (CI runs as root)"
)


def fork_as(uid, action):
    """Run ``action()`` in a forked child as user ``uid`` (umask 077, the narrowest usual one).

    Returns (child pid, the first line the child wrote): the action's result, or the exception it raised. The
    child keeps running after answering only when the action blocks (a holder), until it is killed.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.umask(0o077)
            answer = action(lambda line: os.write(write_end, f"{line}\n".encode()))
        except BaseException as error:  # noqa: BLE001 - the parent reads what went wrong
            answer = f"{type(error).__name__}: {error}"
        os.write(write_end, f"{answer}\n".encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as answers:
        return pid, answers.readline().strip()


def stop(pid):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.fixture
def shared_tmp():
    """A folder open to every user like /tmp (pytest's tmp_path is private to root)."""
    folder = tempfile.mkdtemp(prefix="torchbasics-gpus-")
    os.chmod(folder, 0o1777)
    yield folder
    shutil.rmtree(folder)


def hold_gpu(lock_dir):
    def action(say):
        claim = claim_gpu([GPU_A, GPU_B], lock_dir, poll_s=0.01, timeout_s=5)
        say(claim.index)
        time.sleep(60)  # held until the test kills this job

    return action


def claim_index(lock_dir):
    def action(say):
        claim = claim_gpu([GPU_A, GPU_B], lock_dir, poll_s=0.01, timeout_s=5)
        return claim.index

    return action


@needs_root
def test_a_second_user_takes_the_other_gpu_while_the_first_user_holds_one(shared_tmp):
    lock_dir = f"{shared_tmp}/locks"  # created by user A's job, with A's umask
    holder, held = fork_as(USER_A, hold_gpu(lock_dir))
    try:
        assert held == "0"
        claimant, claimed = fork_as(USER_B, claim_index(lock_dir))
        os.waitpid(claimant, 0)
        assert claimed == "1"
    finally:
        stop(holder)
    claimant, claimed = fork_as(USER_B, claim_index(lock_dir))  # A's lock file, now free, works for B
    os.waitpid(claimant, 0)
    assert claimed == "0"


def leave_narrow_folder(lock_dir):
    os.mkdir(lock_dir, 0o755)
    os.chown(lock_dir, USER_A, USER_A)


def leave_narrow_lock_file(lock_dir):
    os.mkdir(lock_dir)
    os.chmod(lock_dir, 0o1777)
    descriptor = os.open(f"{lock_dir}/{lock_file_name(GPU_A)}", os.O_CREAT | os.O_WRONLY, 0o600)
    os.fchown(descriptor, USER_A, USER_A)
    os.close(descriptor)


@needs_root
@pytest.mark.parametrize("leave_behind", [leave_narrow_folder, leave_narrow_lock_file])
def test_another_users_narrower_lock_folder_is_an_error_naming_it_and_the_fix(shared_tmp, leave_behind):
    lock_dir = f"{shared_tmp}/locks"
    leave_behind(lock_dir)
    claimant, answer = fork_as(USER_B, claim_index(lock_dir))
    os.waitpid(claimant, 0)
    assert answer.startswith("InputError: cannot use the GPU lock folder " + lock_dir)
    assert f"chmod 1777 {lock_dir}" in answer and LOCK_DIR_VARIABLE in answer


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


def test_the_gpu_module_stands_alone():
    # runtime uses gpus, never the other way round: the workflow imports gpus at parse time without torch
    code = (
        "import sys, torchbasics.core.gpus; "
        "sys.exit('torchbasics.core.runtime' in sys.modules or 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO / "workflow" / "scripts", capture_output=True)
    assert result.returncode == 0, result.stderr


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
