"""Evaluation metrics on hand-made predictions, the statistics behind them, and the evaluate step end to end."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from make_inputs import synthetic_cifar, write_npz

from torchbasics.classifier.compare import mcnemar_summary, paired_correctness, run_comparison
from torchbasics.classifier.evaluate import (
    Analysis,
    Predictions,
    confused_positions,
    confusion_counts,
    confusion_fractions,
    per_class_accuracy,
    run_evaluation,
    worst_class,
)
from torchbasics.classifier.evaluation_files import (
    EvalOutputs,
    read_confused_images,
    read_confusion,
    read_per_class,
    read_predictions,
    write_confusion,
)
from torchbasics.classifier.models import build_model, save_checkpoint
from torchbasics.classifier.stats import mcnemar_exact, wilson_interval
from torchbasics.core.errors import InputError
from torchbasics.core.io import write_json

NAMES = ["a", "b", "c"]
# 4 images of a (3 right), 5 of b (2 right, 3 taken for c), 2 of c (both right)
TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2])
PREDICTED = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2])


def test_confusion_counts_and_fractions():
    counts = confusion_counts(TRUE, PREDICTED, 3)
    assert counts.tolist() == [[3, 1, 0], [0, 2, 3], [0, 0, 2]]
    fractions = confusion_fractions(counts, NAMES)
    assert np.allclose(fractions, [[0.75, 0.25, 0], [0, 0.4, 0.6], [0, 0, 1]])
    assert np.allclose(fractions.sum(axis=1), 1)


def test_a_class_without_test_images_is_refused():
    with pytest.raises(InputError, match="no image of class\\(es\\) c"):
        confusion_fractions(confusion_counts(np.array([0, 1]), np.array([0, 0]), 3), NAMES)


def test_per_class_accuracy_with_wilson_intervals():
    rows = per_class_accuracy(confusion_counts(TRUE, PREDICTED, 3), NAMES)
    assert [(row["class"], row["n"], row["correct"], row["accuracy"]) for row in rows] == [
        ("a", 4, 3, 0.75),
        ("b", 5, 2, 0.4),
        ("c", 2, 2, 1.0),
    ]
    assert all(row["ci95_low"] <= row["accuracy"] <= row["ci95_high"] for row in rows)
    assert rows[2]["ci95_high"] == 1.0 and rows[2]["ci95_low"] < 1.0


def test_worst_class_and_what_it_is_taken_for():
    worst, confused_with = worst_class(confusion_fractions(confusion_counts(TRUE, PREDICTED, 3), NAMES))
    assert (worst, confused_with) == (1, 2)


def test_worst_class_ties_go_to_the_lower_class():
    fractions = np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0, 0, 1.0]])
    assert worst_class(fractions) == (0, 1)


def test_analysis_summary():
    logits = torch.full((len(TRUE), 3), -5.0)
    logits[torch.arange(len(TRUE)), torch.from_numpy(PREDICTED)] = 5.0
    result = Predictions.from_logits(logits, TRUE)
    assert np.array_equal(result.predicted, PREDICTED)
    summary = Analysis.of(result, NAMES).summary
    assert summary["accuracy"] == 7 / 11 and summary["n_test"] == 11
    assert (summary["worst_class"], summary["most_confused_with"]) == ("b", "c")
    assert summary["worst_class_accuracy"] == 0.4 and summary["confused_fraction"] == 0.6
    wrong = (result.predicted != TRUE).sum()
    loss_right, loss_wrong = -math.log(1 / (1 + 2 * math.exp(-10))), -math.log(math.exp(-10) / (1 + 2 * math.exp(-10)))
    assert summary["test_loss"] == pytest.approx(((11 - wrong) * loss_right + wrong * loss_wrong) / 11, rel=1e-5)


def test_confused_images_are_the_most_confident_mistakes_first():
    confidence = np.array([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.8, 0.8, 0.9, 0.9])
    # images 6, 7, 8 are b taken for c; 7 and 8 tie on confidence and keep their order
    assert confused_positions(TRUE, PREDICTED, confidence, 1, 2, limit=10).tolist() == [7, 8, 6]
    assert confused_positions(TRUE, PREDICTED, confidence, 1, 2, limit=2).tolist() == [7, 8]
    assert confused_positions(TRUE, PREDICTED, confidence, 0, 2, limit=10).tolist() == []


def test_confusion_csv_round_trip(tmp_path):
    fractions = confusion_fractions(confusion_counts(TRUE, PREDICTED, 3), NAMES)
    write_confusion(tmp_path / "confusion.csv", fractions, NAMES)
    assert (tmp_path / "confusion.csv").read_text().splitlines()[0] == "true/predicted,a,b,c"
    read = read_confusion(tmp_path / "confusion.csv")
    assert read.index.tolist() == read.columns.tolist() == NAMES and np.array_equal(read.to_numpy(), fractions)


def test_a_confusion_csv_with_mismatched_labels_is_refused(tmp_path):
    (tmp_path / "confusion.csv").write_text("true/predicted,a,b\nb,1.0,0.0\na,0.0,1.0\n")
    with pytest.raises(InputError, match="row labels do not match"):
        read_confusion(tmp_path / "confusion.csv")
    (tmp_path / "confusion.csv").write_text("class,a,b\na,1.0,0.0\nb,0.0,1.0\n")
    with pytest.raises(InputError, match="not a confusion matrix"):
        read_confusion(tmp_path / "confusion.csv")


# --------------------------------------------------------------------------------------------- statistics


def test_wilson_interval_known_values():
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    low, high = wilson_interval(5000, 10000)
    assert high - low == pytest.approx(2 * 1.959964 * 0.005, rel=1e-3)  # the normal approximation, for large n


def test_wilson_interval_refuses_impossible_counts():
    with pytest.raises(ValueError):
        wilson_interval(3, 0)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_mcnemar_exact_known_values():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(1, 6) == pytest.approx(2 * (1 + 7) / 2**7)
    assert mcnemar_exact(6, 1) == mcnemar_exact(1, 6)
    assert mcnemar_exact(5, 5) == 1.0
    # against a float evaluation of the binomial tail, where that does not underflow
    b, c = 40, 62
    tail = sum(math.comb(b + c, k) * 0.5 ** (b + c) for k in range(b + 1))
    assert mcnemar_exact(b, c) == pytest.approx(2 * tail, rel=1e-12)


def test_mcnemar_exact_stays_exact_for_thousands_of_pairs():
    p = mcnemar_exact(1000, 1300)
    # the continuity-corrected chi-square approximation gives about 4.5e-10 here
    assert 1e-10 < p < 1e-9
    assert mcnemar_exact(1500, 1500) == 1.0


def test_mcnemar_summary_counts_the_discordant_pairs():
    plain = np.array([True, True, True, False, False, True])
    residual = np.array([True, False, True, True, True, True])
    summary = mcnemar_summary(plain, residual, ("plain", "residual"))
    assert (
        summary["both_correct"],
        summary["only_plain_correct"],
        summary["only_residual_correct"],
        summary["both_wrong"],
    ) == (3, 1, 2, 0)
    assert summary["p_value"] == 1.0 and summary["significant"] is False
    assert "residual is more accurate than plain" in summary["conclusion"]


def prediction_rows(true, predicted):
    return pd.DataFrame(
        [
            {"index": 100 + i, "true": t, "predicted": p, "confidence": 0.5}
            for i, (t, p) in enumerate(zip(true, predicted))
        ]
    )


def test_paired_correctness_pairs_by_image_index():
    first = prediction_rows(["a", "b", "c"], ["a", "c", "c"])
    second = prediction_rows(["a", "b", "c"], ["b", "b", "c"]).iloc[::-1]
    first_right, second_right = paired_correctness(first, second, ("plain", "residual"))
    assert first_right.tolist() == [True, False, True]
    assert second_right.tolist() == [False, True, True]


def test_paired_correctness_refuses_unpaired_predictions():
    first = prediction_rows(["a", "b"], ["a", "b"])
    with pytest.raises(InputError, match="do not cover the same test images"):
        paired_correctness(first, prediction_rows(["a"], ["a"]), ("plain", "residual"))
    with pytest.raises(InputError, match="disagree on the true class"):
        paired_correctness(first, prediction_rows(["a", "c"], ["a", "c"]), ("plain", "residual"))


# ------------------------------------------------------------------------------------- the step end to end

SPLIT = {"train": [0, 100], "val": [100, 150], "test": [150, 350]}


def save_made_checkpoint(path, epoch, variant="plain", favoured=None):
    """A checkpoint of ``epoch`` with weights of its own (seeded by the epoch); with ``favoured``, a class index,
    the last layer's bias makes the network predict that class for every image."""
    torch.manual_seed(epoch)
    model = build_model(variant)
    if favoured is not None:
        last = [module for module in model.modules() if isinstance(module, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.bias[favoured] += 1e3
    save_checkpoint(
        path,
        variant=variant,
        model=model,
        optimizer=torch.optim.Adam(model.parameters()),
        epoch=epoch,
        seed=1,
        config_digest="d",
        device="cpu",
        precision="float32",
    )


@pytest.fixture
def evaluation_inputs(tmp_path):
    X, y = synthetic_cifar(350)
    write_npz(tmp_path / "cifar10.npz", X, y)
    checkpoints = []
    for epoch in (1, 2):
        checkpoints.append(str(tmp_path / f"epoch_{epoch:02d}.pt"))
        save_made_checkpoint(checkpoints[-1], epoch)
    write_json(
        tmp_path / "best.json",
        best_record("plain", checkpoints),
    )
    return tmp_path, checkpoints


def outputs_in(folder, variant="plain"):
    return EvalOutputs(
        metrics=folder / variant / "metrics.json",
        per_class=folder / variant / "per_class.csv",
        confusion=folder / variant / "confusion.csv",
        predictions=folder / variant / "predictions.csv",
        confused_images=folder / variant / "confused_images.npz",
    )


def best_record(variant, checkpoints):
    """best.json of a made-up run of ``variant`` that chose its second epoch."""
    return {
        "variant": variant,
        "epoch": 2,
        "val_loss": 1.0,
        "val_accuracy": 0.5,
        "train_loss": 1.1,
        "checkpoint": checkpoints[1],
        "rule": "lowest validation loss",
        "epochs": len(checkpoints),
    }


def evaluate(folder, checkpoints, variant="plain", best="best.json"):
    return run_evaluation(
        folder / "cifar10.npz",
        SPLIT,
        folder / best,
        checkpoints,
        variant,
        batch_size=64,
        device="cpu",
        n_confused=5,
        outputs=outputs_in(folder, variant),
    )


def test_evaluation_writes_every_output(evaluation_inputs):
    folder, checkpoints = evaluation_inputs
    metrics = evaluate(folder, checkpoints)
    assert json.loads((folder / "plain" / "metrics.json").read_text()) == metrics
    assert metrics["chosen_epoch"] == 2 and metrics["device"] == "cpu" and metrics["n_test"] == 200
    # how the chosen checkpoint was made, read from it
    assert (metrics["training_device"], metrics["training_precision"]) == ("cpu", "float32")
    assert metrics["training_threads"] == torch.load(checkpoints[1], weights_only=True)["threads"]
    assert metrics["gpu"] is None and metrics["training_gpu"] is None  # on the CPU: no GPU to record
    predictions = read_predictions(folder / "plain" / "predictions.csv")
    assert predictions["index"].tolist() == list(range(150, 350))  # indices into the npz
    accuracy = (predictions["true"] == predictions["predicted"]).mean()
    assert metrics["accuracy"] == pytest.approx(accuracy)
    fractions = read_confusion(folder / "plain" / "confusion.csv")
    assert fractions.shape == (10, 10) and np.allclose(fractions.sum(axis=1), 1)
    names = fractions.index.tolist()
    per_class = read_per_class(folder / "plain" / "per_class.csv")
    assert per_class["class"].tolist() == names and per_class["n"].sum() == 200
    confused = read_confused_images(folder / "plain" / "confused_images.npz")
    assert len(confused["pixels"]) <= 5 and confused["pixels"].shape[1:] == (32, 32, 3)
    assert set(confused["true"]) <= {metrics["worst_class"]}
    assert set(confused["predicted"]) <= {metrics["most_confused_with"]}


def test_evaluation_refuses_a_corrupt_checkpoint_and_writes_nothing(evaluation_inputs):
    folder, checkpoints = evaluation_inputs
    (folder / "epoch_02.pt").write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="epoch_02.pt is corrupt"):
        evaluate(folder, checkpoints)
    assert not (folder / "plain").exists()


def test_evaluation_refuses_a_checkpoint_of_the_other_variant(evaluation_inputs):
    folder, checkpoints = evaluation_inputs
    write_json(folder / "residual_best.json", best_record("residual", checkpoints))
    with pytest.raises(InputError, match="holds the 'plain' variant, but 'residual' was asked for"):
        evaluate(folder, checkpoints, variant="residual", best="residual_best.json")


def test_evaluation_refuses_a_checkpoint_the_run_does_not_declare(evaluation_inputs):
    folder, checkpoints = evaluation_inputs
    with pytest.raises(InputError, match="not one of the run's checkpoints"):
        evaluate(folder, checkpoints[:1])


def test_comparison_table_and_test(evaluation_inputs):
    folder, checkpoints = evaluation_inputs
    evaluate(folder, checkpoints)
    predictions = read_predictions(folder / "plain" / "predictions.csv")
    summary = run_comparison(
        ("plain", "plain"),
        [folder / "plain" / "predictions.csv"] * 2,
        [folder / "plain" / "metrics.json"] * 2,
        [folder / "best.json"] * 2,
        table=folder / "variants.csv",
        test=folder / "mcnemar.json",
    )
    # a variant against itself: no discordant pair, nothing significant
    assert summary["p_value"] == 1.0 and summary["n_pairs"] == len(predictions)
    lines = (folder / "variants.csv").read_text().splitlines()
    assert lines[0].startswith("variant,test_accuracy,ci95_low,ci95_high,test_loss,chosen_epoch,val_loss")
    assert len(lines) == 3 and lines[2].endswith(",plain,1.0,False")
