"""What only a CUDA GPU can show: training repeats bit for bit there, two jobs never share a GPU, the compiled
denoising step really compiles. Skipped on machines without one; ``benchmarks/gpu_check.sh`` runs them in a
process of their own, so that the determinism settings come before CUDA starts, as in a job."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from conftest import REPO

from torchbasics.core.gpus import claim_gpu
from torchbasics.core.runtime import make_cuda_deterministic, visible_gpu_uuids

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (benchmarks/gpu_check.sh)")


@pytest.fixture(scope="module", autouse=True)
def deterministic_cuda():
    make_cuda_deterministic()  # as job_runtime does, before any CUDA work of this process


def train_one_epoch_on_cuda(folder):
    from torchbasics.classifier.train import RunOutputs, TrainSettings, train_variant
    from torchbasics.data.cifar10 import Split

    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 256, (384, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 384)
    names = [str(label) for label in range(10)]
    splits = {"train": Split(X[:256], y[:256], names, 0), "val": Split(X[256:], y[256:], names, 256)}
    settings = TrainSettings("residual", 546, 1, 64, 1e-4, "fast", precision="bfloat16")
    outputs = RunOutputs(
        history=folder / "history.csv", checkpoints=[folder / "epoch_01.pt"], val_per_class=folder / "val_per_class.csv"
    )
    history = train_variant(
        settings, splits, device="cuda:0", digest="cuda-test", outputs=outputs, resume_folder=folder / "resume"
    )
    return history, torch.load(folder / "epoch_01.pt", weights_only=True)["model"]


def test_one_epoch_trained_twice_on_cuda_gives_identical_weights(tmp_path):
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
    first_history, first = train_one_epoch_on_cuda(tmp_path / "a")
    second_history, second = train_one_epoch_on_cuda(tmp_path / "b")
    assert [row["val_loss"] for row in first_history] == [row["val_loss"] for row in second_history]
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


HOLD_A_GPU = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from torchbasics.core.runtime import claim_device
    device, claim = claim_device("cuda", "train")
    print(claim.uuid, flush=True)
    time.sleep(120)
""")


def test_two_jobs_claim_distinct_gpus_by_uuid(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHBASICS_GPU_LOCK_DIR", str(tmp_path / "locks"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_GPU, str(REPO / "workflow" / "scripts")], stdout=subprocess.PIPE, text=True
    )
    try:
        held = holder.stdout.readline().strip()
        uuids = visible_gpu_uuids()
        assert held in uuids and all(uuid.startswith(("GPU-", "MIG-")) for uuid in uuids)
        if len(uuids) == 1:  # the only GPU is taken: a second job waits for it
            with pytest.raises(TimeoutError):
                claim_gpu(uuids, tmp_path / "locks", poll_s=0.05, timeout_s=0.5)
        else:
            assert claim_gpu(uuids, tmp_path / "locks", timeout_s=5).uuid != held
    finally:
        holder.kill()
        holder.wait()


def test_the_compiled_denoising_step_does_not_fall_back_to_eager_on_cuda():
    from torchbasics.denoise.denoise import CompiledFusedStep, fused_step

    step = CompiledFusedStep()
    noisy = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)).cuda()
    alpha, lr = torch.tensor(1.5, device="cuda"), torch.tensor(0.9, device="cuda")
    loss, image = step(noisy, noisy.clone(), alpha, lr, "L1")
    assert not step.failed, "torch.compile failed on this GPU: the run would use the eager step"
    eager_loss, eager_image = fused_step(noisy, noisy.clone(), alpha, lr, "L1")
    torch.testing.assert_close(loss, eager_loss)
    torch.testing.assert_close(image, eager_image)
