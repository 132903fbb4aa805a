"""GPU claims across processes: a killed job frees its GPU, Snakemake runs two GPU jobs on two devices, jobs of
other users share the lock folder, and the workflow reads the GPU module without torch."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest
from conftest import REPO
from launch import snakemake
from make_inputs import GPU_A, GPU_B

from torchbasics.core.gpus import LOCK_DIR_VARIABLE, claim_gpu, lock_file_name

# Two unprivileged users of one workstation (uids without a passwd entry are fine for setuid).
USER_A, USER_B = 65533, 65534


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
    result = snakemake("--cores", "2", "--resources", "gpu=2", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    runs = [(tmp_path / name).read_text().split() for name in ("a.txt", "b.txt")]
    (index_a, start_a, end_a), (index_b, start_b, end_b) = [(int(i), float(s), float(e)) for i, s, e in runs]
    assert max(float(start_a), start_b) < min(end_a, end_b), "the two jobs did not overlap"
    assert index_a != index_b


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


def test_the_gpu_module_stands_alone():
    # runtime uses gpus, never the other way round: the workflow imports gpus at parse time without torch
    code = (
        "import sys, torchbasics.core.gpus; "
        "sys.exit('torchbasics.core.runtime' in sys.modules or 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO / "workflow" / "scripts", capture_output=True)
    assert result.returncode == 0, result.stderr
