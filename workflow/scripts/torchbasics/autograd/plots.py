"""The figures of the autograd exercise, drawn only from the tables the compute rules wrote.

Every figure is saved as PNG and SVG by figures.save_figure.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from torchbasics.core.figures import plt


def gradient_figure(gradients: pd.DataFrame, n_terms: int):
    """dz/dx at the sampled points over the exact derivative cos(x)."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    curve = np.linspace(-math.pi, math.pi, 400)
    axes.plot(curve, np.cos(curve), color="0.6", linewidth=2.5, label="cos(x)")
    axes.scatter(
        gradients["x"],
        gradients["dzdx"],
        s=14,
        color="C3",
        zorder=3,
        label=f"dz/dx by autograd ({len(gradients)} points)",
    )
    worst = gradients["abs_error"].max()
    axes.set(
        xlabel="x",
        ylabel="dz/dx",
        title=f"Gradient of the {n_terms}-term Taylor series of sin(x)\nmax |dz/dx - cos x| = {worst:.2g}",
    )
    axes.set_xticks([-math.pi, -math.pi / 2, 0, math.pi / 2, math.pi], ["-π", "-π/2", "0", "π/2", "π"])
    axes.grid(alpha=0.3)
    axes.legend(loc="lower center")
    return figure


def convergence_figure(convergence: pd.DataFrame):
    """Max error of the series' value and of its autograd gradient against the number of terms, log scale."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for dtype, marker in (("float64", "o"), ("float32", "s")):
        dtype_rows = convergence[convergence["dtype"] == dtype]
        terms = dtype_rows["n_terms"]
        for column, label, color in (
            ("max_value_error", "value vs sin", "C0"),
            ("max_gradient_error", "gradient vs cos", "C1"),
        ):
            errors = dtype_rows[column].clip(lower=np.finfo(float).tiny)  # log axes cannot show 0
            axes.semilogy(
                terms,
                errors,
                marker=marker,
                color=color,
                linestyle="-" if dtype == "float64" else ":",
                label=f"{label} ({dtype})",
            )
    axes.set(
        xlabel="terms of the series",
        ylabel="max |error| over [-π, π]",
        title="Taylor series of sin: convergence of value and gradient",
    )
    axes.grid(alpha=0.3, which="both")
    axes.legend()
    return figure
