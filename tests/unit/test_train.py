"""Training on a tiny split: repeatability, resuming with more or fewer epochs, the records it keeps (a run killed
mid-way: tests/workflow/test_processes.py)."""

import logging

import pytest
import torch
from training_runs import (
    SETTINGS,
    SPLIT,
    assert_same_weights,
    digest_of,
    learning_columns,
    outputs_in,
    rerun_as_snakemake_would,
    train,
)

from torchbasics.classifier.history import read_history
from torchbasics.classifier.train import (
    TrainSettings,
    config_digest,
    epoch_generator,
    train_variant,
)
from torchbasics.core.errors import InputError
from torchbasics.core.fetch import file_digest
from torchbasics.core.io import read_json, write_json
from torchbasics.data.cifar10 import load_splits

# Bit-identical numbers need the same thread count in every run (it can change the order of float sums).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.slow
def test_a_run_records_every_epoch(reference):
    history = read_history(reference / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert (history["device"] == "cpu").all() and (history["seconds"] > 0).all() and (history["images_per_s"] > 0).all()
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]  # it learns
    for epoch in (1, 2, 3):
        state = torch.load(reference / f"epoch_{epoch:02d}.pt", weights_only=True)
        assert (state["variant"], state["epoch"], state["seed"], state["device"]) == ("plain", epoch, 11, "cpu")
        assert set(state["optimizer"]) == {"state", "param_groups"}
        # the progress kept for later runs: the same bytes, in a file of its own (damage to one spares the other)
        kept, published = reference / ".resume" / f"epoch_{epoch:02d}.pt", reference / f"epoch_{epoch:02d}.pt"
        assert not kept.samefile(published) and kept.read_bytes() == published.read_bytes()


@pytest.mark.slow
def test_the_same_config_gives_the_same_history_and_weights(npz, reference, tmp_path):
    train(npz, tmp_path)
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")
    for epoch in (1, 2, 3):
        assert_same_weights(tmp_path / f"epoch_{epoch:02d}.pt", reference / f"epoch_{epoch:02d}.pt")


@pytest.mark.slow
def test_another_seed_gives_another_run(npz, reference, tmp_path):
    train(npz, tmp_path, TrainSettings(**{**SETTINGS.__dict__, "seed": 12}))
    assert learning_columns(tmp_path / "history.csv") != learning_columns(reference / "history.csv")


@pytest.mark.slow
def test_progress_is_logged(npz, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, tmp_path, TrainSettings(**{**SETTINGS.__dict__, "epochs": 1}))
    assert "epoch 1/1 batch 6/6 loss" in caplog.text
    assert "img/s, left: epoch 0:00:00" in caplog.text
    assert "training plain on cpu" in caplog.text


@pytest.mark.slow
def test_unreadable_resume_state_starts_over(npz, tmp_path, caplog):
    resume = tmp_path / ".resume"
    resume.mkdir()
    (resume / "state.json").write_text("{not json")
    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, tmp_path, TrainSettings(**{**SETTINGS.__dict__, "epochs": 1}))
    assert "ignoring unreadable resume state" in caplog.text
    assert len(read_history(tmp_path / "history.csv")) == 1


def test_digest_covers_what_shapes_the_numbers(npz):
    base = digest_of(npz)
    assert digest_of(npz) == base
    for change in (
        {"seed": 12},
        {"lr": 1e-4},
        {"variant": "residual"},
        {"batch_size": 16},
        {"implementation": "fast"},
        {"precision": "bfloat16"},
    ):
        assert digest_of(npz, TrainSettings(**{**SETTINGS.__dict__, **change})) != base, change
    # epoch k comes out the same whatever the total, so runs of different lengths share their progress
    assert digest_of(npz, TrainSettings(**{**SETTINGS.__dict__, "epochs": 4})) == base
    assert config_digest(SETTINGS, {**SPLIT, "val": [192, 250]}, file_digest(npz, "sha256")) != base
    assert config_digest(SETTINGS, SPLIT, "another data set") != base


def test_each_epoch_draws_from_its_own_streams():
    def draw(seed, epoch, stream):
        return torch.randint(0, 2**31, (4,), generator=epoch_generator(seed, epoch, stream)).tolist()

    assert draw(1, 2, 0) == draw(1, 2, 0)
    assert len({tuple(draw(*key)) for key in [(1, 2, 0), (1, 3, 0), (2, 2, 0), (1, 2, 1)]}) == 4


@pytest.mark.slow
def test_checkpoint_paths_must_cover_every_epoch(npz, tmp_path):
    splits = load_splits(npz, SPLIT, ("train", "val"))
    with pytest.raises(InputError, match="2 checkpoint paths for 3 epochs"):
        train_variant(
            SETTINGS,
            splits,
            device="cpu",
            digest="d",
            outputs=outputs_in(tmp_path, epochs=2),
            resume_folder=tmp_path / ".resume",
        )


@pytest.mark.slow
def test_the_batched_backend_is_repeatable_too(npz, tmp_path):
    batched = TrainSettings(**{**SETTINGS.__dict__, "implementation": "fast", "epochs": 2})
    train(npz, tmp_path / "first", batched)
    train(npz, tmp_path / "second", batched)
    assert learning_columns(tmp_path / "first" / "history.csv") == learning_columns(tmp_path / "second" / "history.csv")
    for epoch in (1, 2):
        assert_same_weights(tmp_path / "first" / f"epoch_{epoch:02d}.pt", tmp_path / "second" / f"epoch_{epoch:02d}.pt")
    history = read_history(tmp_path / "first" / "history.csv")
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]  # it learns


def test_both_batch_sources_give_the_same_batches_in_the_same_order(npz):
    from torchbasics.classifier.batches import CifarImages, DeviceImages

    split = load_splits(npz, SPLIT, ("train",))["train"]
    loader = CifarImages(split.X, split.y).batches(50, epoch_generator(1, 1, 0))
    resident = DeviceImages(split.X, split.y, "cpu").batches(50, epoch_generator(1, 1, 0))
    pairs = list(zip(loader, resident, strict=True))
    assert len(pairs) == 4  # 192 images: three batches of 50 and one of 42
    for (images_a, labels_a), (images_b, labels_b) in pairs:
        assert torch.equal(images_a, images_b) and torch.equal(labels_a, labels_b)


@pytest.mark.slow
def test_bfloat16_training_is_repeatable_and_recorded(npz, reference, tmp_path):
    bfloat16 = TrainSettings(**{**SETTINGS.__dict__, "implementation": "fast", "epochs": 2, "precision": "bfloat16"})
    train(npz, tmp_path / "first", bfloat16)
    train(npz, tmp_path / "second", bfloat16)
    assert learning_columns(tmp_path / "first" / "history.csv") == learning_columns(tmp_path / "second" / "history.csv")
    assert_same_weights(tmp_path / "first" / "epoch_02.pt", tmp_path / "second" / "epoch_02.pt")
    history = read_history(tmp_path / "first" / "history.csv")
    assert (history["precision"] == "bfloat16").all() and (history["threads"] == 1).all()
    state = torch.load(tmp_path / "first" / "epoch_02.pt", weights_only=True)
    assert state["precision"] == "bfloat16"
    assert all(tensor.dtype == torch.float32 for tensor in state["model"].values())  # the weights stay float32
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]  # it learns


@pytest.mark.slow
def test_bfloat16_changes_the_numbers_of_the_same_run(npz, tmp_path):
    float32 = TrainSettings(**{**SETTINGS.__dict__, "implementation": "fast", "epochs": 1})
    train(npz, tmp_path / "float32", float32)
    train(npz, tmp_path / "bfloat16", TrainSettings(**{**float32.__dict__, "precision": "bfloat16"}))
    (float32_row,) = read_history(tmp_path / "float32" / "history.csv").to_dict("records")
    (bfloat16_row,) = read_history(tmp_path / "bfloat16" / "history.csv").to_dict("records")
    # the forward pass really ran in bfloat16 (its loss differs), and only by bfloat16's rounding
    assert float32_row["train_loss"] != bfloat16_row["train_loss"]
    assert bfloat16_row["train_loss"] == pytest.approx(float32_row["train_loss"], rel=0.05)


@pytest.mark.slow
def test_raising_the_epochs_trains_only_the_new_ones(npz, reference, tmp_path, caplog):
    train(npz, tmp_path)
    rerun_as_snakemake_would(npz, tmp_path, 4, caplog)
    assert "resuming plain after epoch 3 of 4" in caplog.text
    assert "epoch 3/4 done" not in caplog.text and "epoch 4/4 done" in caplog.text
    longer = tmp_path / "uninterrupted"
    train(npz, longer, TrainSettings(**{**SETTINGS.__dict__, "epochs": 4}))
    assert learning_columns(tmp_path / "history.csv") == learning_columns(longer / "history.csv")
    for epoch in (1, 2, 3, 4):
        assert_same_weights(tmp_path / f"epoch_{epoch:02d}.pt", longer / f"epoch_{epoch:02d}.pt")


@pytest.mark.slow
def test_lowering_the_epochs_trains_nothing_and_leaves_no_undeclared_checkpoint(npz, reference, tmp_path, caplog):
    train(npz, tmp_path)
    rerun_as_snakemake_would(npz, tmp_path, 2, caplog)
    assert "all 2 epochs of plain were completed by an earlier run" in caplog.text
    assert "done: train loss" not in caplog.text
    assert sorted(path.name for path in tmp_path.glob("epoch_*.pt")) == ["epoch_01.pt", "epoch_02.pt"]
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")[:2]
    assert_same_weights(tmp_path / "epoch_02.pt", reference / "epoch_02.pt")
    # and raising them again later still finds the third epoch
    rerun_as_snakemake_would(npz, tmp_path, 3, caplog)
    assert "all 3 epochs of plain were completed by an earlier run" in caplog.text


@pytest.mark.slow
def test_a_checkpoint_left_by_a_longer_run_is_removed_even_when_snakemake_kept_it(npz, tmp_path, caplog):
    train(npz, tmp_path)
    (tmp_path / "history.csv").unlink()
    for epoch in (1, 2):  # Snakemake deletes only what the new, shorter run declares
        (tmp_path / f"epoch_{epoch:02d}.pt").unlink()
    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, tmp_path, TrainSettings(**{**SETTINGS.__dict__, "epochs": 2}))
    assert not (tmp_path / "epoch_03.pt").exists()
    assert "removing" in caplog.text and "epoch_03.pt: the config declares 2 epochs" in caplog.text


@pytest.mark.slow
def test_the_per_class_counts_of_every_epoch_equal_that_epochs_checkpoint_validated_anew(npz, reference):
    # training's own validation pass counts them; the page reads them instead of a second pass over checkpoints
    from torchbasics.classifier.history import read_val_per_class
    from torchbasics.classifier.models import model_from_checkpoint, predict_logits

    table = read_val_per_class(reference / "val_per_class.csv")
    history = read_history(reference / "history.csv")
    val = load_splits(npz, SPLIT, names=("val",))["val"]
    assert table["epoch"].tolist() == [epoch for epoch in range(1, SETTINGS.epochs + 1) for _ in val.label_names]
    for epoch in range(1, SETTINGS.epochs + 1):
        model, _ = model_from_checkpoint(reference / f"epoch_{epoch:02d}.pt", "plain")
        predicted = predict_logits(model, val.X, 16, "cpu", "reference").argmax(dim=1).numpy()
        rows = table[table["epoch"] == epoch]
        assert rows["class"].tolist() == val.label_names
        for label, row in enumerate(rows.itertuples(index=False)):
            of_class = val.y == label
            assert (row.n, row.correct) == (of_class.sum(), (predicted[of_class] == label).sum())
            assert row.accuracy == pytest.approx((predicted[of_class] == label).mean(), rel=0, abs=1e-12)
        assert rows["correct"].sum() / rows["n"].sum() == history["val_accuracy"].iloc[epoch - 1]


@pytest.mark.slow
def test_progress_kept_without_per_class_counts_is_not_trusted(npz, tmp_path, reference, caplog):
    train(npz, tmp_path)
    state_path = tmp_path / ".resume" / "state.json"
    state = read_json(state_path)
    for row in state["history"]:
        del row["val_correct_by_class"]
    write_json(state_path, state)
    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, tmp_path)
    assert "records no validation counts per class" in caplog.text
    assert learning_columns(tmp_path / "history.csv") == learning_columns(reference / "history.csv")
    assert (tmp_path / "val_per_class.csv").read_bytes() == (reference / "val_per_class.csv").read_bytes()
