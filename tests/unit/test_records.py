"""Every JSON record has one owner that declares its fields: what the owner's producer makes holds them all, and a
file without them is refused by name when it is read."""

import json

import numpy as np
import pandas as pd
import pytest

from torchbasics.autograd import autograd, autograd_files
from torchbasics.classifier import compare, evaluation_files, history, replicates
from torchbasics.core.errors import InputError
from torchbasics.core.io import read_record, write_record
from torchbasics.denoise import denoise, denoise_files


def test_a_record_missing_a_declared_field_is_refused_by_name(tmp_path):
    path = tmp_path / "best.json"
    path.write_text(json.dumps({"variant": "plain", "epoch": 2}))
    with pytest.raises(InputError, match=r"best.json: not a chosen epoch \(best.json\): val_loss, val_accuracy"):
        history.read_best(path)


@pytest.mark.parametrize("content", ["[1, 2]", "{not json", ""])
def test_a_file_that_is_not_a_json_object_is_refused_naming_it(tmp_path, content):
    path = tmp_path / "metrics.json"
    path.write_text(content)
    with pytest.raises(InputError, match="metrics.json: (not|cannot read) an evaluation's metrics"):
        evaluation_files.read_metrics(path)


def test_a_missing_record_is_refused_naming_it(tmp_path):
    with pytest.raises(InputError, match="summary.json: cannot read an autograd summary"):
        autograd_files.read_summary(tmp_path / "summary.json")


def test_a_writer_refuses_a_record_that_lacks_a_declared_field_and_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="lacks its declared field"):
        write_record(tmp_path / "x.json", {"a": 1}, ("a", "b"))
    assert not (tmp_path / "x.json").exists()


def test_fields_beyond_the_declared_ones_are_kept(tmp_path):
    write_record(tmp_path / "x.json", {"a": 1, "only_plain_correct": 3}, ("a",))
    assert read_record(tmp_path / "x.json", ("a",), "x") == {"a": 1, "only_plain_correct": 3}


def history_frame():
    return pd.DataFrame(
        [
            {"epoch": epoch, "train_loss": 2.0 / epoch, "val_loss": loss, "val_accuracy": 0.1 * epoch}
            for epoch, loss in enumerate([1.5, 1.1, 1.2], start=1)
        ]
    )


def producers():
    """Each record's producer, as its stage calls it, with the owner's writer and reader."""
    right = np.array([True, False, True, True])
    paired = pd.DataFrame({"seed": [1, 2, 3], "plain": [0.6, 0.62, 0.61], "residual": [0.63, 0.64, 0.62]})
    paired["difference"] = paired["residual"] - paired["plain"]
    results = pd.DataFrame(
        [
            {"norm": "L1", "lr": 1.0, "alpha": alpha, "iterations": 5, "psnr": 20 + alpha, "ssim": 0.5}
            | {"final_loss": 1.0, "image": f"{alpha}.png", "implementation": "fast"}
            for alpha in (0.1, 0.2, 0.3)
        ]
    )
    return {
        "best": (
            history.selection_summary("plain", history_frame(), ["1.pt", "2.pt", "3.pt"]),
            history.write_best,
            history.read_best,
        ),
        "mcnemar": (
            compare.mcnemar_summary(right, ~right, ("plain", "residual")),
            lambda path, record: write_record(path, record, compare.MCNEMAR_FIELDS),
            compare.read_mcnemar,
        ),
        "paired_test": (
            replicates.paired_test(paired, "plain", "residual"),
            lambda path, record: write_record(path, record, replicates.PAIRED_TEST_FIELDS),
            replicates.read_paired_test,
        ),
        "denoise_best": (
            denoise.summarise(results, {"psnr": 15.0, "ssim": 0.2}),
            denoise_files.write_best,
            denoise_files.read_best,
        ),
        "autograd_summary": (
            autograd.gradient_study(6, 10, 0, "float64", "cpu").summary("cpu"),
            autograd_files.write_summary,
            autograd_files.read_summary,
        ),
    }


@pytest.mark.parametrize("name", list(producers()))
def test_what_a_stage_produces_holds_its_records_fields_and_reads_back_equal(tmp_path, name):
    record, write, read = producers()[name]
    write(tmp_path / f"{name}.json", record)
    assert read(tmp_path / f"{name}.json") == json.loads(json.dumps(record))
