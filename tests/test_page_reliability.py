"""The summary page says what its files hold: the seed it shows, accuracy intervals inside [0, 1], every class tied
for the worst, and class names, URLs and hosts as text in both the Markdown and the HTML page."""

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from torchbasics import replicates
from torchbasics.errors import InputError
from torchbasics.io import write_table
from torchbasics.summary import ReplicateFiles, replicates_section, to_markdown


def per_seed_rows(accuracies: dict[str, dict[int, float]], worst: dict[str, dict[int, str]] | None = None):
    """A made-up per-seed table: accuracies[variant][seed], the worst class of each run (cat unless named)."""
    rows = [
        {
            "variant": variant,
            "seed": seed,
            "test_accuracy": accuracy,
            "test_loss": 1.0 - accuracy,
            "chosen_epoch": 3,
            "worst_class": (worst or {}).get(variant, {}).get(seed, "cat"),
            "worst_class_accuracy": 0.3,
            "most_confused_with": "dog",
        }
        for variant, by_seed in accuracies.items()
        for seed, accuracy in by_seed.items()
    ]
    return pd.DataFrame(rows, columns=replicates.PER_SEED_COLUMNS)


def replicate_files(tmp_path, per_seed: pd.DataFrame) -> ReplicateFiles:
    """The replicate tables of ``per_seed`` as the replicates rule writes them (no paired comparison)."""
    paths = {name: tmp_path / f"{name}.csv" for name in ("per_seed", "variants", "per_class")}
    write_table(paths["per_seed"], per_seed)
    write_table(paths["variants"], replicates.variant_summary(per_seed))
    per_class = per_seed[["variant", "seed"]].assign(**{"class": "cat", "accuracy": per_seed["test_accuracy"]})
    write_table(paths["per_class"], replicates.per_class_summary(per_class))
    return ReplicateFiles(
        per_seed=str(paths["per_seed"]),
        variants=str(paths["variants"]),
        per_class=str(paths["per_class"]),
        accuracy_figure=str(tmp_path / "accuracy.png"),
        per_class_figure=str(tmp_path / "per_class.png"),
    )


def replicate_markdown(tmp_path, per_seed, shown_seed) -> str:
    return to_markdown([replicates_section(replicate_files(tmp_path, per_seed), shown_seed)], tmp_path)


# ------------------------------------------------------------------- 3. the seed the page shows in full


def test_the_replicate_section_names_the_seed_the_workflow_shows_not_the_smallest(tmp_path):
    # seeds: [547, 546] shows seed 547 above (common.smk: SHOWN_SEED, the first in config order)
    per_seed = per_seed_rows({"plain": {547: 0.61, 546: 0.60}, "residual": {547: 0.63, 546: 0.62}})
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=547)
    assert "Seeds 546, 547; the sections above show seed 547 in full" in markdown
    assert "seed 546 in full" not in markdown


def test_a_shown_seed_without_replicate_runs_is_refused(tmp_path):
    per_seed = per_seed_rows({"plain": {546: 0.60, 547: 0.61}})
    with pytest.raises(InputError, match="no run of seed 548, the seed the page shows in full"):
        replicates_section(replicate_files(tmp_path, per_seed), 548)


# -------------------------------------------------------------------- 8. accuracy intervals inside [0, 1]


def test_an_accuracy_interval_of_two_spread_out_seeds_is_clipped_to_0_1_and_says_so():
    # two seeds 10 points apart: t(0.975, 1) = 12.7 makes the raw interval -8.5% to 118.5%
    summary = replicates.variant_summary(per_seed_rows({"plain": {1: 0.50, 2: 0.60}})).iloc[0]
    assert (summary["ci95_low"], summary["ci95_high"]) == (0.0, 1.0)
    assert summary["ci95_clipped"]
    assert summary["test_accuracy_mean"] == pytest.approx(0.55)


def test_one_bound_is_clipped_and_the_other_kept():
    values = [0.90, 0.99]
    low, high = stats.t.interval(0.95, 1, loc=np.mean(values), scale=stats.sem(values))
    assert high > 1 > low > 0
    interval = replicates.t_interval(values, replicates.ACCURACY_BOUNDS)
    assert (interval["ci95_low"], interval["ci95_high"]) == (pytest.approx(low), 1.0) and interval["ci95_clipped"]


def test_an_interval_inside_0_1_is_students_t_and_not_marked():
    values = [0.60, 0.62, 0.61]
    summary = replicates.variant_summary(per_seed_rows({"plain": dict(enumerate(values))})).iloc[0]
    expected = stats.t.interval(0.95, 2, loc=np.mean(values), scale=stats.sem(values))
    assert (summary["ci95_low"], summary["ci95_high"]) == pytest.approx(expected)
    assert not summary["ci95_clipped"]


def test_per_class_intervals_are_clipped_to_0_1():
    per_class = pd.DataFrame(
        {
            "variant": "plain",
            "seed": [1, 2, 1, 2],
            "class": ["cat", "cat", "dog", "dog"],
            "accuracy": [0.1, 0.3, 0.6, 0.61],
        }
    )
    summary = replicates.per_class_summary(per_class).set_index("class")
    assert summary.loc["cat", "ci95_low"] == 0.0 and summary.loc["cat", "ci95_clipped"]
    assert 0 < summary.loc["dog", "ci95_low"] < summary.loc["dog", "ci95_high"] < 1
    assert not summary.loc["dog", "ci95_clipped"]


def test_the_page_shows_no_accuracy_above_100_percent_and_says_which_interval_was_clipped(tmp_path):
    per_seed = per_seed_rows({"plain": {546: 0.44, 547: 0.70}, "residual": {546: 0.62, 547: 0.63}})
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=546)
    percentages = [float(number) for number in re.findall(r"(-?\d+\.\d)%", markdown)]
    assert percentages and all(0 <= number <= 100 for number in percentages), percentages
    rows = {line.split("|")[1].strip(): line for line in markdown.splitlines() if line.startswith("| ")}
    assert "0.0% – 100.0% (clipped)" in rows["plain"] and "(clipped)" not in rows["residual"]
    assert "An interval marked (clipped) reached past 0% or 100%" in markdown


def test_no_clipping_note_where_no_interval_was_clipped(tmp_path):
    per_seed = per_seed_rows({"plain": {546: 0.60, 547: 0.61}})
    assert "clipped" not in replicate_markdown(tmp_path, per_seed, shown_seed=546)


# ----------------------------------------------------------------------------- 11. a tie for the worst class


def test_every_class_tied_for_the_worst_is_named(tmp_path):
    per_seed = per_seed_rows(
        {"plain": {546: 0.60, 547: 0.61}, "residual": {546: 0.62, 547: 0.63}},
        worst={"residual": {546: "bird", 547: "airplane"}},
    )
    assert replicates.variant_summary(per_seed).set_index("variant").loc["residual", "worst_class_counts"] == (
        "bird 1/2; airplane 1/2"
    )
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=546)
    assert "**cat** is the worst class in 2 of 2 seeds of plain" in markdown
    assert "**bird** and **airplane** are each the worst class in 1 of 2 seeds of residual" in markdown


def test_three_tied_classes_are_listed_and_a_clear_worst_stays_alone(tmp_path):
    per_seed = per_seed_rows(
        {"plain": {1: 0.6, 2: 0.6, 3: 0.6}, "residual": {1: 0.6, 2: 0.6, 3: 0.6, 4: 0.6}},
        worst={"plain": {1: "cat", 2: "dog", 3: "bird"}, "residual": {1: "dog", 2: "cat", 3: "dog", 4: "bird"}},
    )
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=1)
    assert "**cat**, **dog** and **bird** are each the worst class in 1 of 3 seeds of plain" in markdown
    assert "**dog** is the worst class in 2 of 4 seeds of residual" in markdown
