"""CSV tables between the compute rules and the plot rules: written atomically, read back with numbers typed.

Floats are written in full (repr), so equal numbers give equal files.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import Any

from .io import atomic_path


def write_csv(target: str | os.PathLike, rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> None:
    """Write ``rows`` under the header ``columns``, atomically. None becomes an empty cell."""
    with atomic_path(target, suffix=".csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})


def read_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows as dicts: numeric cells as float (int where integral and written so), empty cells as None."""
    with open(path, newline="") as handle:
        return [{key: _typed(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def _typed(cell: str):
    if cell == "":
        return None
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell
