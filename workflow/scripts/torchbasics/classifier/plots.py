"""Figures of part 2, drawn from the CSV, JSON and npz files the compute rules write (never from a model)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes, and the same output everywhere

import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from torchbasics.core.errors import InputError  # noqa: E402


def loss_curves(history: pd.DataFrame, best: dict, title: str) -> plt.Figure:
    """Training and validation loss per epoch, the chosen epoch marked."""
    epochs = history["epoch"].tolist()
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epochs, history["train_loss"], marker="o", label="training (augmented)")
    axes.plot(epochs, history["val_loss"], marker="o", label="validation")
    axes.axvline(best["epoch"], color="grey", linestyle="--", linewidth=1)
    axes.plot(
        [best["epoch"]],
        [best["val_loss"]],
        marker="*",
        markersize=16,
        color="tab:red",
        linestyle="none",
        label=f"chosen: epoch {best['epoch']} (val loss {best['val_loss']:.3f})",
    )
    axes.set_xlabel("epoch")
    axes.set_ylabel("cross-entropy loss")
    axes.set_xticks(epochs)
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    return figure


def validation_loss_curves(
    histories: dict[tuple[str, int], pd.DataFrame], bests: dict[tuple[str, int], dict], title: str
) -> plt.Figure:
    """The validation loss per epoch of every (variant, seed) run on one axis: a line per run in its variant's
    colour, each run's chosen epoch starred."""
    long = pd.concat(
        [history.assign(variant=variant, seed=seed) for (variant, seed), history in histories.items()],
        ignore_index=True,
    )
    variants = list(dict.fromkeys(variant for variant, _ in histories))
    palette = dict(zip(variants, sns.color_palette(n_colors=len(variants))))
    figure, axes = plt.subplots(figsize=(6, 4))
    # one line per seed, not a mean with a band: each seed's epoch is chosen on its own curve
    sns.lineplot(
        data=long,
        x="epoch",
        y="val_loss",
        hue="variant",
        hue_order=variants,
        palette=palette,
        units="seed",
        estimator=None,
        marker="o",
        markersize=4,
        linewidth=1.2,
        legend=False,
        ax=axes,
    )
    for (variant, _), best in bests.items():
        axes.plot(
            [best["epoch"]],
            [best["val_loss"]],
            marker="*",
            markersize=14,
            markeredgecolor="black",
            color=palette[variant],
            linestyle="none",
            label="_chosen epoch",
        )
    axes.set_xticks(sorted(long["epoch"].unique()))
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation cross-entropy loss")
    axes.set_title(title)
    seeds = long.groupby("variant", sort=False)["seed"].nunique()
    _run_legend(axes, {variant: palette[variant] for variant in variants}, seeds)
    axes.grid(alpha=0.3)
    return figure


def _run_legend(axes: plt.Axes, colours: dict[str, tuple], seeds: pd.Series) -> None:
    """One entry per variant, however many seeds it has, and one saying what the stars are."""
    handles = [
        Line2D([], [], color=colour, marker="o", markersize=4, label=f"{variant} ({_seed_count(seeds[variant])})")
        for variant, colour in colours.items()
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="*",
            markersize=12,
            markerfacecolor="white",
            markeredgecolor="black",
            linestyle="none",
            label="chosen epoch of each run",
        )
    )
    axes.legend(handles=handles, title="variant")


def _seed_count(count: int) -> str:
    """How many seeds, in words ("1 seed", "3 seeds")."""
    return f"{count} seed" if count == 1 else f"{count} seeds"


def confusion_heatmap(fractions: pd.DataFrame, title: str) -> plt.Figure:
    """Row i, column j = fraction of true class i (the index) predicted as class j, every cell labelled."""
    figure, axes = plt.subplots(figsize=(7.5, 6.5))
    sns.heatmap(
        fractions,
        ax=axes,
        cmap="Blues",
        vmin=0,
        vmax=1,
        annot=True,
        fmt=".2f",
        annot_kws={"fontsize": 7},
        square=True,
        cbar_kws={"label": "fraction of the true class"},
    )
    axes.set_xticklabels(axes.get_xticklabels(), rotation=45, ha="right")
    axes.set_yticklabels(axes.get_yticklabels(), rotation=0)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    return figure


def confused_images(confused: dict, title: str) -> plt.Figure:
    """Test images of the worst class that were taken for its most confused class, titled true/predicted."""
    count = len(confused["pixels"])
    columns = max(1, min(5, count))
    rows = max(1, -(-count // columns))
    figure, axes_grid = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.5 * rows), squeeze=False)
    for axes in axes_grid.flat:
        axes.axis("off")
    for position, axes in zip(range(count), axes_grid.flat):
        axes.imshow(confused["pixels"][position], interpolation="nearest")
        axes.set_title(
            f"{confused['true'][position]} / {confused['predicted'][position]}\n"
            f"#{confused['index'][position]}, p={confused['confidence'][position]:.2f}",
            fontsize=8,
        )
    if count == 0:
        axes_grid[0, 0].text(
            0.5,
            0.5,
            f"no test image of {confused['worst_class']}\nwas taken for {confused['confused_with']}",
            ha="center",
            va="center",
        )
    figure.suptitle(title)
    return figure


def per_class_comparison(tables: dict[str, pd.DataFrame], title: str) -> plt.Figure:
    """Each variant's per-class test accuracy side by side, with its 95% Wilson interval."""
    names = next(iter(tables.values()))["class"].tolist()
    if any(table["class"].tolist() != names for table in tables.values()):
        raise InputError(f"the per-class tables of {', '.join(tables)} do not list the same classes")
    long = pd.concat([table.assign(variant=variant) for variant, table in tables.items()], ignore_index=True)
    figure, axes = plt.subplots(figsize=(9, 4))
    # one value per bar: the bars show the accuracies as they are, the intervals are the Wilson ones drawn below
    sns.barplot(
        data=long, x="class", y="accuracy", hue="variant", order=names, hue_order=list(tables), errorbar=None, ax=axes
    )
    for bars, table in zip(axes.containers, tables.values()):
        centres = [bar.get_x() + bar.get_width() / 2 for bar in bars]
        accuracy = table["accuracy"].to_numpy()
        below, above = accuracy - table["ci95_low"].to_numpy(), table["ci95_high"].to_numpy() - accuracy
        axes.errorbar(centres, accuracy, yerr=[below, above], fmt="none", ecolor="black", capsize=2, linewidth=1)
    axes.set_xticks(axes.get_xticks(), names, rotation=45, ha="right")
    axes.set_xlabel("class")
    axes.set_ylabel("test accuracy (95% Wilson interval)")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.legend(title="variant")
    axes.grid(axis="y", alpha=0.3)
    return figure


# The half-width of a variant's slot on a categorical axis, as seaborn draws it (width 0.8).
SLOT_HALF_WIDTH = 0.4


def replicate_accuracy(per_seed: pd.DataFrame, summary: pd.DataFrame, title: str) -> plt.Figure:
    """Every seed's test accuracy, a point per seed in its seed's colour, over each variant's mean and its 95%
    Student-t interval over seeds (a line and a band; just the line where one seed leaves no interval)."""
    variants = summary["variant"].tolist()
    unknown = sorted(set(per_seed["variant"]) - set(variants))
    if unknown:
        raise InputError(f"the per-seed table has variant(s) {', '.join(unknown)} that the summary lacks")
    figure, axes = plt.subplots(figsize=(1.8 * len(variants) + 3, 4))
    for position, row in enumerate(summary.itertuples(index=False)):
        _mean_and_interval(axes, position, row.test_accuracy_mean, row.ci95_low, row.ci95_high)
    # the same seed in the same colour in every variant: a seed is one training setup, paired across variants
    seeds = [str(seed) for seed in sorted(per_seed["seed"].unique())]
    sns.stripplot(
        data=per_seed.assign(seed=per_seed["seed"].astype(str)),
        x="variant",
        y="test_accuracy",
        hue="seed",
        order=variants,
        hue_order=seeds,
        dodge=True,
        jitter=False,
        size=7,
        edgecolor="black",
        linewidth=0.5,
        zorder=3,
        ax=axes,
    )
    counts = [f"{variant}\n({_seed_count(count)})" for variant, count in zip(variants, summary["n_seeds"])]
    axes.set_xticks(range(len(variants)), counts)
    axes.set_xlabel("variant")
    axes.set_ylabel("test accuracy")
    axes.set_title(title)
    _seed_legend(axes, with_interval=summary["ci95_low"].notna().any())
    axes.grid(axis="y", alpha=0.3)
    return figure


def _mean_and_interval(axes: plt.Axes, position: int, mean: float, low: float, high: float) -> None:
    """A variant's mean as a line across its slot, its interval as a band behind it (none if NaN)."""
    left, width = position - SLOT_HALF_WIDTH, 2 * SLOT_HALF_WIDTH
    if pd.notna(low) and pd.notna(high):
        band = Rectangle((left, low), width, high - low, color="grey", alpha=0.25, linewidth=0, zorder=1)
        band.set_label("_interval")
        axes.add_patch(band)
    axes.plot([left, left + width], [mean, mean], color="black", linewidth=2, zorder=2, label="_mean")


def _seed_legend(axes: plt.Axes, with_interval: bool) -> None:
    """seaborn's entry per seed, then what the line and (where one is drawn) the band mean."""
    seaborn_legend = axes.get_legend()
    handles = [*seaborn_legend.legend_handles, Line2D([], [], color="black", linewidth=2)]
    labels = [f"seed {text.get_text()}" for text in seaborn_legend.get_texts()] + ["mean over seeds"]
    if with_interval:
        handles.append(Rectangle((0, 0), 1, 1, color="grey", alpha=0.25))
        labels.append("95% t interval of the mean")
    axes.legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5))


def replicate_per_class(per_class_summary: pd.DataFrame, title: str) -> plt.Figure:
    """Each variant's per-class test accuracy, the mean over seeds with its 95% Student-t interval, side by side."""
    variants = per_class_summary["variant"].unique().tolist()
    names = _same_classes(per_class_summary, variants)
    figure, axes = plt.subplots(figsize=(9, 4))
    # one row per bar: the bars show the summary's means, its t intervals are drawn below (seaborn's own would be
    # over rows, of which there is one)
    sns.barplot(
        data=per_class_summary,
        x="class",
        y="mean",
        hue="variant",
        order=names,
        hue_order=variants,
        errorbar=None,
        ax=axes,
    )
    bar_groups = list(axes.containers)  # before the error bars, which are containers too
    for bars, variant in zip(bar_groups, variants):
        rows = per_class_summary[per_class_summary["variant"] == variant].set_index("class").loc[names]
        centres = np.array([bar.get_x() + bar.get_width() / 2 for bar in bars])
        _error_bars(axes, centres, rows["mean"].to_numpy(), rows["ci95_low"].to_numpy(), rows["ci95_high"].to_numpy())
    axes.set_xticks(axes.get_xticks(), names, rotation=45, ha="right")
    axes.set_xlabel("class")
    axes.set_ylabel("test accuracy, mean over seeds\n(95% t interval)")
    axes.set_ylim(0, 1)  # the intervals are cut at the bounds of an accuracy (replicates.t_interval)
    axes.set_title(title)
    seeds = per_class_summary.groupby("variant", sort=False)["n_seeds"].max()
    bars_of = dict(zip(*reversed(axes.get_legend_handles_labels())))  # seaborn labels each variant's bars
    labels = [f"{variant} ({_seed_count(seeds[variant])})" for variant in variants]
    # outside the axes: with ten classes the bars fill every corner
    axes.legend(
        [bars_of[variant] for variant in variants], labels, title="variant", loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    axes.grid(axis="y", alpha=0.3)
    return figure


def _same_classes(per_class_summary: pd.DataFrame, variants: list[str]) -> list[str]:
    """The classes in file order, refused unless every variant lists the same ones in the same order."""
    listed = {variant: rows["class"].tolist() for variant, rows in per_class_summary.groupby("variant", sort=False)}
    names = listed[variants[0]]
    if any(classes != names for classes in listed.values()):
        raise InputError(f"the per-class summary does not list the same classes for {', '.join(variants)}")
    return names


def _error_bars(axes: plt.Axes, centres, means, lows, highs) -> None:
    """Intervals as error bars, skipping the NaN ones (one seed: no spread, so no interval to draw)."""
    known = ~(np.isnan(lows) | np.isnan(highs))
    if known.any():
        axes.errorbar(
            centres[known],
            means[known],
            yerr=[means[known] - lows[known], highs[known] - means[known]],
            fmt="none",
            ecolor="black",
            capsize=2,
            linewidth=1,
        )
