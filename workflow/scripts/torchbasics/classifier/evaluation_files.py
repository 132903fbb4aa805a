"""The files of a variant's evaluation and how they are written and read back: per-class accuracy, the confusion
matrix and every test prediction (CSV tables), and the most confident mistakes of the worst class (npz).

Torch-free on purpose: the plot, comparison and summary rules read these files without a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from torchbasics.core.errors import InputError
from torchbasics.core.io import as_numbers, atomic_path, read_record, read_table, write_record, write_table

# metrics.json: the chosen epoch's test results, and the run that trained it (``evaluate.run_evaluation``).
METRICS_FIELDS = (
    "variant",
    "chosen_epoch",
    "checkpoint",
    "device",
    "training_seed",
    "training_device",
    "training_precision",
    "training_threads",
    "n_test",
    "accuracy",
    "ci95_low",
    "ci95_high",
    "test_loss",
    "worst_class",
    "worst_class_accuracy",
    "most_confused_with",
    "confused_fraction",
)
PER_CLASS_COLUMNS = ("class", "n", "correct", "accuracy", "ci95_low", "ci95_high")
PREDICTION_COLUMNS = ("index", "true", "predicted", "confidence")
CONFUSION_CORNER = "true/predicted"  # the confusion CSV's top-left cell: rows are true, columns predicted classes


@dataclass
class EvalOutputs:
    metrics: Path
    per_class: Path
    confusion: Path
    predictions: Path
    confused_images: Path


def write_per_class(path: str | Path, rows: list[dict]) -> None:
    write_table(path, pd.DataFrame(rows, columns=list(PER_CLASS_COLUMNS)))


def read_per_class(path: str | Path) -> pd.DataFrame:
    return read_table(path, PER_CLASS_COLUMNS, "a per-class accuracy table", numbers=PER_CLASS_COLUMNS[1:])


def write_confusion(path: str | Path, fractions: np.ndarray, label_names: list[str]) -> None:
    table = pd.DataFrame(fractions, columns=label_names)
    table.insert(0, CONFUSION_CORNER, label_names)
    write_table(path, table)


def read_confusion(path: str | Path) -> pd.DataFrame:
    """The fractions, row = true class (the index), column = predicted class, both in the file's order."""
    table = read_table(path, (CONFUSION_CORNER,), "a confusion matrix")
    if table.columns[0] != CONFUSION_CORNER:
        raise InputError(f"{path}: not a confusion matrix: expected {CONFUSION_CORNER!r} as the first header cell")
    names = list(table.columns[1:])
    table = as_numbers(table, names, path)
    if table[CONFUSION_CORNER].tolist() != names:
        raise InputError(f"{path}: the row labels do not match the column labels {names}")
    return table.set_index(CONFUSION_CORNER)


def write_predictions(path: str | Path, predictions: pd.DataFrame) -> None:
    write_table(path, predictions[list(PREDICTION_COLUMNS)])


def read_predictions(path: str | Path) -> pd.DataFrame:
    return read_table(path, PREDICTION_COLUMNS, "a predictions table", numbers=("index", "confidence"))


def write_confused_images(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """The pixels of the confused images and what the figure titles them with, so plotting needs no data set."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def read_confused_images(path: str | Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable confused-images file ({error})") from error


def write_metrics(path, metrics: dict) -> None:
    write_record(path, metrics, METRICS_FIELDS)


def read_metrics(path) -> dict:
    return read_record(path, METRICS_FIELDS, "an evaluation's metrics")
