"""The autograd stage's files: the gradient table, the convergence table and the summary record.

Torch-free on purpose: the plot rules and the page read these files without computing anything.
"""

from __future__ import annotations

import pandas as pd

from torchbasics.core.io import read_record, read_table, write_record, write_table

GRADIENT_COLUMNS = ["x", "dzdx", "cos_x", "abs_error"]
CONVERGENCE_COLUMNS = ["n_terms", "dtype", "max_value_error", "max_gradient_error"]
# summary.json: the gradient at pi/4 and at the sampled points (``autograd.GradientStudy.summary``).
SUMMARY_FIELDS = (
    "n_terms",
    "dtype",
    "device",
    "gradient_at_quarter_pi",
    "cos_quarter_pi",
    "error_at_quarter_pi",
    "n_points",
    "max_abs_error",
)


def write_gradients(path, rows: list[dict]) -> None:
    write_table(path, pd.DataFrame(rows, columns=GRADIENT_COLUMNS))


def read_gradients(path) -> pd.DataFrame:
    return read_table(path, GRADIENT_COLUMNS, "a gradient table", numbers=GRADIENT_COLUMNS)


def write_convergence(path, rows: list[dict]) -> None:
    write_table(path, pd.DataFrame(rows, columns=CONVERGENCE_COLUMNS))


def read_convergence(path) -> pd.DataFrame:
    numbers = [column for column in CONVERGENCE_COLUMNS if column != "dtype"]
    return read_table(path, CONVERGENCE_COLUMNS, "a convergence table", numbers=numbers)


def write_summary(path, summary: dict) -> None:
    write_record(path, summary, SUMMARY_FIELDS)


def read_summary(path) -> dict:
    return read_record(path, SUMMARY_FIELDS, "an autograd summary")
