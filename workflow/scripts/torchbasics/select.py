"""A training run's per-epoch history (its CSV format), the choice of epoch by validation loss, and the checked
CSV reader that part 2's tables share.

Torch-free on purpose: the selection rule and the plots only read CSV and JSON.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .errors import InputError
from .tables import write_csv

# One row per completed epoch. seconds: the epoch's wall time (training and validation); images_per_s: training
# images per second of the training pass (augmentation included); device, precision and threads: how it ran
# (the same config on the same hardware and thread count gives the same numbers).
_HISTORY_TYPES = {
    "epoch": int,
    "train_loss": float,
    "val_loss": float,
    "val_accuracy": float,
    "seconds": float,
    "images_per_s": float,
    "device": str,
    "precision": str,
    "threads": int,
}
HISTORY_COLUMNS = tuple(_HISTORY_TYPES)
SELECTION_RULE = "lowest validation loss; ties go to the earlier epoch"


def read_csv(path: str | Path, types: dict[str, type], what: str) -> list[dict]:
    """The rows of a CSV that has (at least) the columns of ``types``, converted; ``what`` names it in errors."""
    try:
        with open(path, newline="") as stream:
            reader = csv.DictReader(stream)
            missing = [column for column in types if column not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: not {what}: column(s) {', '.join(missing)} missing")
            return [_typed_row(row, types, path, line) for line, row in enumerate(reader, start=2)]
    except OSError as error:
        raise InputError(f"{path}: cannot read {what} ({error})") from error


def _typed_row(row: dict, types: dict[str, type], path, line: int) -> dict:
    try:
        return {column: convert(row[column]) for column, convert in types.items()}
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}, line {line}: malformed value ({error})") from error


def write_history(path: str | Path, rows: list[dict]) -> None:
    write_csv(path, rows, HISTORY_COLUMNS)


def read_history(path: str | Path) -> list[dict]:
    """The rows of a history CSV, typed, checked to be epochs 1, 2, ... in order."""
    rows = read_csv(path, _HISTORY_TYPES, "a training history")
    if not rows:
        raise InputError(f"{path}: the training history has no epochs")
    epochs = [row["epoch"] for row in rows]
    if epochs != list(range(1, len(rows) + 1)):
        raise InputError(f"{path}: epochs {epochs} are not 1..{len(rows)} in order")
    return rows


def select_epoch(history: list[dict]) -> dict:
    """The row with the lowest validation loss; ties go to the earlier epoch; NaN losses (divergence) never win."""
    finite = [row for row in history if not math.isnan(row["val_loss"])]
    if not finite:
        raise InputError("every epoch's validation loss is NaN: training diverged, no epoch can be chosen")
    return min(finite, key=lambda row: (row["val_loss"], row["epoch"]))


def selection_summary(variant: str, history: list[dict], checkpoints: list[str]) -> dict:
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
