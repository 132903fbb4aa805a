"""What holds across training replicates: each (variant, seed)'s test results, every variant's mean with its
Student-t interval over seeds, overall and per class, and the paired difference between two variants, seed by seed.

A replicate is one training run of a variant with its own seed (weights, batch order, augmentation); the data and
its split stay the same. The intervals here account for that training noise; a McNemar test of one pair of runs
accounts only for the sampling of the test images.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from torchbasics.classifier.evaluation_files import read_metrics
from torchbasics.classifier.power import POWER_TARGET, seeds_needed
from torchbasics.core.errors import InputError
from torchbasics.core.io import read_record, read_table, write_record, write_table

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # the paired t-test's level, matching the 95% interval it is reported with
# The range an accuracy, and so its mean over seeds, can take; and the range of a difference of two accuracies.
ACCURACY_BOUNDS = (0.0, 1.0)
DIFFERENCE_BOUNDS = (-1.0, 1.0)
PER_SEED_COLUMNS = [
    "variant",
    "seed",
    "test_accuracy",
    "test_loss",
    "chosen_epoch",
    "worst_class",
    "worst_class_accuracy",
    "most_confused_with",
]
# What each variant's metrics.json holds under the name of a PER_SEED_COLUMNS column.
METRICS_KEYS = {"test_accuracy": "accuracy", "chosen_epoch": "chosen_epoch", "test_loss": "test_loss"}
METRICS_KEYS |= {key: key for key in ("worst_class", "worst_class_accuracy", "most_confused_with")}


def t_interval(values, bounds: tuple[float, float] | None = None) -> dict:
    """Mean, sample standard deviation and the two-sided Student-t interval of the mean over ``values``.

    With one value there is no spread to measure: the standard deviation and the interval are NaN. ``bounds`` are
    the range the mean can take (an accuracy's [0, 1]): an interval reaching past them, as one over a few spread-out
    seeds does, is cut at them and ``ci95_clipped`` says so. The cut loses no coverage: the true mean is always
    inside the bounds, so the cut interval holds it exactly when the uncut one does.
    """
    values = np.asarray(values, dtype=float)
    n, mean = len(values), float(np.mean(values))
    if n < 2:
        unmeasured = {"sd": math.nan, "ci95_low": math.nan, "ci95_high": math.nan, "ci95_clipped": False}
        return {"n": n, "mean": mean} | unmeasured
    sd = float(np.std(values, ddof=1))
    half_width = float(stats.t.ppf((1 + CONFIDENCE) / 2, n - 1)) * sd / math.sqrt(n)
    low, high = mean - half_width, mean + half_width
    clipped = bounds is not None and (low < bounds[0] or high > bounds[1])
    if clipped:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return {"n": n, "mean": mean, "sd": sd, "ci95_low": low, "ci95_high": high, "ci95_clipped": clipped}


def worst_class_counts(runs: pd.DataFrame) -> pd.Series:
    """How many of ``runs`` had each class as their worst, most often first; a tie in the order the runs give."""
    return runs["worst_class"].value_counts(sort=False).sort_values(ascending=False, kind="stable")


def per_seed_table(metrics_files: dict[tuple[str, int], str | Path]) -> pd.DataFrame:
    """One row per (variant, seed) from its metrics.json, in the order given."""
    rows = []
    for (variant, seed), path in metrics_files.items():
        metrics = read_metrics(path)
        rows.append({"variant": variant, "seed": seed} | {column: metrics[key] for column, key in METRICS_KEYS.items()})
    return pd.DataFrame(rows, columns=PER_SEED_COLUMNS)


def variant_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per variant: the test accuracy's mean, sd and 95% interval over seeds (clipped to [0, 1], ``ci95_clipped``
    says where), the mean test loss, and how often each class was the worst (``worst_class_counts``, most frequent
    first, e.g. "cat 3/3")."""
    rows = []
    for variant, runs in per_seed.groupby("variant", sort=False):
        accuracy = t_interval(runs["test_accuracy"], ACCURACY_BOUNDS)
        counts = worst_class_counts(runs)
        rows.append(
            {
                "variant": variant,
                "n_seeds": accuracy["n"],
                "test_accuracy_mean": accuracy["mean"],
                "test_accuracy_sd": accuracy["sd"],
                "ci95_low": accuracy["ci95_low"],
                "ci95_high": accuracy["ci95_high"],
                "ci95_clipped": accuracy["ci95_clipped"],
                "test_loss_mean": float(runs["test_loss"].mean()),
                "worst_class_counts": "; ".join(f"{name} {count}/{len(runs)}" for name, count in counts.items()),
            }
        )
    return pd.DataFrame(rows)


def per_class_table(per_class_files: dict[tuple[str, int], str | Path]) -> pd.DataFrame:
    """Every (variant, seed, class)'s test accuracy, from each run's per_class.csv."""
    frames = []
    for (variant, seed), path in per_class_files.items():
        table = read_table(path, ["class", "accuracy"], "a per-class table", numbers=["accuracy"])
        frames.append(table[["class", "accuracy"]].assign(variant=variant, seed=seed))
    return pd.concat(frames, ignore_index=True)[["variant", "seed", "class", "accuracy"]]


def per_class_summary(per_class: pd.DataFrame) -> pd.DataFrame:
    """Per variant and class: the test accuracy's mean, sd and 95% interval over seeds, clipped to [0, 1] (classes in
    file order)."""
    rows = [
        {"variant": variant, "class": name} | t_interval(runs["accuracy"], ACCURACY_BOUNDS)
        for (variant, name), runs in per_class.groupby(["variant", "class"], sort=False)
    ]
    return pd.DataFrame(rows).rename(columns={"n": "n_seeds"})


def paired_differences(per_seed: pd.DataFrame, baseline: str, other: str) -> pd.DataFrame:
    """Per seed trained for both: the two variants' test accuracies and ``other`` minus ``baseline``."""
    wide = per_seed.pivot(index="seed", columns="variant", values="test_accuracy")
    paired = wide[[baseline, other]].dropna()
    if paired.empty:
        raise InputError(f"no seed has both {baseline} and {other} evaluated")
    paired = paired.reset_index()
    paired["difference"] = paired[other] - paired[baseline]
    return paired[["seed", baseline, other, "difference"]]


# paired_test.json: a compared variant minus the baseline over the seeds (``paired_test``).
PAIRED_TEST_FIELDS = (
    "baseline",
    "other",
    "n_seeds",
    "difference_mean",
    "difference_sd",
    "ci95_low",
    "ci95_high",
    "ci95_clipped",
    "t_test_p_value",
    "exceeds_seed_spread",
    "other_better_in",
    "seeds_needed_80",
    "seeds_needed_80_reason",
    "seeds_needed_80_inputs",
)


def paired_test(paired: pd.DataFrame, baseline: str, other: str) -> dict:
    """The mean paired difference with its Student-t interval, and the paired t-test's two-sided p-value.

    ``exceeds_seed_spread``: the interval excludes zero, so the difference is larger than training noise (the
    seed-to-seed spread) explains; null with one seed, where there is no spread to compare with.
    """
    summary = t_interval(paired["difference"], DIFFERENCE_BOUNDS)
    p_value = math.nan
    if summary["n"] >= 2 and summary["sd"] > 0:
        p_value = float(stats.ttest_rel(paired[other], paired[baseline]).pvalue)
    elif summary["n"] >= 2:  # every seed gave the same difference: no spread, the test is undefined
        p_value = 1.0 if summary["mean"] == 0 else 0.0
    measured = summary["n"] >= 2
    result = {
        "baseline": baseline,
        "other": other,
        "n_seeds": summary["n"],
        "difference_mean": summary["mean"],
        "difference_sd": summary["sd"],
        "ci95_low": summary["ci95_low"],
        "ci95_high": summary["ci95_high"],
        "ci95_clipped": summary["ci95_clipped"],
        "t_test_p_value": p_value,
        "exceeds_seed_spread": (summary["ci95_low"] > 0 or summary["ci95_high"] < 0) if measured else None,
        "other_better_in": int((paired["difference"] > 0).sum()),
    } | seeds_needed_for_power(summary)
    return _nan_to_null(result)


def _nan_to_null(record):
    """JSON has no NaN: what one seed cannot measure is null."""
    if isinstance(record, dict):
        return {key: _nan_to_null(value) for key, value in record.items()}
    return None if isinstance(record, float) and math.isnan(record) else record


def seeds_needed_for_power(difference: dict) -> dict:
    """How many seeds the paired t-test needs for 80% power against a true difference of the observed size,
    given the observed spread: ``seeds_needed_80``, or null with ``seeds_needed_80_reason``, and the inputs used.

    Both inputs are estimates from the seeds run so far, so the figure is a planning guide, not a guarantee.
    """
    n, mean, sd = difference["n"], difference["mean"], difference["sd"]
    inputs = {"difference_mean": mean, "difference_sd": sd, "alpha": ALPHA, "power": POWER_TARGET}
    needed, reason = None, None
    if n < 2:
        reason = "one seed has no spread to plan from"
    elif sd == 0:
        reason = "every seed gave the same difference, so there is no spread to plan from"
    elif mean == 0:
        reason = "the observed mean difference is zero, which no number of seeds can detect"
    else:
        needed = seeds_needed(mean, sd, ALPHA, POWER_TARGET)
        if needed is None:
            reason = "the observed difference is too small against its spread for any practical number of seeds"
    return {"seeds_needed_80": needed, "seeds_needed_80_reason": reason, "seeds_needed_80_inputs": inputs}


def write_replicate_tables(
    metrics_files: dict[tuple[str, int], str | Path],
    per_class_files: dict[tuple[str, int], str | Path],
    *,
    per_seed_out: str | Path,
    variants_out: str | Path,
    per_class_out: str | Path,
) -> None:
    """What rule replicates writes: the per-seed table, each variant's summary, the per-class summary."""
    per_seed = per_seed_table(metrics_files)
    write_table(per_seed_out, per_seed)
    write_table(variants_out, variant_summary(per_seed))
    write_table(per_class_out, per_class_summary(per_class_table(per_class_files)))


def write_paired_comparison(
    per_seed_path: str | Path, baseline: str, other: str, *, paired_out: str | Path, test_out: str | Path
) -> None:
    """What rule paired_replicates writes: the per-seed differences and their paired test."""
    per_seed = read_table(per_seed_path, PER_SEED_COLUMNS, "a per-seed table", numbers=["seed", "test_accuracy"])
    paired = paired_differences(per_seed, baseline, other)
    write_table(paired_out, paired)
    write_record(test_out, paired_test(paired, baseline, other), PAIRED_TEST_FIELDS)


def read_paired_test(path) -> dict:
    return read_record(path, PAIRED_TEST_FIELDS, "a paired test over seeds (paired_test.json)")
