"""The denoising stage's tables: each setting's result (per norm, and every norm in one table) and its loss curve.

Torch-free on purpose: the plot and summary rules read these tables without solving anything.
"""

from __future__ import annotations

import pandas as pd

from torchbasics.core.io import read_record, read_table, write_record, write_table

RESULT_COLUMNS = [
    "norm",
    "lr",
    "alpha",
    "iterations",
    "implementation",
    "final_loss",
    "psnr",
    "ssim",
    "seconds",
    "image",
]
RESULT_NUMBERS = ["lr", "alpha", "iterations", "final_loss", "psnr", "ssim", "seconds"]
LOSS_COLUMNS = ["norm", "lr", "alpha", "iteration", "loss"]
# best.json: each norm's chosen setting, the noisy input's quality and how the choice was made
# (``denoise.summarise``).
BEST_FIELDS = ("criterion", "noisy", "best", "better_norm")


def write_results(path, results: list[dict] | pd.DataFrame) -> None:
    """One row per setting (``RESULT_COLUMNS``); PSNR and SSIM stay empty without a clean reference."""
    write_table(path, pd.DataFrame(results, columns=RESULT_COLUMNS))


def read_results(path) -> pd.DataFrame:
    return read_table(path, RESULT_COLUMNS, "a denoising results table", numbers=RESULT_NUMBERS)


def write_losses(path, rows: list[dict]) -> None:
    """Every setting's loss at every iteration, long format (``LOSS_COLUMNS``)."""
    write_table(path, pd.DataFrame(rows, columns=LOSS_COLUMNS))


def read_losses(path) -> pd.DataFrame:
    return read_table(path, LOSS_COLUMNS, "a denoising loss table", numbers=["lr", "alpha", "iteration", "loss"])


def write_best(path, summary: dict) -> None:
    write_record(path, summary, BEST_FIELDS)


def read_best(path) -> dict:
    return read_record(path, BEST_FIELDS, "a denoising summary (best.json)")
