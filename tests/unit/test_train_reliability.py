"""Training when things go wrong: damaged or missing kept checkpoints, a resume at another thread count or on
another kind of device, a full disk; and the float32 loss under bfloat16."""

import errno
import logging
import pathlib
import re

import pytest
import torch
from training_runs import (
    SETTINGS,
    assert_same_weights,
    digest_of,
    learning_columns,
    rerun_as_snakemake_would,
    train,
)

import torchbasics.classifier.train
from torchbasics.classifier.history import read_history
from torchbasics.classifier.train import ResumeFolder, TrainSettings, how_training_changed
from torchbasics.core.errors import DiskFullError
from torchbasics.core.fetch import file_digest
from torchbasics.core.io import atomic_path, read_json, write_json

# Bit-identical numbers need the same thread count in every run (it can change the order of float sums).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def with_epochs(epochs: int) -> TrainSettings:
    return TrainSettings(**{**SETTINGS.__dict__, "epochs": epochs})


def loads(checkpoint) -> bool:
    try:
        torch.load(checkpoint, weights_only=True)
    except Exception:  # noqa: BLE001 - whatever torch raises for a damaged file
        return False
    return True


# ------------------------------------------------------------------------------ damaged kept checkpoints


def truncate(path):
    with open(path, "r+b") as stream:
        stream.truncate(100_000)


def overwrite_400_bytes(path):
    with open(path, "r+b") as stream:
        stream.seek(path.stat().st_size // 2)
        stream.write(bytes(range(200)) * 2)


@pytest.mark.slow
def test_a_damaged_kept_checkpoint_is_trained_again_even_with_nothing_left_to_train(npz, reference, tmp_path, caplog):
    train(npz, tmp_path)
    truncate(tmp_path / ".resume" / "epoch_02.pt")
    rerun_as_snakemake_would(npz, tmp_path, 2, caplog)  # epochs 1 and 2 were completed by the 3-epoch run
    assert "the checkpoint of epoch 2 in" in caplog.text and "is damaged" in caplog.text
    assert "training again from epoch 2" in caplog.text
    assert "nothing to train" not in caplog.text and "epoch 1/2 done" not in caplog.text
    assert "epoch 2/2 done" in caplog.text
    published = tmp_path / "epoch_02.pt"
    assert loads(published)
    assert_same_weights(published, reference / "epoch_02.pt")
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")[:2]


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "400 bytes overwritten", "missing"])
def test_a_damaged_or_missing_kept_checkpoint_is_retrained_with_the_epochs_after_it(
    npz, reference, tmp_path, caplog, damage
):
    train(npz, tmp_path, with_epochs(2))
    kept = tmp_path / ".resume" / "epoch_02.pt"
    if damage == "truncated":
        truncate(kept)
    elif damage == "missing":
        kept.unlink()
    else:
        overwrite_400_bytes(kept)
        assert loads(kept)  # torch cannot tell: only the recorded digest can
    rerun_as_snakemake_would(npz, tmp_path, 3, caplog)
    found = "is missing" if damage == "missing" else "is damaged (its sha256 is not the one recorded"
    assert f"the checkpoint of epoch 2 in {tmp_path / '.resume'} {found}" in caplog.text
    assert "resuming plain after epoch 1 of 3" in caplog.text
    assert "epoch 1/3 done" not in caplog.text  # epoch 1 was intact, so it is kept
    assert "epoch 2/3 done" in caplog.text and "epoch 3/3 done" in caplog.text
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")
    for epoch in (1, 2, 3):
        assert_same_weights(tmp_path / f"epoch_{epoch:02d}.pt", reference / f"epoch_{epoch:02d}.pt")
    # and what is kept now is recorded as it was written
    resume = ResumeFolder(tmp_path / ".resume", digest_of(npz))
    assert len(resume.completed_history(3)) == 3
    assert resume.checkpoint_sha256 == [file_digest(resume.checkpoint(epoch), "sha256") for epoch in (1, 2, 3)]


@pytest.mark.slow
def test_damage_to_a_published_checkpoint_does_not_reach_the_kept_one(npz, reference, tmp_path, caplog):
    train(npz, tmp_path)
    truncate(tmp_path / "epoch_03.pt")
    assert loads(tmp_path / ".resume" / "epoch_03.pt")
    # the user deletes the damaged result (Snakemake deletes the job's other outputs) and runs again
    rerun_as_snakemake_would(npz, tmp_path, 3, caplog)
    assert "all 3 epochs of plain were completed by an earlier run" in caplog.text  # restored, not retrained
    assert_same_weights(tmp_path / "epoch_03.pt", reference / "epoch_03.pt")


@pytest.mark.slow
def test_progress_kept_without_checkpoint_digests_is_not_trusted(npz, tmp_path, caplog):
    train(npz, tmp_path, with_epochs(1))
    state_path = tmp_path / ".resume" / "state.json"
    write_json(state_path, {key: value for key, value in read_json(state_path).items() if key != "checkpoint_sha256"})
    rerun_as_snakemake_would(npz, tmp_path, 2, caplog)
    assert "it records no checkpoint digests); starting over" in caplog.text
    assert "epoch 1/2 done" in caplog.text


# ------------------------------------------------------------------------- how the kept epochs were trained


@pytest.mark.slow
def test_epochs_trained_on_another_kind_of_device_are_not_resumed(npz, tmp_path, caplog):
    train(npz, tmp_path, with_epochs(1))
    state_path = tmp_path / ".resume" / "state.json"
    state = read_json(state_path)
    state["history"][0]["device"] = "cuda:0"
    write_json(state_path, state)
    rerun_as_snakemake_would(npz, tmp_path, 2, caplog)
    assert "were trained with device cuda (this run: cpu)" in caplog.text
    assert "epoch 1/2 done" in caplog.text


def test_only_the_kind_of_device_counts_not_its_index():
    threads = torch.get_num_threads()
    rows = [{"device": "cuda:1", "precision": "float32", "threads": threads}] * 2
    assert how_training_changed(rows, "cuda:0", "float32") == ""
    assert how_training_changed(rows, "cuda:0", "bfloat16") == "precision float32 (this run: bfloat16)"
    mixed = [rows[0], {**rows[0], "threads": threads + 1}]
    assert how_training_changed(mixed, "cuda", "float32") == f"threads {threads}, {threads + 1} (this run: {threads})"


@pytest.mark.slow
def test_with_nothing_left_to_train_the_kept_epochs_keep_their_thread_count(npz, reference, tmp_path, caplog):
    """Nothing is trained, so nothing is mixed: the records say how the reused epochs were made."""
    train(npz, tmp_path)
    torch.set_num_threads(2)
    rerun_as_snakemake_would(npz, tmp_path, 2, caplog)
    assert "all 2 epochs of plain were completed by an earlier run" in caplog.text
    assert read_history(tmp_path / "history.csv")["threads"].tolist() == [1, 1]
    assert torch.load(tmp_path / "epoch_02.pt", weights_only=True)["threads"] == 1


# ------------------------------------------------------------------------------------------ a full disk


def test_a_full_disk_is_named_with_its_folder(tmp_path):
    target = tmp_path / "results" / "table.csv"
    with pytest.raises(DiskFullError) as raised, atomic_path(target) as tmp:
        tmp.write_text("partial")
        with open("/dev/full", "wb") as full:  # the kernel's own "no space left on device"
            full.write(b"x")
    assert raised.value.errno == errno.ENOSPC
    assert f"the disk holding {target.parent} is full" in str(raised.value)
    assert "MiB free of" in str(raised.value)
    assert list(target.parent.iterdir()) == []  # no partial file


def fill_the_disk_of(folder, monkeypatch):
    """Make every write of a whole file under ``folder`` fail half-way, as on a full disk."""
    write_bytes, write_text = pathlib.Path.write_bytes, pathlib.Path.write_text

    def full(path, data, original):
        if folder not in path.parents:
            return original(path, data)
        original(path, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pathlib.Path, "write_bytes", lambda path, data: full(path, data, write_bytes))
    monkeypatch.setattr(pathlib.Path, "write_text", lambda path, data: full(path, data, write_text))


def test_the_json_writer_names_a_full_disk(tmp_path, monkeypatch):
    fill_the_disk_of(tmp_path, monkeypatch)
    with pytest.raises(DiskFullError, match=re.escape(f"cannot write state.json: the disk holding {tmp_path} is full")):
        write_json(tmp_path / "state.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_full_disk_while_checkpointing_is_named_and_the_run_resumes_once_there_is_space(
    npz, reference, tmp_path, caplog
):
    resume = tmp_path / ".resume"
    with pytest.MonkeyPatch.context() as patch:
        # epoch 1 fits; the disk is full when epoch 2's checkpoint is written
        original_record = torchbasics.classifier.train.record_epoch

        def record(*arguments):  # record_epoch(model, optimizer, resume, settings, history, ...)
            if len(arguments[4]) == 2:
                fill_the_disk_of(resume, patch)
            return original_record(*arguments)

        patch.setattr(torchbasics.classifier.train, "record_epoch", record)
        full = re.escape(f"cannot write epoch_02.pt: the disk holding {resume} is full")
        with pytest.raises(DiskFullError, match=full):
            train(npz, tmp_path)
    assert sorted(path.name for path in resume.iterdir()) == ["epoch_01.pt", "state.json"]  # nothing partial
    assert len(ResumeFolder(resume, digest_of(npz)).completed_history(3)) == 1

    rerun_as_snakemake_would(npz, tmp_path, 3, caplog)
    assert "resuming plain after epoch 1 of 3" in caplog.text
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")
    assert_same_weights(tmp_path / "epoch_03.pt", reference / "epoch_03.pt")


def test_a_full_disk_fails_the_job_with_one_logged_line(tmp_path):
    from test_runtime import fake_snakemake

    from torchbasics.core.runtime import run_script

    def main(snakemake):
        with atomic_path(tmp_path / "results" / "epoch_07.pt") as tmp, open("/dev/full", "wb") as full:
            tmp.write_bytes(b"partial")
            full.write(b"x")

    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        with pytest.raises(SystemExit) as exit_info:
            run_script(fake_snakemake(tmp_path / "logs" / "job.log"), main)
    finally:  # run_script points the root logger at the job's log file
        for handler in set(root.handlers) - set(saved):
            handler.close()
        root.handlers[:] = saved
    assert exit_info.value.code == 1
    log_text = (tmp_path / "logs" / "job.log").read_text()
    assert f"ERROR cannot write epoch_07.pt: the disk holding {tmp_path / 'results'} is full" in log_text
    assert "Traceback" not in log_text


# ------------------------------------------------------------------------------ the loss under bfloat16


@pytest.mark.slow
def test_under_bfloat16_the_loss_is_taken_in_float32_from_bfloat16_logits(npz, tmp_path, monkeypatch):
    forward_dtypes, loss_dtypes = set(), set()
    build_model, cross_entropy = torchbasics.classifier.train.build_model, torch.nn.functional.cross_entropy

    def recording_model(variant):
        model = build_model(variant)
        model.register_forward_hook(lambda module, inputs, output: forward_dtypes.add(output.dtype))
        return model

    def recording_cross_entropy(logits, labels, *args, **kwargs):
        loss = cross_entropy(logits, labels, *args, **kwargs)
        loss_dtypes.add((logits.dtype, loss.dtype))
        return loss

    monkeypatch.setattr(torchbasics.classifier.train, "build_model", recording_model)
    monkeypatch.setattr(torch.nn.functional, "cross_entropy", recording_cross_entropy)
    bfloat16 = TrainSettings(**{**SETTINGS.__dict__, "implementation": "fast", "epochs": 1, "precision": "bfloat16"})
    train(npz, tmp_path, bfloat16)
    assert torch.bfloat16 in forward_dtypes  # the forward pass did run in bfloat16
    assert loss_dtypes == {(torch.float32, torch.float32)}
