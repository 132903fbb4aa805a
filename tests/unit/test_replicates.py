"""Aggregation over training replicates: Student-t intervals, per-seed and per-class tables, the paired test."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from torchbasics.classifier import replicates
from torchbasics.core.errors import InputError

CLASSES = ["cat", "dog", "ship"]


def write_run(folder, variant, seed, accuracy, worst="cat", per_class=(0.3, 0.5, 0.9)):
    """A made-up evaluation of one (variant, seed): its metrics.json and per_class.csv."""
    run = folder / variant / f"seed{seed}"
    run.mkdir(parents=True)
    metrics = {
        "variant": variant,
        "chosen_epoch": 3,
        "checkpoint": f"results/train/{variant}/seed{seed}/epoch_03.pt",
        "device": "cpu",
        "training_seed": seed,
        "training_device": "cpu",
        "training_precision": "float32",
        "training_threads": 1,
        "n_test": 30,
        "accuracy": accuracy,
        "ci95_low": accuracy - 0.1,
        "ci95_high": accuracy + 0.1,
        "test_loss": 1.0 - accuracy,
        "worst_class": worst,
        "worst_class_accuracy": min(per_class),
        "most_confused_with": "dog",
        "confused_fraction": 0.2,
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    pd.DataFrame({"class": CLASSES, "n": 10, "accuracy": per_class}).to_csv(run / "per_class.csv", index=False)
    return run / "metrics.json", run / "per_class.csv"


@pytest.fixture
def runs(tmp_path):
    """Three seeds of two variants; the residual one better by 0.02, 0.025 and 0.015."""
    made = {}
    for seed, (plain, residual) in zip((1, 2, 3), ((0.60, 0.62), (0.62, 0.645), (0.61, 0.625))):
        made["plain", seed] = write_run(tmp_path, "plain", seed, plain, per_class=(0.3 + seed / 100, 0.5, 0.9))
        made["residual", seed] = write_run(tmp_path, "residual", seed, residual, worst="cat" if seed < 3 else "dog")
    return made


def test_the_interval_is_students_t_over_the_seeds():
    interval = replicates.t_interval([0.60, 0.62, 0.64])
    assert interval["mean"] == pytest.approx(0.62) and interval["sd"] == pytest.approx(0.02)
    half_width = 4.302653 * 0.02 / math.sqrt(3)  # t(0.975, 2 degrees of freedom)
    assert interval["ci95_low"] == pytest.approx(0.62 - half_width, abs=1e-6)
    assert interval["ci95_high"] == pytest.approx(0.62 + half_width, abs=1e-6)


def test_one_seed_has_no_spread_and_no_interval():
    interval = replicates.t_interval([0.61])
    assert interval["mean"] == 0.61 and math.isnan(interval["sd"]) and math.isnan(interval["ci95_low"])


def test_per_seed_and_variant_tables_equal_a_direct_computation(runs):
    per_seed = replicates.per_seed_table({key: paths[0] for key, paths in runs.items()})
    assert list(per_seed.columns) == replicates.PER_SEED_COLUMNS and len(per_seed) == 6
    summary = replicates.variant_summary(per_seed).set_index("variant")
    residual = np.array([0.62, 0.645, 0.625])
    assert summary.loc["residual", "test_accuracy_mean"] == pytest.approx(residual.mean())
    assert summary.loc["residual", "test_accuracy_sd"] == pytest.approx(residual.std(ddof=1))
    low, high = stats.t.interval(0.95, 2, loc=residual.mean(), scale=stats.sem(residual))
    assert (summary.loc["residual", "ci95_low"], summary.loc["residual", "ci95_high"]) == pytest.approx((low, high))
    assert summary.loc["residual", "worst_class_counts"] == "cat 2/3; dog 1/3"
    assert summary.loc["plain", "worst_class_counts"] == "cat 3/3"


def test_per_class_summary_is_over_seeds(runs):
    per_class = replicates.per_class_table({key: paths[1] for key, paths in runs.items()})
    summary = replicates.per_class_summary(per_class).set_index(["variant", "class"])
    assert summary.loc[("plain", "cat"), "mean"] == pytest.approx(np.mean([0.31, 0.32, 0.33]))
    assert summary.loc[("plain", "cat"), "n_seeds"] == 3
    assert summary.loc[("residual", "ship"), "sd"] == pytest.approx(0.0)
    assert list(summary.loc["plain"].index) == CLASSES


def test_the_paired_difference_and_its_test_equal_scipys(runs):
    per_seed = replicates.per_seed_table({key: paths[0] for key, paths in runs.items()})
    paired = replicates.paired_differences(per_seed, "plain", "residual")
    assert paired["difference"].tolist() == pytest.approx([0.02, 0.025, 0.015])
    test = replicates.paired_test(paired, "plain", "residual")
    assert test["difference_mean"] == pytest.approx(0.02)
    assert test["t_test_p_value"] == pytest.approx(stats.ttest_rel([0.62, 0.645, 0.625], [0.60, 0.62, 0.61]).pvalue)
    assert test["ci95_low"] > 0 and test["exceeds_seed_spread"] is True
    assert test["other_better_in"] == 3


def test_a_difference_inside_the_seed_spread_is_said_so(tmp_path):
    files = {}
    for seed, (plain, residual) in zip((1, 2, 3), ((0.60, 0.64), (0.66, 0.62), (0.61, 0.63))):
        files["plain", seed] = write_run(tmp_path, "plain", seed, plain)[0]
        files["residual", seed] = write_run(tmp_path, "residual", seed, residual)[0]
    paired = replicates.paired_differences(replicates.per_seed_table(files), "plain", "residual")
    test = replicates.paired_test(paired, "plain", "residual")
    assert test["exceeds_seed_spread"] is False and test["other_better_in"] == 2


def test_one_seed_cannot_say_whether_a_difference_exceeds_the_spread(tmp_path):
    files = {
        (variant, 5): write_run(tmp_path, variant, 5, accuracy)[0]
        for variant, accuracy in (("plain", 0.6), ("residual", 0.7))
    }
    test = replicates.paired_test(
        replicates.paired_differences(replicates.per_seed_table(files), "plain", "residual"), "plain", "residual"
    )
    assert test["exceeds_seed_spread"] is None and test["ci95_low"] is None and test["t_test_p_value"] is None
    json.dumps(test, allow_nan=False)  # a valid JSON document


def test_metrics_without_the_expected_keys_are_refused(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"accuracy": 0.5}))
    with pytest.raises(InputError, match="test_loss"):
        replicates.per_seed_table({("plain", 1): path})


def page_text(tmp_path, metrics_files, per_class_files, compare=True):
    """The summary page's replicate section, as Markdown, from made-up runs (residual compared with plain)."""
    from torchbasics.core import paths
    from torchbasics.report.summary import PageRun, replicates_section, to_markdown

    page = PageRun(
        variants=["plain", "residual"] if compare else ["plain"],
        baseline="plain",
        norms=[],
        shown_seed=min(seed for _, seed in metrics_files),
        root=tmp_path,
    )
    replicates.write_replicate_tables(
        metrics_files,
        per_class_files,
        per_seed_out=page.file(paths.REPLICATES_PER_SEED),
        variants_out=page.file(paths.REPLICATES_VARIANTS),
        per_class_out=page.file(paths.REPLICATES_PER_CLASS),
    )
    if compare:
        replicates.write_paired_comparison(
            page.file(paths.REPLICATES_PER_SEED),
            "plain",
            "residual",
            paired_out=page.file(paths.REPLICATES_PAIRED, variant="residual"),
            test_out=page.file(paths.REPLICATES_PAIRED_TEST, variant="residual"),
        )
    return to_markdown([replicates_section(page)], tmp_path)


def test_the_page_says_a_difference_beyond_the_spread_and_the_worst_class_of_each_seed(runs, tmp_path):
    text = page_text(tmp_path, {k: v[0] for k, v in runs.items()}, {k: v[1] for k, v in runs.items()})
    assert "3 training replicates" in text
    assert "**cat** is the worst class in 3 of 3 seeds of plain; **cat** is the worst class in 2 of 3 seeds" in text
    assert "residual minus plain, trained with the same seed, is +2.0 points" in text
    assert "residual better in 3 of 3" in text
    assert "larger than the seed-to-seed spread" in text and "not larger" not in text


def test_the_page_says_when_a_difference_is_inside_the_spread(tmp_path):
    files = {}
    for seed, (plain, residual) in zip((1, 2, 3), ((0.60, 0.64), (0.66, 0.62), (0.61, 0.63))):
        files["plain", seed] = write_run(tmp_path / "runs", "plain", seed, plain)
        files["residual", seed] = write_run(tmp_path / "runs", "residual", seed, residual)
    text = page_text(tmp_path, {k: v[0] for k, v in files.items()}, {k: v[1] for k, v in files.items()})
    assert "not larger than the seed-to-seed spread" in text and "do not show that one network is better" in text


def test_one_seed_says_replicates_are_needed_and_how_to_run_them(tmp_path):
    files = {
        (variant, 546): write_run(tmp_path / "runs", variant, 546, acc)
        for variant, acc in (("plain", 0.6), ("residual", 0.7))
    }
    text = page_text(tmp_path, {k: v[0] for k, v in files.items()}, {k: v[1] for k, v in files.items()})
    assert "1 training replicate" in text and "replicates are needed" in text
    assert "--config 'seeds=[546, 547, 548]'" in text
    assert "points on average" not in text


def paired_runs(folder, differences, plain=0.6):
    """Made-up runs of seeds 546, 547, ... whose residual accuracy exceeds the plain one by ``differences``."""
    files = {}
    for seed, difference in enumerate(differences, start=546):
        files["plain", seed] = write_run(folder, "plain", seed, plain)
        files["residual", seed] = write_run(folder, "residual", seed, plain + difference)
    return {k: v[0] for k, v in files.items()}, {k: v[1] for k, v in files.items()}


def test_the_paired_test_says_how_many_seeds_would_give_80_percent_power(tmp_path):
    metrics, _ = paired_runs(tmp_path, [0.0285, 0.0595, 0.0260])
    paired = replicates.paired_differences(replicates.per_seed_table(metrics), "plain", "residual")
    test = replicates.paired_test(paired, "plain", "residual")
    assert test["seeds_needed_80"] == 5 and test["seeds_needed_80_reason"] is None
    inputs = test["seeds_needed_80_inputs"]
    assert inputs["difference_mean"] == pytest.approx(0.038)
    assert inputs["difference_sd"] == pytest.approx(0.018661, rel=1e-4)
    assert inputs["alpha"] == pytest.approx(0.05) and inputs["power"] == 0.8


@pytest.mark.parametrize(
    ("differences", "reason"),
    [([0.05], "one seed"), ([0.02, 0.02, 0.02], "same difference"), ([0.02, -0.02], "zero")],
    ids=["one-seed", "zero-spread", "zero-mean"],
)
def test_no_seed_count_is_planned_without_a_spread_or_a_difference(tmp_path, differences, reason):
    metrics, _ = paired_runs(tmp_path, differences, plain=0.5)
    paired = replicates.paired_differences(replicates.per_seed_table(metrics), "plain", "residual")
    test = replicates.paired_test(paired, "plain", "residual")
    assert test["seeds_needed_80"] is None and reason in test["seeds_needed_80_reason"]
    json.dumps(test, allow_nan=False)  # a valid JSON document, the inputs included


def test_the_page_says_how_many_seeds_would_settle_an_open_comparison(tmp_path):
    text = page_text(tmp_path, *paired_runs(tmp_path / "runs", [0.0285, 0.0595, 0.0260]))
    assert "do not show that one network is better" in text
    assert "+3.8 points with the observed spread (sd 1.9 points)" in text
    assert "at the 5% level would show it with 80% probability from 5 seeds on" in text
    assert "`--config 'seeds=[546, 547, 548, 549, 550]'` (these seeds and 2 more)" in text
    assert "rests on the spread of only 3 seeds, so it is itself uncertain" in text


def test_the_page_recommends_no_seeds_where_the_interval_excludes_zero(tmp_path):
    text = page_text(tmp_path, *paired_runs(tmp_path / "runs", [0.030, 0.035, 0.032]))
    assert "The interval excludes zero" in text
    assert "probability from" not in text and "--config" not in text


def test_the_page_says_why_no_seed_count_is_given_for_a_zero_difference(tmp_path):
    text = page_text(tmp_path, *paired_runs(tmp_path / "runs", [0.02, -0.02, 0.0]))
    assert "do not show that one network is better" in text
    assert "No number of seeds can be planned from these: the observed mean difference is zero" in text


def test_the_page_asks_for_three_seeds_after_one(tmp_path):
    text = page_text(tmp_path, *paired_runs(tmp_path / "runs", [0.05]))
    assert "replicates are needed" in text and "Start with three: `--config 'seeds=[546, 547, 548]'`" in text
    assert "probability from" not in text


def test_the_paired_interval_stays_within_a_difference_of_accuracies(tmp_path):
    metrics, _ = paired_runs(tmp_path, [0.9, -0.5], plain=0.05)
    paired = replicates.paired_differences(replicates.per_seed_table(metrics), "plain", "residual")
    test = replicates.paired_test(paired, "plain", "residual")
    assert (test["ci95_low"], test["ci95_high"], test["ci95_clipped"]) == (-1.0, 1.0, True)
    text = page_text(tmp_path, *paired_runs(tmp_path / "runs", [0.9, -0.5], plain=0.05))
    assert "95% interval -100.0 to +100.0 points (clipped at ±100 points" in text
    unclipped = replicates.paired_test(
        replicates.paired_differences(
            replicates.per_seed_table(paired_runs(tmp_path / "b", [0.02, 0.03])[0]), "plain", "residual"
        ),
        "plain",
        "residual",
    )
    assert unclipped["ci95_clipped"] is False
