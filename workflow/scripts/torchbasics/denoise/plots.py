"""The figures of the denoising exercise, drawn only from the tables and images the compute rules wrote.

Every figure is saved as PNG and SVG by figures.save_figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from torchbasics.core.errors import InputError
from torchbasics.core.figures import plt

TILE_INCHES = 3.2  # width of one image tile; heights follow the image's aspect ratio


def contact_sheet(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    n_rows: int,
    n_cols: int,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
):
    """Images on an n_rows x n_cols grid (row-major), each tile titled, rows and columns labelled."""
    figure, axes = _image_grid(images[0].shape, n_rows, n_cols)
    for ax, image, tile_title in zip(axes.flat, images, titles):
        ax.imshow(image)
        ax.set_title(tile_title, fontsize=9)
    for ax, label in zip(axes[:, 0], row_labels):
        ax.set_ylabel(label)
    for ax, label in zip(axes[-1, :], col_labels):
        ax.set_xlabel(label)
    figure.suptitle(title)
    return figure


def comparison_figure(images: Sequence[np.ndarray], titles: Sequence[str], title: str, crop_fraction: float = 0.25):
    """The images side by side, and below them the same central crop of each, where the detail shows."""
    figure, axes = _image_grid(images[0].shape, 2, len(images))
    figure.suptitle(title)
    height, width = images[0].shape[:2]
    crop_h, crop_w = max(1, int(height * crop_fraction)), max(1, int(width * crop_fraction))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    for column, (image, panel_title) in enumerate(zip(images, titles)):
        axes[0, column].imshow(image)
        axes[0, column].set_title(panel_title, fontsize=9)
        axes[1, column].imshow(image[top : top + crop_h, left : left + crop_w])
    axes[1, 0].set_ylabel("central crop")
    return figure


LINE_STYLES = ["-", "--", ":", "-."]


def loss_curves_figure(curves: dict[str, dict[tuple[float, float], tuple[list[int], list[float]]]]):
    """One panel per norm, one line per (lr, alpha) setting: loss against iteration (log scale). A line's colour
    tells its alpha and its style its lr, so that a grid larger than the colour cycle stays readable."""
    figure, axes = plt.subplots(1, len(curves), figsize=(6.5 * len(curves), 4.5), squeeze=False)
    for ax, (norm, lines) in zip(axes[0], curves.items()):
        lrs = sorted({lr for lr, _ in lines})
        alphas = sorted({alpha for _, alpha in lines})
        for (lr, alpha), (iterations, losses) in lines.items():
            ax.plot(
                iterations,
                losses,
                linewidth=1.2,
                label=f"lr {lr:g}, alpha {alpha:g}",
                color=f"C{alphas.index(alpha) % 10}",
                linestyle=LINE_STYLES[lrs.index(lr) % len(LINE_STYLES)],
            )
        ax.set_yscale("log")
        ax.set(xlabel="iteration", ylabel="loss", title=f"{norm} loss of every setting")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, ncol=2)
    return figure


def psnr_heatmap(results: pd.DataFrame):
    """PSNR of every setting, one panel per norm (rows lr, columns alpha), each cell annotated and the best one
    outlined. Every panel shares one colour scale, so that the norms compare by colour too."""
    if results["psnr"].isna().any():
        raise InputError("the results hold no PSNR (no clean original was configured): there is nothing to map")
    norms = list(dict.fromkeys(results["norm"]))
    figure, axes = plt.subplots(1, len(norms), figsize=(5 * len(norms), 4), squeeze=False, layout="constrained")
    low, high = results["psnr"].min(), results["psnr"].max()
    for ax, norm in zip(axes[0], norms):
        grid = results[results["norm"] == norm].pivot(index="lr", columns="alpha", values="psnr")
        sns.heatmap(
            grid, ax=ax, annot=True, fmt=".2f", cmap="viridis", vmin=low, vmax=high, cbar_kws={"label": "PSNR (dB)"}
        )
        row, column = np.unravel_index(np.nanargmax(grid.to_numpy()), grid.shape)
        ax.add_patch(Rectangle((column, row), 1, 1, fill=False, edgecolor="red", linewidth=2))
        ax.set(xlabel="alpha", ylabel="lr", title=f"{norm}: PSNR against the clean original")
        ax.tick_params(axis="y", labelrotation=0)
    return figure


def _image_grid(shape: tuple[int, ...], n_rows: int, n_cols: int):
    """A figure of n_rows x n_cols axes for images of ``shape``, without ticks."""
    aspect = shape[0] / shape[1]
    figure, axes = plt.subplots(
        n_rows,
        n_cols,
        squeeze=False,
        layout="constrained",
        figsize=(TILE_INCHES * n_cols + 0.5, (TILE_INCHES * aspect + 0.4) * n_rows + 0.5),
    )
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return figure, axes
