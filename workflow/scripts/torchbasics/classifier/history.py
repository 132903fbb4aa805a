"""A training run's per-epoch history (its CSV format) and the choice of epoch by validation loss.

Torch-free on purpose: the selection rule and the plots only read CSV and JSON.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from torchbasics.core.errors import InputError
from torchbasics.core.io import read_record, read_table, table_rows, write_record, write_table

# One row per completed epoch. seconds: the epoch's wall time (training and validation); images_per_s: training
# images per second of the training pass (augmentation included); device, precision and threads: how it ran
# (the same config on the same hardware and thread count gives the same numbers).
HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "val_loss",
    "val_accuracy",
    "seconds",
    "images_per_s",
    "device",
    "precision",
    "threads",
)
TEXT_COLUMNS = ("device", "precision")
SELECTION_RULE = "lowest validation loss; ties go to the earlier epoch"
# Each class's validation accuracy at every epoch, counted by training's own validation pass (``train.validate``):
# how a class moved over training, which the page follows for the worst class and the class it is taken for.
VAL_PER_CLASS_COLUMNS = ("epoch", "class", "n", "correct", "accuracy")
# best.json: the epoch chosen by ``SELECTION_RULE`` and its checkpoint (``selection_summary``).
BEST_FIELDS = ("variant", "epoch", "val_loss", "val_accuracy", "train_loss", "checkpoint", "rule", "epochs")


def write_history(path: str | Path, rows: list[dict]) -> None:
    # A diverged epoch's loss is a number that is not one (nan), not a missing value: it is written as such.
    write_table(path, pd.DataFrame(rows, columns=list(HISTORY_COLUMNS)), missing="nan")


def read_history(path: str | Path) -> pd.DataFrame:
    """The history CSV, one row per epoch, checked to be epochs 1, 2, ... in order."""
    numbers = [column for column in HISTORY_COLUMNS if column not in TEXT_COLUMNS]
    history = read_table(path, HISTORY_COLUMNS, "a training history", numbers=numbers)
    if history.empty:
        raise InputError(f"{path}: the training history has no epochs")
    epochs = history["epoch"].tolist()
    if epochs != list(range(1, len(history) + 1)):
        raise InputError(f"{path}: epochs {epochs} are not 1..{len(history)} in order")
    return history


def select_epoch(history: pd.DataFrame) -> dict:
    """The row with the lowest validation loss; ties go to the earlier epoch; NaN losses (divergence) never win."""
    finite = history[history["val_loss"].notna()]
    if finite.empty:
        raise InputError("every epoch's validation loss is NaN: training diverged, no epoch can be chosen")
    return table_rows(finite.sort_values(["val_loss", "epoch"], kind="stable").head(1))[0]


def selection_summary(variant: str, history: pd.DataFrame, checkpoints: list[str]) -> dict:
    """best.json's content: the chosen epoch, its losses and accuracy, and its checkpoint's path."""
    if len(checkpoints) != len(history):
        raise InputError(f"{len(history)} epochs in the history but {len(checkpoints)} checkpoints")
    best = select_epoch(history)
    return {
        "variant": variant,
        "epoch": best["epoch"],
        "val_loss": best["val_loss"],
        "val_accuracy": best["val_accuracy"],
        "train_loss": best["train_loss"],
        "checkpoint": str(checkpoints[best["epoch"] - 1]),
        "rule": SELECTION_RULE,
        "epochs": len(history),
    }


def write_best(path, best: dict) -> None:
    write_record(path, best, BEST_FIELDS)


def read_best(path) -> dict:
    return read_record(path, BEST_FIELDS, "a chosen epoch (best.json)")


def val_per_class_rows(history: list[dict], label_names: list[str], class_sizes: list[int]) -> list[dict]:
    """Rows of ``VAL_PER_CLASS_COLUMNS`` from history rows that hold ``val_correct_by_class``, epoch by epoch;
    ``class_sizes``: the validation split's images of each class."""
    return [
        {"epoch": row["epoch"], "class": name, "n": size, "correct": correct, "accuracy": correct / size}
        for row in history
        for name, size, correct in zip(label_names, class_sizes, row["val_correct_by_class"])
    ]


def write_val_per_class(path: str | Path, rows: list[dict]) -> None:
    write_table(path, pd.DataFrame(rows, columns=list(VAL_PER_CLASS_COLUMNS)))


def read_val_per_class(path: str | Path) -> pd.DataFrame:
    return read_table(
        path,
        VAL_PER_CLASS_COLUMNS,
        "a table of validation accuracy per class and epoch",
        numbers=("epoch", "n", "correct", "accuracy"),
    )
