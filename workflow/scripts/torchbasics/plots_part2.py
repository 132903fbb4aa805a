"""Figures of part 2, drawn from the CSV, JSON and npz files the compute rules write (never from a model)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes, and the same output everywhere

import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .errors import InputError  # noqa: E402
from .io import atomic_path  # noqa: E402


def save_figure(figure: plt.Figure, png: str | Path, svg: str | Path) -> None:
    """Write the figure as PNG and SVG, each atomically, and free it."""
    for path, file_format in ((png, "png"), (svg, "svg")):
        with atomic_path(path, suffix="." + file_format) as tmp:
            figure.savefig(tmp, format=file_format, dpi=150, bbox_inches="tight")
    plt.close(figure)


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


def confusion_heatmap(fractions: np.ndarray, label_names: list[str], title: str) -> plt.Figure:
    """Row i, column j = fraction of class i predicted as j, every cell labelled with its value."""
    figure, axes = plt.subplots(figsize=(7.5, 6.5))
    image = axes.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(label_names))
    axes.set_xticks(ticks, label_names, rotation=45, ha="right")
    axes.set_yticks(ticks, label_names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    for i in ticks:
        for j in ticks:
            value = fractions[i, j]
            axes.text(
                j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value > 0.5 else "black"
            )
    figure.colorbar(image, ax=axes, label="fraction of the true class")
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


def per_class_comparison(tables: dict[str, list[dict]], title: str) -> plt.Figure:
    """Each variant's per-class test accuracy side by side, with its 95% Wilson interval."""
    names = [row["class"] for row in next(iter(tables.values()))]
    if any([row["class"] for row in rows] != names for rows in tables.values()):
        raise InputError(f"the per-class tables of {', '.join(tables)} do not list the same classes")
    figure, axes = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(tables)
    positions = np.arange(len(names))
    for offset, (variant, rows) in enumerate(tables.items()):
        accuracy = np.array([row["accuracy"] for row in rows])
        errors = np.array([accuracy - [row["ci95_low"] for row in rows], [row["ci95_high"] for row in rows] - accuracy])
        axes.bar(
            positions + (offset - (len(tables) - 1) / 2) * width, accuracy, width, yerr=errors, capsize=2, label=variant
        )
    axes.set_xticks(positions, names, rotation=45, ha="right")
    axes.set_ylabel("test accuracy (95% Wilson interval)")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return figure
