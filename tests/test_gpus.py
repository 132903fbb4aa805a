"""One device per job: concurrent jobs claim different GPU indices; SLURM's grant is taken as is."""

import subprocess
import sys
import textwrap

import pytest

from conftest import REPO
from torchbasics.gpus import claim_gpu


def test_two_claims_get_different_indices_and_a_release_frees_one(tmp_path):
    first = claim_gpu(2, tmp_path)
    second = claim_gpu(2, tmp_path)
    assert {first.index, second.index} == {0, 1}
    with pytest.raises(TimeoutError):
        claim_gpu(2, tmp_path, poll_s=0.01, timeout_s=0.05)
    first.release()
    assert claim_gpu(2, tmp_path).index == first.index


def test_a_killed_job_leaves_no_stale_claim(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO / 'workflow' / 'scripts')!r})
        from torchbasics.gpus import claim_gpu
        claim = claim_gpu(1, {str(tmp_path)!r})
        print(claim.index, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "0"
    holder.kill()
    holder.wait()
    assert claim_gpu(1, tmp_path, poll_s=0.01, timeout_s=2).index == 0


def test_under_slurm_the_granted_device_is_used_without_locks(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert claim_gpu(4, tmp_path / "locks").index == 0
    assert not (tmp_path / "locks").exists()


SNAKEFILE = """
rule all:
    input: "a.txt", "b.txt"

rule train:
    output: "{name}.txt"
    resources: gpu=1
    run:
        import sys, time
        sys.path.insert(0, LIBRARY)
        from torchbasics.gpus import claim_gpu
        claim = claim_gpu(2, LOCKS)     # two simulated devices
        started = time.time()
        time.sleep(3)                   # both jobs hold their device at the same time
        with open(output[0], "w") as out:
            out.write(f"{claim.index} {started} {time.time()}")
"""


def test_snakemake_with_two_gpus_runs_two_jobs_on_different_devices(tmp_path):
    header = f"LIBRARY = {str(REPO / 'workflow' / 'scripts')!r}\nLOCKS = {str(tmp_path / 'locks')!r}\n"
    (tmp_path / "Snakefile").write_text(header + SNAKEFILE)
    result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--resources", "gpu=2"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    runs = [(tmp_path / name).read_text().split() for name in ("a.txt", "b.txt")]
    (index_a, start_a, end_a), (index_b, start_b, end_b) = [(int(i), float(s), float(e)) for i, s, e in runs]
    assert max(float(start_a), start_b) < min(end_a, end_b), "the two jobs did not overlap"
    assert index_a != index_b
