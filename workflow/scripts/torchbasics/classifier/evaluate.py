"""Evaluation of a variant's chosen checkpoint on the test split: its predictions and what they tell. (How each
class's validation accuracy moved over the epochs is counted by training's own validation pass: ``history``.)

The metrics are plain functions of (true labels, predicted labels), unit-tested on hand-made predictions; the
files they go into (evaluation_files.py) are what the plot and comparison rules read, so a plot can be redrawn
without a model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from torchbasics.classifier import history
from torchbasics.classifier.evaluation_files import (
    EvalOutputs,
    write_confused_images,
    write_confusion,
    write_metrics,
    write_per_class,
    write_predictions,
)
from torchbasics.classifier.models import model_from_checkpoint, predict_logits, to_fast_layout
from torchbasics.classifier.stats import wilson_interval
from torchbasics.core.errors import InputError
from torchbasics.data.cifar10 import Split, load_splits

log = logging.getLogger(__name__)

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


def prediction_table(result: Predictions, split: Split) -> pd.DataFrame:
    """One row per test image: its index in the data set, its true and predicted class, the confidence."""
    names = np.asarray(split.label_names)
    return pd.DataFrame(
        {
            "index": split.start + np.arange(len(result.true)),
            "true": names[result.true],
            "predicted": names[result.predicted],
            "confidence": result.confidence,
        }
    )


def confused_image_arrays(result: Predictions, split: Split, worst: int, confused_with: int, limit: int) -> dict:
    """The most confident mistakes of ``worst`` for ``confused_with``: pixels and what the figure titles them with."""
    positions = confused_positions(result.true, result.predicted, result.confidence, worst, confused_with, limit)
    names = np.asarray(split.label_names)
    return {
        "pixels": split.X[positions],
        "index": split.start + positions,
        "true": names[result.true[positions]],
        "predicted": names[result.predicted[positions]],
        "confidence": result.confidence[positions],
        "worst_class": names[worst],
        "confused_with": names[confused_with],
    }


# ------------------------------------------------------------------------------------------- the rule


def read_best(best_path: str | Path, variant: str, checkpoints: list[str]) -> dict:
    """best.json, checked to be this variant's and to name one of this run's checkpoints."""
    best = history.read_best(best_path)
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
    gpu: dict | None = None,
) -> dict:
    """What rule evaluate does: the chosen checkpoint on the test split, into every evaluation output. ``gpu``:
    the facts of the GPU it runs on (``runtime.gpu_facts``), recorded with those of the GPU it was trained on."""
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
        "gpu": gpu,
        "training_seed": state["seed"],
        "training_device": state["device"],
        "training_gpu": state.get("gpu"),  # checkpoints written before GPUs were recorded have none
        "training_precision": state["precision"],
        "training_threads": state["threads"],
        **analysis.summary,
    }
    write_per_class(outputs.per_class, per_class_accuracy(analysis.counts, test.label_names))
    write_confusion(outputs.confusion, analysis.fractions, test.label_names)
    write_predictions(outputs.predictions, prediction_table(result, test))
    write_confused_images(
        outputs.confused_images, confused_image_arrays(result, test, analysis.worst, analysis.confused_with, n_confused)
    )
    write_metrics(outputs.metrics, metrics)
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
