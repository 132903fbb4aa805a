"""The classifier stage of the smoke run (2 epochs of both variants on made-up images): every output, sound."""

import csv
import json

import numpy as np
import pytest
import torch
from conftest import run_snakemake

from torchbasics.core import paths

VARIANTS = ("plain", "residual")
SEEDS = (546, 547)  # tests/smoke.yaml; the first is the one the page shows in full
RUNS = [(variant, seed) for variant in VARIANTS for seed in SEEDS]
EPOCHS = 2  # tests/smoke.yaml
TEST_IMAGES = 500  # tests/smoke.yaml: test [2500, 3000]
VAL_IMAGES = 500  # tests/smoke.yaml: val [2000, 2500]


def rows(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def assert_figure(path_without_suffix):
    png, svg = path_without_suffix.with_suffix(".png"), path_without_suffix.with_suffix(".svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert "<svg" in svg.read_text()[:2000], svg


@pytest.mark.parametrize("variant,seed", RUNS)
def test_training_outputs(smoke_run, variant, seed):
    def of(pattern):
        return smoke_run / paths.fill(pattern, variant=variant, seed=seed)

    history = rows(of(paths.TRAIN_HISTORY))
    assert [int(row["epoch"]) for row in history] == [1, 2]
    assert all(row["device"] == "cpu" for row in history)
    for epoch in range(1, EPOCHS + 1):
        state = torch.load(of(paths.epoch_checkpoint(epoch)), weights_only=True)
        assert (state["variant"], state["epoch"], state["seed"]) == (variant, epoch, seed)
    best = json.loads(of(paths.TRAIN_BEST).read_text())
    val_losses = [float(row["val_loss"]) for row in history]
    assert best["epoch"] == 1 + int(np.argmin(val_losses))
    assert best["checkpoint"] == paths.epoch_checkpoint(best["epoch"], variant=variant, seed=seed)
    assert_figure(of(paths.TRAIN_LOSS_FIGURE.stem))
    # the progress kept for a later run with more epochs: copies of the published checkpoints, files of their own
    kept, published = of(paths.TRAIN_RESUME) / "epoch_02.pt", of(paths.epoch_checkpoint(2))
    assert not kept.samefile(published) and kept.read_bytes() == published.read_bytes()
    log = smoke_run / "logs" / "train" / f"{variant}_seed{seed}.log"
    assert log.read_text().count("done: train loss") == EPOCHS
    assert (smoke_run / "benchmarks" / "train" / f"{variant}_seed{seed}.tsv").exists()


def test_replicates_are_different_runs(smoke_run):
    histories = {seed: rows(smoke_run / paths.fill(paths.TRAIN_HISTORY, variant="plain", seed=seed)) for seed in SEEDS}
    assert histories[SEEDS[0]][0]["train_loss"] != histories[SEEDS[1]][0]["train_loss"]


@pytest.mark.parametrize("variant,seed", RUNS)
def test_evaluation_outputs(smoke_run, variant, seed):
    def of(pattern):
        return smoke_run / paths.fill(pattern, variant=variant, seed=seed)

    metrics = json.loads(of(paths.EVAL_METRICS).read_text())
    best = json.loads(of(paths.TRAIN_BEST).read_text())
    assert metrics["chosen_epoch"] == best["epoch"] and metrics["device"] == "cpu"
    assert metrics["training_seed"] == seed
    assert metrics["accuracy"] > 0.3  # the made-up classes are easy: far above chance (0.1) after 2 epochs
    per_class = rows(of(paths.EVAL_PER_CLASS))
    assert len(per_class) == 10
    assert all(float(row["ci95_low"]) <= float(row["accuracy"]) <= float(row["ci95_high"]) for row in per_class)
    worst = min(per_class, key=lambda row: float(row["accuracy"]))
    assert metrics["worst_class"] == worst["class"]
    confusion = rows(of(paths.EVAL_CONFUSION))
    names = [row["class"] for row in per_class]
    assert [row["true/predicted"] for row in confusion] == names and list(confusion[0])[1:] == names
    matrix = np.array([[float(row[name]) for name in names] for row in confusion])
    assert np.allclose(matrix.sum(axis=1), 1)
    assert (
        metrics["confused_fraction"]
        == matrix[names.index(metrics["worst_class"]), names.index(metrics["most_confused_with"])]
    )
    predictions = rows(of(paths.EVAL_PREDICTIONS))
    assert len(predictions) == TEST_IMAGES and list(predictions[0]) == ["index", "true", "predicted", "confidence"]
    assert metrics["accuracy"] == pytest.approx(np.mean([row["true"] == row["predicted"] for row in predictions]))
    with np.load(of(paths.EVAL_CONFUSED_IMAGES)) as confused:
        assert len(confused["pixels"]) <= 5  # eval.n_confused_images in tests/smoke.yaml
        assert set(confused["true"].tolist()) <= {metrics["worst_class"]}
    assert_figure(of(paths.EVAL_CONFUSION_FIGURE.stem))
    assert_figure(of(paths.EVAL_CONFUSED_FIGURE.stem))
    assert (smoke_run / "benchmarks" / "evaluate" / f"{variant}_seed{seed}.tsv").exists()


@pytest.mark.parametrize("variant,seed", RUNS)
def test_validation_accuracy_per_class_at_every_epoch(smoke_run, variant, seed):
    table = rows(smoke_run / paths.fill(paths.TRAIN_VAL_PER_CLASS, variant=variant, seed=seed))
    assert len(table) == EPOCHS * 10
    assert [int(row["epoch"]) for row in table] == [epoch for epoch in range(1, EPOCHS + 1) for _ in range(10)]
    per_class = rows(smoke_run / paths.fill(paths.EVAL_PER_CLASS, variant=variant, seed=seed))
    names = [row["class"] for row in per_class]
    history = rows(smoke_run / paths.fill(paths.TRAIN_HISTORY, variant=variant, seed=seed))
    for epoch in range(1, EPOCHS + 1):
        of_epoch = [row for row in table if int(row["epoch"]) == epoch]
        assert [row["class"] for row in of_epoch] == names
        assert sum(int(row["n"]) for row in of_epoch) == VAL_IMAGES
        # counted by the same validation pass as the history's accuracy
        correct = sum(int(row["correct"]) for row in of_epoch)
        assert correct / VAL_IMAGES == float(history[epoch - 1]["val_accuracy"])


@pytest.mark.parametrize("seed", SEEDS)
def test_comparison_outputs(smoke_run, seed):
    def of(pattern, variant="residual"):
        return smoke_run / paths.fill(pattern, variant=variant, baseline="plain", seed=seed)

    table = rows(of(paths.COMPARE_TABLE))
    assert [row["variant"] for row in table] == list(VARIANTS)
    test = json.loads(of(paths.COMPARE_MCNEMAR).read_text())
    assert test["n_pairs"] == TEST_IMAGES
    assert 0 <= test["p_value"] <= 1 and test["significant"] == (test["p_value"] < 0.05)
    assert table[1]["mcnemar_p_value"] == repr(test["p_value"])
    for row in table:
        metrics = json.loads(of(paths.EVAL_METRICS, variant=row["variant"]).read_text())
        assert float(row["test_accuracy"]) == metrics["accuracy"]
    assert_figure(of(paths.COMPARE_FIGURE.stem))


def test_the_replicate_tables_equal_a_direct_computation_from_each_runs_metrics(smoke_run):
    from scipy import stats

    from torchbasics.classifier.power import seeds_needed

    metrics = {
        run: json.loads((smoke_run / path).read_text()) for run, path in paths.per_run(paths.EVAL_METRICS, RUNS).items()
    }
    per_seed = rows(smoke_run / paths.REPLICATES_PER_SEED)
    assert [(row["variant"], int(row["seed"])) for row in per_seed] == RUNS
    for row in per_seed:
        run = metrics[row["variant"], int(row["seed"])]
        assert float(row["test_accuracy"]) == run["accuracy"] and row["worst_class"] == run["worst_class"]
        assert int(row["chosen_epoch"]) == run["chosen_epoch"] and float(row["test_loss"]) == run["test_loss"]
    for row in rows(smoke_run / paths.REPLICATES_VARIANTS):
        accuracies = np.array([metrics[row["variant"], seed]["accuracy"] for seed in SEEDS])
        low, high = stats.t.interval(0.95, len(SEEDS) - 1, loc=accuracies.mean(), scale=stats.sem(accuracies))
        assert row["ci95_clipped"] == str(low < 0 or high > 1)  # an accuracy's interval stays within [0, 1]
        low, high = max(low, 0.0), min(high, 1.0)
        assert float(row["test_accuracy_mean"]) == pytest.approx(accuracies.mean(), abs=1e-15)
        assert float(row["test_accuracy_sd"]) == pytest.approx(accuracies.std(ddof=1))
        assert (float(row["ci95_low"]), float(row["ci95_high"])) == pytest.approx((low, high))
    per_class = rows(smoke_run / paths.REPLICATES_PER_CLASS)
    assert len(per_class) == 10 * len(VARIANTS)
    differences = [metrics["residual", seed]["accuracy"] - metrics["plain", seed]["accuracy"] for seed in SEEDS]
    comparison = {"variant": "residual", "baseline": "plain"}
    paired = rows(smoke_run / paths.fill(paths.REPLICATES_PAIRED, **comparison))
    assert [float(row["difference"]) for row in paired] == pytest.approx(differences)
    test = json.loads((smoke_run / paths.fill(paths.REPLICATES_PAIRED_TEST, **comparison)).read_text())
    assert test["difference_mean"] == pytest.approx(np.mean(differences))
    residual, plain = ([metrics[variant, seed]["accuracy"] for seed in SEEDS] for variant in ("residual", "plain"))
    if np.std(differences) > 0:
        assert test["t_test_p_value"] == pytest.approx(stats.ttest_rel(residual, plain).pvalue)
    if np.std(differences) > 0 and np.mean(differences) != 0:
        sd = np.std(differences, ddof=1)
        assert test["seeds_needed_80"] == seeds_needed(np.mean(differences), sd, 0.05)
    else:
        assert test["seeds_needed_80"] is None and test["seeds_needed_80_reason"]
    for figure in (paths.REPLICATES_ACCURACY_FIGURE, paths.REPLICATES_PER_CLASS_FIGURE, paths.VAL_LOSS_FIGURE):
        assert_figure(smoke_run / figure.stem)


def test_the_stage_is_complete(smoke):
    result = run_snakemake(smoke.workdir, "classifier", "--dry-run", workflow=smoke.workflow)
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
def test_changing_only_a_device_or_the_download_settings_reruns_nothing(smoke, changes):
    result = run_snakemake(smoke.workdir, "--dry-run", "--config", *changes, workflow=smoke.workflow)
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout


def test_the_run_wide_implementation_reaches_every_stage_that_has_one(smoke):
    result = run_snakemake(smoke.workdir, "--dry-run", "--config", "implementation=reference", workflow=smoke.workflow)
    planned = result.stdout
    for rule in ("denoise_grid", "train", "evaluate"):
        assert f"rule {rule}:" in planned, rule
    assert "rule autograd_gradients:" not in planned  # autograd has no implementation to choose
