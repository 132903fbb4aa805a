"""Training when things go wrong: a full disk."""

import errno
import logging
import pathlib
import re

import pytest

from torchbasics.errors import DiskFullError
from torchbasics.io import atomic_path, write_json

# ------------------------------------------------------------------------------------------ a full disk


def test_a_full_disk_is_named_with_its_folder(tmp_path):
    target = tmp_path / "results" / "table.csv"
    with pytest.raises(DiskFullError) as raised, atomic_path(target) as tmp:
        tmp.write_text("partial")
        with open("/dev/full", "wb") as full:  # the kernel's own "no space left on device"
            full.write(b"x")
    assert raised.value.errno == errno.ENOSPC
    assert f"the disk holding {target.parent} is full" in str(raised.value)
    assert "MiB free of" in str(raised.value)
    assert list(target.parent.iterdir()) == []  # no partial file


def fill_the_disk_of(folder, monkeypatch):
    """Make every write of a whole file under ``folder`` fail half-way, as on a full disk."""
    write_bytes, write_text = pathlib.Path.write_bytes, pathlib.Path.write_text

    def full(path, data, original):
        if folder not in path.parents:
            return original(path, data)
        original(path, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pathlib.Path, "write_bytes", lambda path, data: full(path, data, write_bytes))
    monkeypatch.setattr(pathlib.Path, "write_text", lambda path, data: full(path, data, write_text))


def test_the_json_writer_names_a_full_disk(tmp_path, monkeypatch):
    fill_the_disk_of(tmp_path, monkeypatch)
    with pytest.raises(DiskFullError, match=re.escape(f"cannot write state.json: the disk holding {tmp_path} is full")):
        write_json(tmp_path / "state.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ the loss under bfloat16


def test_a_full_disk_fails_the_job_with_one_logged_line(tmp_path):
    from test_runtime import fake_snakemake

    from torchbasics.runtime import run_script

    def main(snakemake):
        with atomic_path(tmp_path / "results" / "epoch_07.pt") as tmp, open("/dev/full", "wb") as full:
            tmp.write_bytes(b"partial")
            full.write(b"x")

    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        with pytest.raises(SystemExit) as exit_info:
            run_script(fake_snakemake(tmp_path / "logs" / "job.log"), main)
    finally:  # run_script points the root logger at the job's log file
        for handler in set(root.handlers) - set(saved):
            handler.close()
        root.handlers[:] = saved
    assert exit_info.value.code == 1
    log_text = (tmp_path / "logs" / "job.log").read_text()
    assert f"ERROR cannot write epoch_07.pt: the disk holding {tmp_path / 'results'} is full" in log_text
    assert "Traceback" not in log_text
