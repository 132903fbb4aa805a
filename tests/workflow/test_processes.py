"""What only a process of its own shows: a training run killed mid-way resumes, glibc keeps freed activation
blocks for reuse from the start of a job, and what a job's imports load."""

import logging
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import REPO
from training_runs import (
    SETTINGS,
    assert_same_weights,
    digest_of,
    killed_run,
    learning_columns,
    rerun_as_snakemake_would,
    train,
)

from torchbasics.classifier.history import read_history
from torchbasics.classifier.train import ResumeFolder, TrainSettings
from torchbasics.core.fetch import file_digest
from torchbasics.core.io import read_json, write_json
from torchbasics.core.runtime import ON_GLIBC

# Bit-identical numbers need the same thread count in every run (it can change the order of float sums).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_killed_run_resumes_from_its_last_epoch_and_matches_an_uninterrupted_one(npz, reference, tmp_path, caplog):
    killed = killed_run(npz, tmp_path, kill_after=2)
    assert killed.returncode == 137, killed.stderr
    assert len(ResumeFolder(tmp_path / ".resume", digest_of(npz)).completed_history(3)) == 2
    # Snakemake deletes a failed job's declared outputs before the job runs again
    for output in (tmp_path / "history.csv", *tmp_path.glob("epoch_*.pt")):
        output.unlink()

    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, tmp_path)
    assert "resuming plain after epoch 2 of 3" in caplog.text
    assert "epoch 1/3 done" not in caplog.text and "epoch 3/3 done" in caplog.text  # only epoch 3 was trained
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")
    for epoch in (1, 2, 3):
        assert_same_weights(tmp_path / f"epoch_{epoch:02d}.pt", reference / f"epoch_{epoch:02d}.pt")


def test_progress_of_another_config_is_not_resumed(npz, tmp_path, caplog):
    killed = killed_run(npz, tmp_path, kill_after=1)
    assert killed.returncode == 137, killed.stderr
    changed = TrainSettings(**{**SETTINGS.__dict__, "lr": 5e-4, "epochs": 2})
    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, tmp_path, changed)
    assert "belongs to another config or data; starting over" in caplog.text
    assert "epoch 1/2 done" in caplog.text
    # the same as a fresh run of the changed config
    fresh = tmp_path / "fresh"
    train(npz, fresh, changed)
    assert learning_columns(tmp_path / "history.csv") == learning_columns(fresh / "history.csv")


def test_progress_saved_by_an_older_network_layout_starts_over_from_a_clean_model(npz, reference, tmp_path, caplog):
    killed = killed_run(npz, tmp_path, kill_after=1)
    assert killed.returncode == 137, killed.stderr
    checkpoint = ResumeFolder(tmp_path / ".resume", digest_of(npz)).checkpoint(1)
    state = torch.load(checkpoint, weights_only=True)
    # Before pooling moved ahead of the ReLU, the plain network's convs sat at features.0, .2, .4 and .6.
    state["model"] = {name.replace("features.1.", "features.2."): tensor for name, tensor in state["model"].items()}
    torch.save(state, checkpoint)
    # as an older version wrote it: its digest recorded with it
    recorded = read_json(checkpoint.parent / "state.json")
    recorded["checkpoint_sha256"][0] = file_digest(checkpoint, "sha256")
    write_json(checkpoint.parent / "state.json", recorded)
    for output in (tmp_path / "history.csv", *tmp_path.glob("epoch_*.pt")):
        output.unlink()

    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, tmp_path)
    assert "its weights do not fit this network (missing features.1.0.bias" in caplog.text
    assert "epoch 1/3 done" in caplog.text
    # the tensors that did fit were not loaded into the model before the others were found missing
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")
    assert_same_weights(tmp_path / "epoch_03.pt", reference / "epoch_03.pt")


def test_a_killed_run_with_fewer_epochs_reuses_its_progress(npz, reference, tmp_path, caplog):
    killed = killed_run(npz, tmp_path, kill_after=2)  # a 3-epoch run killed after epoch 2
    assert killed.returncode == 137, killed.stderr
    rerun_as_snakemake_would(npz, tmp_path, 1, caplog)
    assert "all 1 epochs of plain were completed by an earlier run" in caplog.text
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")[:1]


def test_a_run_killed_at_one_thread_and_rerun_at_two_starts_over(npz, tmp_path, caplog):
    killed = killed_run(npz, tmp_path, kill_after=2)  # trains at one thread
    assert killed.returncode == 137, killed.stderr
    torch.set_num_threads(2)
    rerun_as_snakemake_would(npz, tmp_path, 3, caplog)
    assert "were trained with threads 1 (this run: 2): training plain from epoch 1" in caplog.text
    assert "epoch 1/3 done" in caplog.text
    assert read_history(tmp_path / "history.csv")["threads"].tolist() == [2, 2, 2]
    fresh = tmp_path / "fresh"
    train(npz, fresh)
    assert learning_columns(tmp_path / "history.csv") == learning_columns(fresh / "history.csv")
    for epoch in (1, 2, 3):
        assert_same_weights(tmp_path / f"epoch_{epoch:02d}.pt", fresh / f"epoch_{epoch:02d}.pt")


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


def modules_loaded_by(*modules):
    code = f"import sys; sys.path.insert(0, sys.argv[1]); import {', '.join(modules)}; print(' '.join(sys.modules))"
    command = [sys.executable, "-c", code, str(REPO / "workflow" / "scripts")]
    return set(subprocess.run(command, capture_output=True, text=True, check=True).stdout.split())


def test_training_and_evaluation_jobs_do_not_import_torchvision_for_the_default_data_path():
    # torchvision's import loads torch's compiler stack, seconds that an evaluation job would pay for nothing;
    # only the per-image reference paths use torchvision.
    loaded = modules_loaded_by("torchbasics.classifier.train", "torchbasics.classifier.evaluate")
    assert "torch" in loaded
    assert "torchvision" not in loaded
