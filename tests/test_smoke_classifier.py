"""The classifier stage of the smoke run (2 epochs of both variants on made-up images): every output, sound."""

import csv
import json

import numpy as np
import pytest
import torch
from conftest import run_snakemake

VARIANTS = ("plain", "residual")
EPOCHS = 2  # tests/smoke.yaml
TEST_IMAGES = 500  # tests/smoke.yaml: test [2500, 3000]


def rows(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def assert_figure(path_without_suffix):
    png, svg = path_without_suffix.with_suffix(".png"), path_without_suffix.with_suffix(".svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert "<svg" in svg.read_text()[:2000], svg


@pytest.mark.parametrize("variant", VARIANTS)
def test_training_outputs(smoke_run, variant):
    folder = smoke_run / "results" / "train" / variant
    history = rows(folder / "history.csv")
    assert [int(row["epoch"]) for row in history] == [1, 2]
    assert all(row["device"] == "cpu" for row in history)
    for epoch in range(1, EPOCHS + 1):
        state = torch.load(folder / f"epoch_{epoch:02d}.pt", weights_only=True)
        assert (state["variant"], state["epoch"]) == (variant, epoch)
    best = json.loads((folder / "best.json").read_text())
    val_losses = [float(row["val_loss"]) for row in history]
    assert best["epoch"] == 1 + int(np.argmin(val_losses))
    assert best["checkpoint"] == f"results/train/{variant}/epoch_{best['epoch']:02d}.pt"
    assert_figure(folder / "loss")
    # the progress kept for a later run with more epochs: hard links to the published checkpoints
    assert (smoke_run / "results" / "train" / ".resume" / variant / "epoch_02.pt").samefile(folder / "epoch_02.pt")
    assert (smoke_run / "logs" / "train" / f"{variant}.log").read_text().count("done: train loss") == EPOCHS
    assert (smoke_run / "benchmarks" / "train" / f"{variant}.tsv").exists()


@pytest.mark.parametrize("variant", VARIANTS)
def test_evaluation_outputs(smoke_run, variant):
    folder = smoke_run / "results" / "eval" / variant
    metrics = json.loads((folder / "metrics.json").read_text())
    best = json.loads((smoke_run / "results" / "train" / variant / "best.json").read_text())
    assert metrics["chosen_epoch"] == best["epoch"] and metrics["device"] == "cpu"
    assert metrics["accuracy"] > 0.3  # the made-up classes are easy: far above chance (0.1) after 2 epochs
    per_class = rows(folder / "per_class.csv")
    assert len(per_class) == 10
    assert all(float(row["ci95_low"]) <= float(row["accuracy"]) <= float(row["ci95_high"]) for row in per_class)
    worst = min(per_class, key=lambda row: float(row["accuracy"]))
    assert metrics["worst_class"] == worst["class"]
    confusion = rows(folder / "confusion.csv")
    names = [row["class"] for row in per_class]
    assert [row["true/predicted"] for row in confusion] == names and list(confusion[0])[1:] == names
    matrix = np.array([[float(row[name]) for name in names] for row in confusion])
    assert np.allclose(matrix.sum(axis=1), 1)
    assert (
        metrics["confused_fraction"]
        == matrix[names.index(metrics["worst_class"]), names.index(metrics["most_confused_with"])]
    )
    predictions = rows(folder / "predictions.csv")
    assert len(predictions) == TEST_IMAGES and list(predictions[0]) == ["index", "true", "predicted", "confidence"]
    assert metrics["accuracy"] == pytest.approx(np.mean([row["true"] == row["predicted"] for row in predictions]))
    with np.load(folder / "confused_images.npz") as confused:
        assert len(confused["pixels"]) <= 5  # eval.n_confused_images in tests/smoke.yaml
        assert set(confused["true"].tolist()) <= {metrics["worst_class"]}
    assert_figure(folder / "confusion")
    assert_figure(folder / "confused_images")
    assert (smoke_run / "benchmarks" / "evaluate" / f"{variant}.tsv").exists()


def test_comparison_outputs(smoke_run):
    folder = smoke_run / "results" / "compare"
    table = rows(folder / "variants.csv")
    assert [row["variant"] for row in table] == list(VARIANTS)
    test = json.loads((folder / "mcnemar.json").read_text())
    assert test["n_pairs"] == TEST_IMAGES
    assert 0 <= test["p_value"] <= 1 and test["significant"] == (test["p_value"] < 0.05)
    assert table[1]["mcnemar_p_value"] == repr(test["p_value"])
    for row in table:
        metrics = json.loads((smoke_run / "results" / "eval" / row["variant"] / "metrics.json").read_text())
        assert float(row["test_accuracy"]) == metrics["accuracy"]
    assert_figure(folder / "per_class_accuracy")


def test_the_stage_is_complete(smoke_run_copy):
    result = run_snakemake(smoke_run_copy.workdir, "classifier", "--dry-run", workflow=smoke_run_copy.workflow)
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "changes",
    [
        ["device=cpu"],
        ["autograd={device: cpu}", "denoise={device: cpu}", "train={device: cpu}", "eval={device: cpu}"],
        ["data={download: {timeout_s: 5, retries: 1}}"],
    ],
    ids=["run-device", "stage-devices", "download-settings"],
)
def test_changing_only_a_device_or_the_download_settings_reruns_nothing(smoke_run_copy, changes):
    result = run_snakemake(smoke_run_copy.workdir, "--dry-run", "--config", *changes, workflow=smoke_run_copy.workflow)
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout


def test_the_run_wide_implementation_reaches_every_stage_that_has_one(smoke_run_copy):
    result = run_snakemake(
        smoke_run_copy.workdir, "--dry-run", "--config", "implementation=reference", workflow=smoke_run_copy.workflow
    )
    planned = result.stdout
    for rule in ("denoise_grid", "train", "evaluate"):
        assert f"rule {rule}:" in planned, rule
    assert "rule autograd_gradients:" not in planned  # autograd has no implementation to choose
