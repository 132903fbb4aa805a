"""Atomic file output (a target either appears complete or not at all), and the JSON and CSV files it writes.

CSV tables go through pandas both ways. Floats are written in full (the shortest text that reads back as the same
number), so equal numbers give equal files and a table read back holds the very numbers that were written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from torchbasics.core.errors import DiskFullError, InputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only if the block succeeds.

    The temp file sits in the same folder so the final ``os.replace`` is atomic (same file system). On any
    error the temp file is removed, so an interrupted or failed step leaves no partial output behind.
    ``suffix`` keeps the extension for writers that insist on one (``np.savez`` appends ``.npz`` otherwise).
    A full disk (or quota) is reported as a ``DiskFullError`` that names the folder, instead of the bare
    errno, or the message of whatever library was writing.
    """
    target = Path(target)
    with disk_full_named(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + suffix, dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.chmod(0o666 & ~_current_umask())  # mkstemp makes 0600; outputs should get the usual permissions
        try:
            yield tmp
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


# No space left, or the user's quota on it used up: either way the fix is freeing space on that disk.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def disk_full_named(target: Path) -> Iterator[None]:
    """Turn a write that failed for want of space into an error that says so and names the folder."""
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_FULL or isinstance(error, DiskFullError):
            raise
        raise DiskFullError(error.errno, disk_full_message(target)) from error


def disk_full_message(target: Path) -> str:
    folder = target.parent
    try:
        usage = shutil.disk_usage(folder)
        space = f" ({usage.free / 2**20:.1f} MiB free of {usage.total / 2**20:.1f} MiB)"
    except OSError:
        space = ""
    return (
        f"cannot write {target.name}: the disk holding {folder} is full{space}; free space there and run "
        "again (no partial file was left)"
    )


def write_json(target: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def write_record(target: str | os.PathLike, record: dict, fields: Iterable[str]) -> None:
    """Write a JSON record that holds (at least) the ``fields`` its owner declares, atomically."""
    missing = [field for field in fields if field not in record]
    if missing:
        raise ValueError(f"{target}: the record lacks its declared field(s) {', '.join(missing)}")
    write_json(target, record)


def read_record(path: str | os.PathLike, fields: Iterable[str], what: str) -> dict:
    """The JSON record at ``path``, checked to hold (at least) ``fields``; ``what`` names it in errors.

    A JSON record has one owner, the module of the stage that writes it, which declares its fields and reads it
    through here for every other module, as tables go through ``read_table``.
    """
    try:
        record = read_json(path)
    except (OSError, ValueError) as error:  # json's decode errors are ValueErrors
        raise InputError(f"{path}: cannot read {what} ({error})") from error
    if not isinstance(record, dict):
        raise InputError(f"{path}: not {what}: a JSON object was expected")
    missing = [field for field in fields if field not in record]
    if missing:
        raise InputError(f"{path}: not {what}: {', '.join(missing)} missing")
    return record


# The cells read as missing: empty (how a missing value is written) and nan (a number that is not one, such as
# the loss of a diverged epoch). pandas' longer default list would also turn words like "None" or "NA" into NaN.
MISSING_CELLS = ("", "nan", "NaN")


def write_table(target: str | os.PathLike, table: pd.DataFrame, missing: str = "") -> None:
    """Write ``table`` as CSV (header, no index), atomically; a missing value (None, NaN) becomes ``missing``."""
    with atomic_path(target, suffix=".csv") as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n", na_rep=missing)


def read_table(path: str | os.PathLike, columns: Iterable[str], what: str, numbers: Iterable[str] = ()) -> pd.DataFrame:
    """The CSV at ``path``, checked to have (at least) ``columns`` and numbers in the ``numbers`` columns.

    ``what`` names the table in errors, which all name the file (and the line of a malformed value).
    """
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=list(MISSING_CELLS))
    except (OSError, ValueError) as error:  # pandas' parser errors are ValueErrors
        raise InputError(f"{path}: cannot read {what} ({error})") from error
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise InputError(f"{path}: not {what}: column(s) {', '.join(missing)} missing")
    return as_numbers(table, numbers, path)


def as_numbers(table: pd.DataFrame, columns: Iterable[str], path) -> pd.DataFrame:
    """``table`` with ``columns`` as numbers; a cell that is neither a number nor missing is refused with its line."""
    for column in columns:
        cells = table[column]
        values = pd.to_numeric(cells, errors="coerce")
        malformed = values.isna() & cells.notna()
        if malformed.any():
            position = int(malformed.to_numpy().argmax())
            raise InputError(
                f"{path}, line {position + 2}: malformed value {cells.iloc[position]!r} in column {column!r}"
            )  # line 1 is the header
        table[column] = values
    return table


def table_rows(table: pd.DataFrame) -> list[dict]:
    """The rows of ``table`` as dicts of plain Python values, a missing value as None (as JSON writes null)."""
    return table.astype(object).where(table.notna(), None).to_dict("records")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
