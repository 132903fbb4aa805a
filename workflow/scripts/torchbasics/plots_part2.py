"""Figures of part 2, drawn from the CSV, JSON and npz files the compute rules write (never from a model)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes, and the same output everywhere

import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .errors import InputError  # noqa: E402


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


def validation_loss_curves(histories: dict[str, pd.DataFrame], bests: dict[str, dict], title: str) -> plt.Figure:
    """Every variant's validation loss per epoch on one axis, each variant's chosen epoch marked in its colour."""
    long = pd.concat([history.assign(variant=variant) for variant, history in histories.items()], ignore_index=True)
    palette = dict(zip(histories, sns.color_palette(n_colors=len(histories))))
    figure, axes = plt.subplots(figsize=(6, 4))
    sns.lineplot(
        data=long,
        x="epoch",
        y="val_loss",
        hue="variant",
        hue_order=list(histories),
        palette=palette,
        marker="o",
        errorbar=None,
        ax=axes,
    )
    for variant, best in bests.items():
        axes.plot(
            [best["epoch"]],
            [best["val_loss"]],
            marker="*",
            markersize=16,
            markeredgecolor="black",
            color=palette[variant],
            linestyle="none",
            label=f"{variant}: chosen epoch {best['epoch']} (val loss {best['val_loss']:.3f})",
        )
    axes.set_xticks(sorted(long["epoch"].unique()))
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation cross-entropy loss")
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    return figure


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
