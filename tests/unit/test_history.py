"""Choosing the epoch by validation loss, on hand-made histories, and the history file's format."""

import math
import re

import pandas as pd
import pytest

from torchbasics.classifier.history import HISTORY_COLUMNS, read_history, select_epoch, selection_summary, write_history
from torchbasics.core.errors import InputError


def history(val_losses):
    return pd.DataFrame(history_rows(val_losses))


def history_rows(val_losses):
    return [
        {
            "epoch": epoch,
            "train_loss": 2.0 / epoch,
            "val_loss": loss,
            "val_accuracy": 0.1 * epoch,
            "seconds": 10.0,
            "images_per_s": 500.0,
            "device": "cpu",
            "precision": "float32",
            "threads": 2,
        }
        for epoch, loss in enumerate(val_losses, start=1)
    ]


def test_lowest_validation_loss_wins():
    assert select_epoch(history([1.9, 1.2, 0.8, 0.95, 1.1]))["epoch"] == 3


def test_ties_go_to_the_earlier_epoch():
    assert select_epoch(history([1.0, 0.7, 0.9, 0.7, 0.7]))["epoch"] == 2


def test_diverged_epochs_never_win():
    assert select_epoch(history([math.nan, 1.5, math.nan, 1.6]))["epoch"] == 2
    with pytest.raises(InputError, match="diverged"):
        select_epoch(history([math.nan, math.nan]))


def test_summary_names_the_chosen_checkpoint():
    checkpoints = [f"results/train/plain/epoch_{epoch:02d}.pt" for epoch in range(1, 5)]
    summary = selection_summary("plain", history([1.5, 1.1, 1.2, 1.3]), checkpoints)
    assert summary["epoch"] == 2
    assert summary["checkpoint"] == "results/train/plain/epoch_02.pt"
    assert (summary["val_loss"], summary["val_accuracy"], summary["train_loss"]) == (1.1, 0.2, 1.0)
    assert summary["variant"] == "plain" and summary["epochs"] == 4


def test_summary_refuses_a_history_that_does_not_match_the_checkpoints():
    with pytest.raises(InputError, match="3 epochs in the history but 2 checkpoints"):
        selection_summary("plain", history([1.0, 0.9, 0.8]), ["a.pt", "b.pt"])


def test_history_round_trip_keeps_every_bit(tmp_path):
    rows = history_rows([2.302585092994046, 1.0000000000000002, 0.1 + 0.2])
    write_history(tmp_path / "history.csv", rows)
    assert read_history(tmp_path / "history.csv").to_dict("records") == rows
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == ",".join(HISTORY_COLUMNS)


def test_a_diverged_epoch_is_written_as_nan_and_read_back_as_one(tmp_path):
    write_history(tmp_path / "history.csv", history_rows([1.5, math.nan]))
    assert (tmp_path / "history.csv").read_text().splitlines()[2].split(",")[2] == "nan"
    back = read_history(tmp_path / "history.csv")
    assert math.isnan(back["val_loss"].iloc[1]) and select_epoch(back)["epoch"] == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ("epoch,train_loss\n1,2.0\n", "column(s) val_loss, val_accuracy"),
        (",".join(HISTORY_COLUMNS) + "\n", "has no epochs"),
        (
            ",".join(HISTORY_COLUMNS) + "\n1,2.0,abc,0.1,1,1,cpu,float32,2\n",
            "line 2: malformed value 'abc' in column 'val_loss'",
        ),
        (
            ",".join(HISTORY_COLUMNS) + "\n2,2.0,1.0,0.1,1,1,cpu,float32,2\n1,2.0,1.0,0.1,1,1,cpu,float32,2\n",
            "epochs [2, 1] are not 1..2",
        ),
    ],
)
def test_malformed_history_is_refused_clearly(tmp_path, content, message):
    (tmp_path / "history.csv").write_text(content)
    with pytest.raises(InputError, match=re.escape(message)):
        read_history(tmp_path / "history.csv")


def test_missing_history_is_refused_clearly(tmp_path):
    with pytest.raises(InputError, match="cannot read a training history"):
        read_history(tmp_path / "history.csv")
