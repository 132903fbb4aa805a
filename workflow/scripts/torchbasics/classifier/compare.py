"""The paired comparison of two variants on the same test images: who got which image right, McNemar's exact test
of the second against the first, and the variants table (variants.csv) that puts them side by side.

Torch-free on purpose: it reads only the evaluation's files (predictions, metrics.json, best.json).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from torchbasics.classifier.evaluation_files import read_metrics, read_predictions
from torchbasics.classifier.history import read_best
from torchbasics.classifier.stats import mcnemar_exact
from torchbasics.core.errors import InputError
from torchbasics.core.io import read_record, read_table, write_record, write_table

log = logging.getLogger(__name__)

VARIANT_COLUMNS = (
    "variant",
    "test_accuracy",
    "ci95_low",
    "ci95_high",
    "test_loss",
    "chosen_epoch",
    "val_loss",
    "val_accuracy",
    "mcnemar_vs",
    "mcnemar_p_value",
    "significant",
)
SIGNIFICANCE_LEVEL = 0.05


def paired_correctness(
    first: pd.DataFrame, second: pd.DataFrame, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each variant got each test image right, paired by image index (both must cover the same images)."""
    if second["index"].duplicated().any() or sorted(second["index"]) != sorted(first["index"]):
        raise InputError(f"the predictions of {names[0]} and {names[1]} do not cover the same test images")
    paired = second.set_index("index").loc[first["index"]]  # second's rows in first's order
    mismatched = first["index"][first["true"].to_numpy() != paired["true"].to_numpy()].tolist()
    if mismatched:
        raise InputError(
            f"the predictions of {names[0]} and {names[1]} disagree on the true class of image(s) {mismatched[:5]}"
        )
    first_right = (first["true"] == first["predicted"]).to_numpy()
    second_right = (paired["true"] == paired["predicted"]).to_numpy()
    return first_right, second_right


# mcnemar.json: McNemar's test of a compared variant against the baseline on one seed's test images
# (``mcnemar_summary``); it also counts the images only one of them got right, as only_<name>_correct.
MCNEMAR_FIELDS = (
    "baseline",
    "variant",
    "n_pairs",
    "both_correct",
    "both_wrong",
    "p_value",
    "alpha",
    "significant",
    "conclusion",
)


def mcnemar_summary(
    first_right: np.ndarray, second_right: np.ndarray, names: tuple[str, str], alpha: float = SIGNIFICANCE_LEVEL
) -> dict:
    """McNemar's exact test of the second variant against the first on paired test predictions."""
    only_first = int((first_right & ~second_right).sum())
    only_second = int((~first_right & second_right).sum())
    p_value = mcnemar_exact(only_first, only_second)
    significant = p_value < alpha
    first_accuracy, second_accuracy = float(first_right.mean()), float(second_right.mean())
    direction = "more" if second_accuracy > first_accuracy else "less" if second_accuracy < first_accuracy else "as"
    verdict = "significant" if significant else "not significant"
    return {
        "baseline": names[0],
        "variant": names[1],
        "n_pairs": int(len(first_right)),
        "both_correct": int((first_right & second_right).sum()),
        f"only_{names[0]}_correct": only_first,
        f"only_{names[1]}_correct": only_second,
        "both_wrong": int((~first_right & ~second_right).sum()),
        "p_value": p_value,
        "alpha": alpha,
        "significant": bool(significant),
        "conclusion": (
            f"{names[1]} is {direction} accurate than {names[0]} ({second_accuracy:.4f} vs "
            f"{first_accuracy:.4f}); McNemar's exact test on the {only_first + only_second} discordant "
            f"images: p = {p_value:.3g}, {verdict} at {alpha}"
        ),
    }


def variant_row(variant: str, metrics: dict, best: dict, test: dict | None = None) -> dict:
    """One variant's line of variants.csv; ``test``, McNemar's test against the baseline, is None for the baseline
    (whose test cells stay empty)."""
    return {
        "variant": variant,
        "test_accuracy": metrics["accuracy"],
        "ci95_low": metrics["ci95_low"],
        "ci95_high": metrics["ci95_high"],
        "test_loss": metrics["test_loss"],
        "chosen_epoch": best["epoch"],
        "val_loss": best["val_loss"],
        "val_accuracy": best["val_accuracy"],
        "mcnemar_vs": test["baseline"] if test else None,
        "mcnemar_p_value": test["p_value"] if test else None,
        "significant": test["significant"] if test else None,
    }


def write_variants(path: str | Path, rows: list[dict]) -> None:
    write_table(path, pd.DataFrame(rows, columns=list(VARIANT_COLUMNS)))


def read_variants(path: str | Path) -> pd.DataFrame:
    numbers = ("test_accuracy", "ci95_low", "ci95_high", "test_loss", "chosen_epoch", "val_loss", "val_accuracy")
    return read_table(path, VARIANT_COLUMNS, "a variants table", numbers=numbers)


def run_comparison(
    names: tuple[str, str],
    predictions: list[str],
    metrics: list[str],
    bests: list[str],
    *,
    table: str | Path,
    test: str | Path,
) -> dict:
    """What rule compare does: the variants side by side, and McNemar's test of the second against the first."""
    first_right, second_right = paired_correctness(
        read_predictions(predictions[0]), read_predictions(predictions[1]), names
    )
    summary = mcnemar_summary(first_right, second_right, names)
    rows = [
        variant_row(name, read_metrics(metrics_path), read_best(best_path), summary if position else None)
        for position, (name, metrics_path, best_path) in enumerate(zip(names, metrics, bests))
    ]
    write_variants(table, rows)
    write_record(test, summary, MCNEMAR_FIELDS)
    log.info("%s", summary["conclusion"])
    return summary


def read_mcnemar(path) -> dict:
    return read_record(path, MCNEMAR_FIELDS, "a McNemar test (mcnemar.json)")
