"""Evaluation of a variant's chosen checkpoint on the test split, and the paired comparison of two variants.

The metrics are plain functions of (true labels, predicted labels), unit-tested on hand-made predictions; the
files they go into are CSV and JSON that the plot rules read, so a plot can be redrawn without a model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data import Split, load_splits
from .errors import InputError
from .io import atomic_path, read_json, write_json
from .models import model_from_checkpoint, predict_logits, to_fast_layout
from .select import read_csv
from .stats import mcnemar_exact, wilson_interval
from .tables import write_csv

log = logging.getLogger(__name__)

PER_CLASS_COLUMNS = ("class", "n", "correct", "accuracy", "ci95_low", "ci95_high")
PREDICTION_TYPES = {"index": int, "true": str, "predicted": str, "confidence": float}
CONFUSION_CORNER = "true/predicted"  # the confusion CSV's top-left cell: rows are true, columns predicted classes
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


# -------------------------------------------------------------------------------------------- metrics


def confusion_counts(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[i, j] = how many images of class i were predicted as class j."""
    return np.bincount(true * n_classes + predicted, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_fractions(counts: np.ndarray, label_names: list[str]) -> np.ndarray:
    """Each row divided by its total: row i, column j = the fraction of class i predicted as j (rows sum to 1)."""
    totals = counts.sum(axis=1)
    empty = [label_names[i] for i in np.flatnonzero(totals == 0)]
    if empty:
        raise InputError(
            f"the test split holds no image of class(es) {', '.join(empty)}: their accuracy is "
            f"undefined; widen split.test"
        )
    return counts / totals[:, None]


def per_class_accuracy(counts: np.ndarray, label_names: list[str]) -> list[dict]:
    """Per class: images, correct ones, accuracy and its 95% Wilson interval."""
    rows = []
    for index, name in enumerate(label_names):
        n, correct = int(counts[index].sum()), int(counts[index, index])
        low, high = wilson_interval(correct, n)
        rows.append(
            {"class": name, "n": n, "correct": correct, "accuracy": correct / n, "ci95_low": low, "ci95_high": high}
        )
    return rows


def worst_class(fractions: np.ndarray) -> tuple[int, int]:
    """(worst class, the class it is most often taken for); ties go to the lower class index."""
    worst = int(np.argmin(np.diag(fractions)))
    mistakes = fractions[worst].copy()
    mistakes[worst] = -1.0  # the diagonal is the right answer, not a confusion
    return worst, int(np.argmax(mistakes))


def confused_positions(
    true: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, worst: int, confused_with: int, limit: int
) -> np.ndarray:
    """Positions of up to ``limit`` images of ``worst`` predicted as ``confused_with``, most confident first.

    The most confident mistakes show best what the network takes the class for; ties keep test-split order.
    """
    positions = np.flatnonzero((true == worst) & (predicted == confused_with))
    order = np.lexsort((positions, -confidence[positions]))
    return positions[order][:limit]


@dataclass
class Predictions:
    true: np.ndarray  # (n,) class indices
    predicted: np.ndarray  # (n,)
    confidence: np.ndarray  # (n,) softmax probability of the predicted class
    loss: float  # mean cross-entropy

    @classmethod
    def from_logits(cls, logits: torch.Tensor, labels: np.ndarray) -> Predictions:
        probabilities = logits.softmax(dim=1)
        confidence, predicted = probabilities.max(dim=1)
        loss = F.cross_entropy(logits, torch.from_numpy(labels)).item()
        return cls(true=labels, predicted=predicted.numpy(), confidence=confidence.double().numpy(), loss=loss)


@dataclass
class Analysis:
    counts: np.ndarray  # confusion counts, row = true class, column = predicted class
    fractions: np.ndarray  # each row divided by its total
    worst: int  # the class with the lowest accuracy
    confused_with: int  # the class the worst one is most often taken for
    summary: dict  # metrics.json's numbers, without the run's provenance

    @classmethod
    def of(cls, result: Predictions, label_names: list[str]) -> Analysis:
        counts = confusion_counts(result.true, result.predicted, len(label_names))
        fractions = confusion_fractions(counts, label_names)
        worst, confused_with = worst_class(fractions)
        n, correct = len(result.true), int(np.trace(counts))
        low, high = wilson_interval(correct, n)
        summary = {
            "n_test": n,
            "accuracy": correct / n,
            "ci95_low": low,
            "ci95_high": high,
            "test_loss": result.loss,
            "worst_class": label_names[worst],
            "worst_class_accuracy": float(fractions[worst, worst]),
            "most_confused_with": label_names[confused_with],
            "confused_fraction": float(fractions[worst, confused_with]),
        }
        return cls(counts=counts, fractions=fractions, worst=worst, confused_with=confused_with, summary=summary)


# -------------------------------------------------------------------------------------------- outputs


@dataclass
class EvalOutputs:
    metrics: Path
    per_class: Path
    confusion: Path
    predictions: Path
    confused_images: Path


def write_confusion(path: str | Path, fractions: np.ndarray, label_names: list[str]) -> None:
    rows = [
        {CONFUSION_CORNER: name, **dict(zip(label_names, map(float, fractions[i])))}
        for i, name in enumerate(label_names)
    ]
    write_csv(path, rows, (CONFUSION_CORNER, *label_names))


def read_confusion(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """(fractions, class names) from a confusion CSV."""
    with open(path) as stream:
        header = stream.readline().strip().split(",")
    if not header or header[0] != CONFUSION_CORNER:
        raise InputError(f"{path}: not a confusion matrix: expected {CONFUSION_CORNER!r} as the first header cell")
    names = header[1:]
    rows = read_csv(path, {CONFUSION_CORNER: str, **{name: float for name in names}}, "a confusion matrix")
    if [row[CONFUSION_CORNER] for row in rows] != names:
        raise InputError(f"{path}: the row labels do not match the column labels {names}")
    return np.array([[row[name] for name in names] for row in rows]), names


def read_per_class(path: str | Path) -> list[dict]:
    types = {"class": str, "n": int, "correct": int, "accuracy": float, "ci95_low": float, "ci95_high": float}
    return read_csv(path, types, "a per-class accuracy table")


def write_predictions(path: str | Path, result: Predictions, split: Split) -> None:
    names = split.label_names
    rows = [
        {
            "index": split.start + position,
            "true": names[true],
            "predicted": names[predicted],
            "confidence": float(confidence),
        }
        for position, (true, predicted, confidence) in enumerate(zip(result.true, result.predicted, result.confidence))
    ]
    write_csv(path, rows, PREDICTION_TYPES)


def read_predictions(path: str | Path) -> list[dict]:
    return read_csv(path, PREDICTION_TYPES, "a predictions table")


def write_confused_images(
    path: str | Path, result: Predictions, split: Split, worst: int, confused_with: int, limit: int
) -> None:
    """The pixels of the confused images and what the figure titles them with, so plotting needs no npz."""
    positions = confused_positions(result.true, result.predicted, result.confidence, worst, confused_with, limit)
    names = np.asarray(split.label_names)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(
            tmp,
            pixels=split.X[positions],
            index=split.start + positions,
            true=names[result.true[positions]],
            predicted=names[result.predicted[positions]],
            confidence=result.confidence[positions],
            worst_class=names[worst],
            confused_with=names[confused_with],
        )


def read_confused_images(path: str | Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable confused-images file ({error})") from error


# ------------------------------------------------------------------------------------------- the rule


def read_best(best_path: str | Path, variant: str, checkpoints: list[str]) -> dict:
    """best.json, checked to be this variant's and to name one of this run's checkpoints."""
    best = read_json(best_path)
    if best.get("variant") != variant:
        raise InputError(f"{best_path} chooses an epoch of {best.get('variant')!r}, not of {variant!r}")
    if best.get("checkpoint") not in [str(path) for path in checkpoints]:
        raise InputError(
            f"{best_path} names checkpoint {best.get('checkpoint')!r}, which is not one of the run's checkpoints"
        )
    return best


def run_evaluation(
    npz_path: str | Path,
    split_config: dict,
    best_path: str | Path,
    checkpoints: list[str],
    variant: str,
    *,
    batch_size: int,
    device: str,
    n_confused: int,
    outputs: EvalOutputs,
    implementation: str = "fast",
) -> dict:
    """What rule evaluate does: the chosen checkpoint on the test split, into every evaluation output."""
    best = read_best(best_path, variant, checkpoints)
    model, state = model_from_checkpoint(best["checkpoint"], variant)
    if state["epoch"] != best["epoch"]:
        raise InputError(f"{best['checkpoint']} holds epoch {state['epoch']}, but {best_path} chose {best['epoch']}")
    test = load_splits(npz_path, split_config, names=("test",))["test"]
    log.info("evaluating %s epoch %d on %d test images on %s", variant, best["epoch"], len(test.y), device)
    model = model.to(device)
    if implementation == "fast":
        model = to_fast_layout(model)
    result = Predictions.from_logits(predict_logits(model, test.X, batch_size, device, implementation), test.y)
    analysis = Analysis.of(result, test.label_names)
    # The test pass runs in float32 whatever the training ran in (recorded beside it, from the checkpoint).
    metrics = {
        "variant": variant,
        "chosen_epoch": best["epoch"],
        "checkpoint": best["checkpoint"],
        "device": device,
        "training_device": state["device"],
        "training_precision": state["precision"],
        "training_threads": state["threads"],
        **analysis.summary,
    }
    write_csv(outputs.per_class, per_class_accuracy(analysis.counts, test.label_names), PER_CLASS_COLUMNS)
    write_confusion(outputs.confusion, analysis.fractions, test.label_names)
    write_predictions(outputs.predictions, result, test)
    write_confused_images(outputs.confused_images, result, test, analysis.worst, analysis.confused_with, n_confused)
    write_json(outputs.metrics, metrics)
    log.info(
        "%s: test accuracy %.4f, worst class %s (%.3f), most often taken for %s (%.3f)",
        variant,
        metrics["accuracy"],
        metrics["worst_class"],
        metrics["worst_class_accuracy"],
        metrics["most_confused_with"],
        metrics["confused_fraction"],
    )
    return metrics


# ------------------------------------------------------------------------------------------ comparing


def paired_correctness(first: list[dict], second: list[dict], names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each variant got each test image right, paired by image index (both must cover the same images)."""
    by_index = {row["index"]: row for row in second}
    if len(by_index) != len(second) or sorted(by_index) != sorted(row["index"] for row in first):
        raise InputError(f"the predictions of {names[0]} and {names[1]} do not cover the same test images")
    mismatched = [row["index"] for row in first if row["true"] != by_index[row["index"]]["true"]]
    if mismatched:
        raise InputError(
            f"the predictions of {names[0]} and {names[1]} disagree on the true class of image(s) {mismatched[:5]}"
        )
    first_right = np.array([row["true"] == row["predicted"] for row in first])
    second_right = np.array([by_index[row["index"]]["true"] == by_index[row["index"]]["predicted"] for row in first])
    return first_right, second_right


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
    """One variant's line of variants.csv; ``test``, McNemar's test against the baseline, is None for the baseline."""
    return {
        "variant": variant,
        "test_accuracy": metrics["accuracy"],
        "ci95_low": metrics["ci95_low"],
        "ci95_high": metrics["ci95_high"],
        "test_loss": metrics["test_loss"],
        "chosen_epoch": best["epoch"],
        "val_loss": best["val_loss"],
        "val_accuracy": best["val_accuracy"],
        "mcnemar_vs": test["baseline"] if test else "",
        "mcnemar_p_value": test["p_value"] if test else "",
        "significant": test["significant"] if test else "",
    }


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
        variant_row(name, read_json(metrics_path), read_json(best_path), summary if position else None)
        for position, (name, metrics_path, best_path) in enumerate(zip(names, metrics, bests))
    ]
    write_csv(table, rows, VARIANT_COLUMNS)
    write_json(test, summary)
    log.info("%s", summary["conclusion"])
    return summary
