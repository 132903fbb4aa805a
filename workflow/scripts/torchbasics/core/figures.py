"""How every figure of the workflow is made and saved: the Agg backend and the PNG + SVG pair of each figure.

The plotting modules take ``plt`` from here, so the backend is chosen before any of them draws.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes, and the same output everywhere

import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)

from torchbasics.core.io import atomic_path  # noqa: E402

PNG_DPI = 150

__all__ = ["PNG_DPI", "plt", "save_figure"]


def save_figure(figure: plt.Figure, png: str | os.PathLike, svg: str | os.PathLike) -> None:
    """Save ``figure`` as PNG and SVG, each atomically, and release it."""
    for target, kind in ((png, "png"), (svg, "svg")):
        with atomic_path(target, suffix="." + kind) as tmp:
            figure.savefig(tmp, format=kind, dpi=PNG_DPI, bbox_inches="tight")
    plt.close(figure)
