"""CIFAR-10 in the course's npz format, from any of three sources, validated.

The course's format is one npz with ``X`` (N, 32, 32, 3) uint8, ``y`` int64 labels 0..9 and ``label_names``.
Three inputs are accepted, told apart by their content (never by their file name):

* the course's npz itself (validated, then used as is);
* the official CIFAR-10 python archive (``data_batch_1..5``, ``test_batch``, ``batches.meta``), whose batches
  concatenated in that order reproduce the course's npz;
* an image-folder archive (``train/<class>/*``, ``test/<class>/*``, optionally under one top folder, tar or
  zip), with the training pool shuffled by the seed so that the validation slice holds every class.

Archives are read member by member in memory: nothing is extracted, so no member can escape a target folder,
and members with absolute paths, ``..`` components or links are refused as hostile.
"""

from __future__ import annotations

import io
import logging
import pickle
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from torchbasics.core.errors import InputError
from torchbasics.core.io import atomic_path, write_json
from torchbasics.core.settings import check_split

log = logging.getLogger(__name__)

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SHAPE = (32, 32, 3)
OFFICIAL_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
SPLITS = ("train", "val", "test")
ARCHIVE_SPLITS = ("train", "test")  # the folders of an image-folder archive


@dataclass
class Dataset:
    X: np.ndarray  # (N, 32, 32, 3) uint8
    y: np.ndarray  # (N,) int64 in 0..9
    label_names: list[str]
    source_format: str


# --------------------------------------------------------------------------------------------- validation


def validate_arrays(X: np.ndarray, y: np.ndarray, label_names, origin: str) -> Dataset:
    """Check the course's contract and return a normalised ``Dataset`` (y as int64, names as str)."""
    if X.dtype != np.uint8:
        raise InputError(f"{origin}: X has dtype {X.dtype}, expected uint8 pixels 0..255")
    if X.ndim != 4 or X.shape[1:] != IMAGE_SHAPE:
        raise InputError(f"{origin}: X has shape {X.shape}, expected (N, 32, 32, 3)")
    if not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"{origin}: y has dtype {y.dtype}, expected integer labels")
    if y.ndim != 1 or len(y) != len(X):
        raise InputError(f"{origin}: y has shape {y.shape}, expected ({len(X)},) to match X")
    if len(X) == 0:
        raise InputError(f"{origin}: the data set holds no images")
    names = [str(name) for name in np.asarray(label_names).tolist()]
    if len(names) != len(CLASS_NAMES):
        raise InputError(f"{origin}: {len(names)} class names {names}, expected 10 (CIFAR-10)")
    bad = (y < 0) | (y >= len(names))
    if bad.any():
        raise InputError(f"{origin}: {int(bad.sum())} label(s) outside 0..9, e.g. {int(y[bad][0])}")
    return Dataset(X=X, y=y.astype(np.int64), label_names=names, source_format="")


def split_ranges(split_config: dict, n_images: int, origin: str, names=SPLITS) -> dict[str, tuple[int, int]]:
    """The named splits of the config's ``split`` as half-open index ranges, checked against the data set's size."""
    check_split({name: split_config[name] for name in names})
    ranges = {name: tuple(split_config[name]) for name in names}
    for name, (start, stop) in ranges.items():
        if stop > n_images:
            raise InputError(f"{origin}: split.{name} = [{start}, {stop}] goes past the {n_images} images there")
    return ranges


# ------------------------------------------------------------------------------------------- detection


def detect_format(path: Path) -> str:
    """Return ``npz``, ``official`` or ``imagefolder`` from the file's content."""
    with open(path, "rb") as stream:
        head = stream.read(4)
    if not head:
        raise InputError(f"{path}: the file is empty")
    if zipfile.is_zipfile(path):
        names = _zip_names(path)
        if names and all(name.endswith(".npy") for name in names):
            return "npz"
        return "imagefolder"
    try:
        is_tar = tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"{path}: unreadable archive ({error})") from error
    if not is_tar:
        raise InputError(f"{path}: not an npz, a tar archive or a zip archive (corrupt or unknown format)")
    with _open_tar(path) as tar:
        for member in _tar_members(tar, path):
            if PurePosixPath(member.name).name in ("batches.meta", *OFFICIAL_BATCHES):
                return "official"
            if member.isfile():
                return "imagefolder"
    raise InputError(f"{path}: the archive holds no files")


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{path}: corrupt zip/npz ({error})") from error


# ----------------------------------------------------------------------------------------- safe reading


def check_member_name(name: str, archive: Path) -> PurePosixPath:
    """Refuse member names that would land outside an extraction folder (absolute, ``..``, drive letters)."""
    member = PurePosixPath(name.replace("\\", "/"))
    if member.is_absolute() or ".." in member.parts or (member.parts and ":" in member.parts[0]):
        raise InputError(f"{archive}: hostile archive member {name!r} would escape the target folder")
    return member


def _open_tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise InputError(f"{path}: corrupt or truncated archive ({error})") from error


def _tar_members(tar: tarfile.TarFile, path: Path) -> Iterator[tarfile.TarInfo]:
    """Iterate members, turning the decompressor's errors on a truncated file into a clear ``InputError``."""
    try:
        for member in tar:
            check_member_name(member.name, path)
            if member.issym() or member.islnk() or member.isdev():
                raise InputError(f"{path}: archive member {member.name!r} is a link or device; refused")
            yield member
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise InputError(f"{path}: corrupt or truncated archive ({error})") from error


def iter_archive_files(path: Path) -> Iterator[tuple[PurePosixPath, bytes]]:
    """Yield (member path, content) for every regular file of a tar or zip archive, in archive order."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    member = check_member_name(info.filename, path)
                    if not info.is_dir():
                        yield member, archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
            raise InputError(f"{path}: corrupt or truncated archive ({error})") from error
        return
    with _open_tar(path) as tar:
        for member in _tar_members(tar, path):
            if member.isfile():
                try:
                    content = tar.extractfile(member).read()
                except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
                    raise InputError(f"{path}: corrupt or truncated archive at {member.name} ({error})") from error
                yield PurePosixPath(member.name), content


# ------------------------------------------------------------------------------------------ the readers


def read_npz(path: Path) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"X", "y", "label_names"} - set(data.files)
            if missing:
                raise InputError(f"{path}: missing key(s) {sorted(missing)}; found {sorted(data.files)}")
            X, y, names = data["X"], data["y"], data["label_names"]
    except InputError:
        raise
    except ValueError as error:
        raise InputError(f"{path}: cannot read the npz without unpickling objects ({error})") from error
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise InputError(f"{path}: corrupt or truncated npz ({error})") from error
    dataset = validate_arrays(X, y, names, str(path))
    dataset.source_format = "npz"
    return dataset


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickle CIFAR-10 batches without executing arbitrary code: only NumPy's array rebuilding is allowed."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module, name)


def _unpickle(content: bytes, member: str, path: Path) -> dict:
    try:
        batch = _ArrayOnlyUnpickler(io.BytesIO(content), encoding="bytes").load()
    except Exception as error:  # any unpickling failure means a corrupt or hostile member
        raise InputError(f"{path}: member {member} is not a readable CIFAR-10 batch ({error})") from error
    if not isinstance(batch, dict):
        raise InputError(f"{path}: member {member} is not a CIFAR-10 batch dictionary")
    return {key.decode() if isinstance(key, bytes) else key: value for key, value in batch.items()}


def read_official(path: Path) -> Dataset:
    """Concatenate ``data_batch_1..5`` and ``test_batch`` in that order (the course's npz)."""
    batches: dict[str, dict] = {}
    for member, content in iter_archive_files(path):
        if member.name in ("batches.meta", *OFFICIAL_BATCHES):
            batches[member.name] = _unpickle(content, member.name, path)
    missing = [name for name in ("batches.meta", *OFFICIAL_BATCHES) if name not in batches]
    if missing:
        raise InputError(f"{path}: official CIFAR-10 archive lacks {missing}")
    images, labels = [], []
    for name in OFFICIAL_BATCHES:
        data, batch_labels = batches[name].get("data"), batches[name].get("labels")
        if not isinstance(data, np.ndarray) or batch_labels is None:
            raise InputError(f"{path}: batch {name} lacks 'data' or 'labels'")
        if data.ndim != 2 or data.shape[1] != 3072 or len(batch_labels) != len(data):
            raise InputError(
                f"{path}: batch {name} has data of shape {data.shape} and {len(batch_labels)} "
                f"labels, expected (n, 3072) and n labels"
            )
        # rows are 1024 red, then 1024 green, then 1024 blue values of a 32x32 image
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch_labels))
    names = [
        name.decode() if isinstance(name, bytes) else str(name)
        for name in batches["batches.meta"].get("label_names", [])
    ]
    dataset = validate_arrays(np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels), names, str(path))
    dataset.source_format = "official"
    return dataset


def read_imagefolder(path: Path, seed: int) -> Dataset:
    """``train/<class>/*`` then ``test/<class>/*``: classes sorted by name, training pool shuffled by ``seed``."""
    from PIL import Image, UnidentifiedImageError

    found: dict[str, dict[str, list[tuple[str, np.ndarray]]]] = {"train": {}, "test": {}}
    for member, content in iter_archive_files(path):
        parts = member.parts
        if any(part.startswith(".") for part in parts) or "__MACOSX" in parts:
            continue  # editor and OS litter (.DS_Store, resource forks), not images
        split, class_name = _locate_image(parts, path)
        try:
            with Image.open(io.BytesIO(content)) as image:
                pixels = np.asarray(image.convert("RGB"))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise InputError(f"{path}: member {member} is not a readable image ({error})") from error
        if pixels.shape != IMAGE_SHAPE:
            raise InputError(f"{path}: image {member} is {pixels.shape[1]}x{pixels.shape[0]}, expected 32x32")
        found[split].setdefault(class_name, []).append((member.name, pixels))
    _check_class_folders(found, path)
    X_train, y_train = _stack_sorted(found["train"])
    X_test, y_test = _stack_sorted(found["test"])
    order = np.random.default_rng(seed).permutation(len(X_train))
    X = np.concatenate([X_train[order], X_test])
    y = np.concatenate([y_train[order], y_test])
    dataset = validate_arrays(X, y, list(CLASS_NAMES), str(path))
    dataset.source_format = "imagefolder"
    return dataset


def _locate_image(parts: tuple[str, ...], path: Path) -> tuple[str, str]:
    """(split, class) of an image member ``[top/]train|test/<class>/<file>``."""
    if len(parts) == 4 and parts[1] in ARCHIVE_SPLITS:
        parts = parts[1:]  # one top-level folder around train/ and test/
    if len(parts) != 3 or parts[0] not in ARCHIVE_SPLITS:
        raise InputError(f"{path}: member {'/'.join(parts)} is not in train/<class>/ or test/<class>/")
    split, class_name, _ = parts
    if class_name not in CLASS_NAMES:
        raise InputError(
            f"{path}: unknown class folder {split}/{class_name}; expected the CIFAR-10 classes {', '.join(CLASS_NAMES)}"
        )
    return split, class_name


def _check_class_folders(found: dict, path: Path) -> None:
    for split, classes in found.items():
        missing = [name for name in CLASS_NAMES if name not in classes]
        if missing:
            raise InputError(f"{path}: {split}/ lacks class folder(s) {', '.join(missing)} (or they hold no images)")


def _stack_sorted(classes: dict[str, list[tuple[str, np.ndarray]]]) -> tuple[np.ndarray, np.ndarray]:
    """Images in (class, file name) order, so the result does not depend on the archive's member order."""
    images, labels = [], []
    for label, class_name in enumerate(CLASS_NAMES):
        for _, pixels in sorted(classes[class_name], key=lambda item: item[0]):
            images.append(pixels)
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def read_any(path: str | Path, seed: int | None) -> Dataset:
    """Any accepted source as a ``Dataset``; ``seed`` shuffles an image-folder archive's training pool."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"CIFAR-10 source {path} does not exist (or is not a file)")
    source_format = detect_format(path)
    log.info("reading %s as %s", path, source_format)
    if source_format == "npz":
        return read_npz(path)
    if source_format == "official":
        return read_official(path)
    if seed is None:
        raise ValueError(f"{path} is an image-folder archive, whose shuffle needs a seed, but none was given")
    return read_imagefolder(path, seed)


def shuffle_seed(path: str | Path, seed: int) -> int | None:
    """``seed`` if preparing ``path`` uses it (an image-folder archive's shuffle), None if it cannot matter.

    Rule prepare_cifar10 takes this as a parameter, so that a new seed re-prepares only a shuffled source: the
    npz of an npz or official source would come out byte for byte the same. A file that is not there yet (a
    download to come) or cannot be read is assumed to need the seed; Snakemake asks again before the job runs.
    """
    try:
        return seed if detect_format(Path(path)) == "imagefolder" else None
    except (InputError, OSError):
        return seed


# ------------------------------------------------------------------------------------------- the output


def manifest(dataset: Dataset, source: str) -> dict:
    """What the npz holds and where it came from (the split is the config's, recorded by ``split_summary``)."""
    counts = Counter(dataset.y.tolist())
    return {
        "source": source,
        "source_format": dataset.source_format,
        "n_images": int(len(dataset.X)),
        "label_names": dataset.label_names,
        "per_class": {name: counts.get(label, 0) for label, name in enumerate(dataset.label_names)},
    }


def check_splits_hold_every_class(
    y: np.ndarray, label_names: list[str], ranges: dict[str, tuple[int, int]], origin: str
) -> None:
    """A split that lacks a class makes its accuracy meaningless (an unshuffled folder archive does that)."""
    for name, (start, stop) in ranges.items():
        present = set(np.unique(y[start:stop]).tolist())
        if len(present) < len(label_names) and stop - start >= 10 * len(label_names):
            missing = [label_names[i] for i in range(len(label_names)) if i not in present]
            raise InputError(f"{origin}: split.{name} [{start}, {stop}] holds no image of {', '.join(missing)}")


def prepare(
    source_file: str | Path, npz_out: str | Path, manifest_out: str | Path, *, source: str, seed: int | None
) -> dict:
    """Read, validate and write ``npz_out`` and its manifest; both appear together or not at all.

    The split plays no part: the npz is the whole data set, so changing the split re-prepares nothing.
    """
    dataset = read_any(source_file, seed)
    summary = manifest(dataset, source)
    with atomic_path(npz_out, suffix=".npz") as tmp:
        np.savez(tmp, X=dataset.X, y=dataset.y, label_names=np.asarray(dataset.label_names))
        write_json(manifest_out, summary)
    log.info("wrote %s: %d images (%s)", npz_out, len(dataset.X), dataset.source_format)
    return summary


def split_summary(npz_path: str | Path, split_config: dict) -> dict:
    """The config's splits of the prepared npz, checked: {split: {range, count, per_class}}."""
    y, label_names = _read_labels(Path(npz_path))
    ranges = split_ranges(split_config, len(y), str(npz_path))
    check_splits_hold_every_class(y, label_names, ranges, str(npz_path))
    splits = {}
    for name, (start, stop) in ranges.items():
        counts = Counter(y[start:stop].tolist())
        splits[name] = {
            "range": [start, stop],
            "count": stop - start,
            "per_class": {label_name: counts.get(label, 0) for label, label_name in enumerate(label_names)},
        }
    return splits


def _read_labels(path: Path) -> tuple[np.ndarray, list[str]]:
    """Only ``y`` and the class names of the prepared npz (an npz reads its arrays one by one; X is not loaded)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["y"], [str(name) for name in data["label_names"].tolist()]
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise InputError(f"{path}: not a prepared CIFAR-10 npz ({error})") from error


@dataclass
class Split:
    """One split of the prepared npz."""

    X: np.ndarray  # (n, 32, 32, 3) uint8
    y: np.ndarray  # (n,) int64
    label_names: list[str]
    start: int  # index of the split's first image in the npz, to name images by their npz index


def load_splits(npz_path: str | Path, split_config: dict, names=SPLITS) -> dict[str, Split]:
    """The named splits of the prepared npz, read once.

    Only the named splits need be in ``split_config``; each is checked (in range, every class present) here,
    where it is used, since the npz is prepared without regard to the split.
    """
    dataset = read_npz(Path(npz_path))
    ranges = split_ranges(split_config, len(dataset.X), str(npz_path), names)
    check_splits_hold_every_class(dataset.y, dataset.label_names, ranges, str(npz_path))
    return {
        name: Split(X=dataset.X[start:stop], y=dataset.y[start:stop], label_names=dataset.label_names, start=start)
        for name, (start, stop) in ((name, ranges[name]) for name in names)
    }
