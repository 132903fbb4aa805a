"""CIFAR-10 preparation: the three input formats, the split, and every kind of bad input."""

import json
import pickle
import tarfile

import numpy as np
import pytest
from make_inputs import (
    CLASS_NAMES,
    _add_bytes,
    synthetic_cifar,
    write_imagefolder_archive,
    write_npz,
    write_official_archive,
)

from torchbasics.core.errors import InputError
from torchbasics.data import cifar10

SMALL_SPLIT = {"train": [0, 40], "val": [40, 50], "test": [50, 60]}


def prepare(tmp_path, source, split=SMALL_SPLIT, seed=1):
    """What rules prepare_cifar10 and cifar10_splits do: the npz and manifest, then the split's record."""
    npz, manifest = tmp_path / "out" / "cifar10.npz", tmp_path / "out" / "cifar10.manifest.json"
    summary = cifar10.prepare(source, npz, manifest, source=str(source), seed=seed)
    return npz, manifest, {**summary, "splits": cifar10.split_summary(npz, split)}


def assert_nothing_written(tmp_path):
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []


# ------------------------------------------------------------------------------------------- formats


def test_npz_is_used_as_is(tmp_path):
    X, y = synthetic_cifar(60)
    npz, manifest, summary = prepare(tmp_path, write_npz(tmp_path / "in.npz", X, y))
    with np.load(npz) as data:
        np.testing.assert_array_equal(data["X"], X)
        np.testing.assert_array_equal(data["y"], y)
        assert data["y"].dtype == np.int64
        assert list(data["label_names"]) == CLASS_NAMES
    assert summary["source_format"] == "npz"
    assert json.loads(manifest.read_text()) == {key: value for key, value in summary.items() if key != "splits"}


def test_official_archive_concatenates_batches_in_order(tmp_path):
    X, y = synthetic_cifar(60)
    npz, _, summary = prepare(tmp_path, write_official_archive(tmp_path / "py.tar.gz", X, y, batch_size=10))
    with np.load(npz) as data:
        np.testing.assert_array_equal(data["X"], X)  # pixel layout (3072 rows) undone exactly
        np.testing.assert_array_equal(data["y"], y)
    assert summary["source_format"] == "official"


def test_official_archive_refuses_code_in_pickles(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("owned",))

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add_bytes(tar, "cifar-10-batches-py/batches.meta", pickle.dumps({b"label_names": Exploit()}))
    with pytest.raises(InputError, match="not a readable CIFAR-10 batch"):
        prepare(tmp_path, archive)


@pytest.mark.parametrize("kind,top", [("tar", ""), ("zip", "cifar10/")])
def test_imagefolder_archive_sorted_classes_shuffled_train(tmp_path, kind, top):
    archive = write_imagefolder_archive(
        tmp_path / f"imgs.{kind}", per_class_train=4, per_class_test=2, top=top, kind=kind
    )
    split = {"train": [0, 30], "val": [30, 40], "test": [40, 60]}
    npz, _, summary = prepare(tmp_path, archive, split=split)
    with np.load(npz) as data:
        X, y = data["X"], data["y"]
    assert X.shape == (60, 32, 32, 3) and X.dtype == np.uint8
    # images were coloured 20 * label, so each label's pixels must sit near its colour
    assert all(abs(int(X[i].mean()) - 20 * int(y[i]) - 4) <= 2 for i in range(60))
    assert sorted(y[:40].tolist()) == sorted(np.repeat(np.arange(10), 4).tolist())
    assert y[:40].tolist() != sorted(y[:40].tolist())  # the training pool was shuffled
    assert y[40:].tolist() == sorted(y[40:].tolist())  # test images appended in class order
    assert summary["splits"]["test"]["per_class"] == {name: 2 for name in CLASS_NAMES}


def test_imagefolder_shuffle_follows_the_seed(tmp_path):
    archive = write_imagefolder_archive(tmp_path / "imgs.tar.gz", per_class_train=4, per_class_test=2)
    split = {"train": [0, 30], "val": [30, 40], "test": [40, 60]}
    labels = []
    for seed in (1, 1, 2):
        npz, _, _ = prepare(tmp_path, archive, split=split, seed=seed)
        with np.load(npz) as data:
            labels.append(data["y"].tolist())
    assert labels[0] == labels[1] != labels[2]


# ------------------------------------------------------------------------------------------ bad input


def bad_npz(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda X, y: {"X": X, "y": y}, "missing key"),
        (lambda X, y: {"X": X.astype(np.float32), "y": y, "label_names": CLASS_NAMES}, "dtype float32"),
        (lambda X, y: {"X": X[:, :16], "y": y, "label_names": CLASS_NAMES}, "shape"),
        (lambda X, y: {"X": X, "y": y[:-1], "label_names": CLASS_NAMES}, "to match X"),
        (lambda X, y: {"X": X, "y": y + 5, "label_names": CLASS_NAMES}, "outside 0..9"),
        (lambda X, y: {"X": X, "y": y.astype(np.float64), "label_names": CLASS_NAMES}, "integer labels"),
        (lambda X, y: {"X": X, "y": y % 9, "label_names": CLASS_NAMES[:9]}, "expected 10"),
        (lambda X, y: {"X": X[:0], "y": y[:0], "label_names": CLASS_NAMES}, "no images"),
    ],
)
def test_bad_npz_is_refused_with_a_clear_message(tmp_path, change, message):
    X, y = synthetic_cifar(60)
    source = bad_npz(tmp_path, **change(X, y))
    with pytest.raises(InputError, match=message) as error:
        prepare(tmp_path, source)
    assert str(source) in str(error.value)
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("make", ["npz", "official", "imagefolder"])
def test_truncated_input_is_refused(tmp_path, make):
    X, y = synthetic_cifar(60)
    source = {
        "npz": lambda: write_npz(tmp_path / "in.npz", X, y),
        "official": lambda: write_official_archive(tmp_path / "in.tar.gz", X, y, batch_size=10),
        "imagefolder": lambda: write_imagefolder_archive(tmp_path / "in.tar.gz", 4, 2),
    }[make]()
    content = source.read_bytes()
    source.write_bytes(content[: len(content) * 2 // 3])
    with pytest.raises(InputError, match="corrupt|truncated|unreadable|not an npz|lacks") as error:
        prepare(tmp_path, source)
    assert str(source) in str(error.value)
    assert_nothing_written(tmp_path)


def test_garbage_file_is_refused(tmp_path):
    source = tmp_path / "garbage.bin"
    source.write_bytes(b"this is not an archive" * 100)
    with pytest.raises(InputError, match="not an npz, a tar archive or a zip archive"):
        prepare(tmp_path, source)


def test_empty_file_is_refused(tmp_path):
    source = tmp_path / "empty"
    source.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        prepare(tmp_path, source)


@pytest.mark.parametrize("name", ["../escape.png", "/etc/evil.png", "train/../../x.png"])
def test_hostile_member_names_are_refused(tmp_path, name):
    archive = tmp_path / "hostile.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add_bytes(tar, name, b"x")
    with pytest.raises(InputError, match="hostile archive member"):
        prepare(tmp_path, archive)
    assert not (tmp_path / "escape.png").exists()


def test_symlink_members_are_refused(tmp_path):
    archive = tmp_path / "link.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        link = tarfile.TarInfo("train/cat/0000.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(InputError, match="link"):
        prepare(tmp_path, archive)


def test_unknown_class_folder_is_refused(tmp_path):
    classes = CLASS_NAMES[:9] + ["unicorn"]
    archive = write_imagefolder_archive(tmp_path / "imgs.tar.gz", 2, 1, classes=classes)
    with pytest.raises(InputError, match="unknown class folder train/unicorn"):
        prepare(tmp_path, archive)


def test_missing_class_folder_is_refused(tmp_path):
    archive = write_imagefolder_archive(tmp_path / "imgs.tar.gz", 2, 1, classes=CLASS_NAMES[:9])
    with pytest.raises(InputError, match="lacks class folder.*truck"):
        prepare(tmp_path, archive)


def test_non_image_member_is_refused(tmp_path):
    archive = tmp_path / "imgs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add_bytes(tar, "train/cat/0000.png", b"not a png")
    with pytest.raises(InputError, match="train/cat/0000.png is not a readable image"):
        prepare(tmp_path, archive)


# --------------------------------------------------------------------------------------------- split


def test_split_past_the_data_is_refused(tmp_path):
    X, y = synthetic_cifar(60)
    npz, _, _ = prepare(tmp_path, write_npz(tmp_path / "in.npz", X, y))
    with pytest.raises(InputError, match=r"split.test = \[50, 70\] goes past the 60 images"):
        cifar10.split_summary(npz, {**SMALL_SPLIT, "test": [50, 70]})
    with pytest.raises(InputError, match=r"split.test = \[50, 70\] goes past the 60 images"):
        cifar10.load_splits(npz, {"test": [50, 70]}, names=("test",))


def test_split_missing_a_class_is_refused(tmp_path):
    X, y = synthetic_cifar(300)
    y = np.sort(y)  # unshuffled: the last range holds only the top classes
    split = {"train": [0, 100], "val": [100, 200], "test": [200, 300]}
    with pytest.raises(InputError, match=r"split.train \[0, 100\] holds no image of deer"):
        prepare(tmp_path, write_npz(tmp_path / "in.npz", X, y), split=split)
    # where the splits are read (training reads train and val only), not only where they are recorded
    with pytest.raises(InputError, match=r"split.train \[0, 100\] holds no image of deer"):
        cifar10.load_splits(
            tmp_path / "out" / "cifar10.npz", {"train": split["train"], "val": split["val"]}, names=("train", "val")
        )


def test_load_splits_returns_the_configured_ranges(tmp_path):
    X, y = synthetic_cifar(60)
    npz, _, _ = prepare(tmp_path, write_npz(tmp_path / "in.npz", X, y))
    splits = cifar10.load_splits(npz, SMALL_SPLIT)
    for name, (start, stop) in SMALL_SPLIT.items():
        np.testing.assert_array_equal(splits[name].X, X[start:stop])
        np.testing.assert_array_equal(splits[name].y, y[start:stop])
        assert splits[name].label_names == CLASS_NAMES and splits[name].start == start


def test_manifest_counts_per_split_and_class(tmp_path):
    X, y = synthetic_cifar(60)
    _, _, summary = prepare(tmp_path, write_npz(tmp_path / "in.npz", X, y))
    for name, (start, stop) in SMALL_SPLIT.items():
        counts = summary["splits"][name]["per_class"]
        assert sum(counts.values()) == stop - start
        assert counts["cat"] == int((y[start:stop] == 3).sum())


def test_the_npz_is_prepared_without_the_split(tmp_path):
    # the manifest holds nothing of the split, so that a new split re-prepares nothing
    X, y = synthetic_cifar(60)
    summary = cifar10.prepare(
        write_npz(tmp_path / "in.npz", X, y), tmp_path / "c.npz", tmp_path / "m.json", source="in.npz", seed=None
    )
    assert "splits" not in summary and summary["per_class"]["cat"] == int((y == 3).sum())


def test_the_seed_matters_only_to_an_image_folder_archive(tmp_path):
    X, y = synthetic_cifar(60)
    folder = write_imagefolder_archive(tmp_path / "imgs.tar.gz", per_class_train=1, per_class_test=1)
    assert cifar10.shuffle_seed(write_npz(tmp_path / "in.npz", X, y), 7) is None
    assert cifar10.shuffle_seed(write_official_archive(tmp_path / "py.tar.gz", X, y, batch_size=10), 7) is None
    assert cifar10.shuffle_seed(folder, 7) == 7
    assert cifar10.shuffle_seed(tmp_path / "not-downloaded-yet", 7) == 7
