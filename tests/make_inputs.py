"""Small, made-up inputs for the tests and the smoke run (tests never read ../shared).

Run as a script to write the smoke run's inputs: ``python tests/make_inputs.py DIR`` writes
``DIR/smoke-data/{cifar10.npz, parrot_noisy.png, parrot.png}``, the paths tests/smoke.yaml names.
"""

from __future__ import annotations

import io
import pickle
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

# Two GPUs of one machine, as nvidia-smi --query-gpu=uuid names them.
GPU_A, GPU_B = "GPU-5f2a6c1e-0d1b-4f4c-9c1e-2b7d3f0e8a11", "GPU-9b1d0c2e-77aa-4e21-8f3b-0c6d5e4f3a22"

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def synthetic_cifar(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 32x32 RGB uint8 images whose class is learnable: a class colour and a class stripe, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    palette = rng.integers(40, 216, size=(10, 3))
    X = rng.normal(0, 30, size=(n, 32, 32, 3)) + palette[y][:, None, None, :]
    for label in range(10):
        X[y == label, 3 * label : 3 * label + 3, :, :] += 60  # a horizontal stripe whose row tells the class
    return np.clip(X, 0, 255).astype(np.uint8), y.astype(np.int64)


def write_npz(path: Path, X: np.ndarray, y: np.ndarray, label_names=CLASS_NAMES) -> Path:
    np.savez(path, X=X, y=y, label_names=np.asarray(label_names))
    return path


def write_official_archive(path: Path, X: np.ndarray, y: np.ndarray, batch_size: int) -> Path:
    """The official python archive's layout: data_batch_1..5 and test_batch of (n, 3072) rows, batches.meta."""
    names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]
    with tarfile.open(path, "w:gz") as tar:
        for index, name in enumerate(names):
            rows = slice(index * batch_size, (index + 1) * batch_size)
            data = X[rows].transpose(0, 3, 1, 2).reshape(-1, 3072)
            batch = {
                b"batch_label": name.encode(),
                b"labels": y[rows].tolist(),
                b"data": data,
                b"filenames": [f"{i}.png".encode() for i in range(len(data))],
            }
            _add_bytes(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch))
        meta = {b"label_names": [name.encode() for name in CLASS_NAMES], b"num_cases_per_batch": batch_size}
        _add_bytes(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta))
    return path


def write_imagefolder_archive(
    path: Path,
    per_class_train: int,
    per_class_test: int,
    seed: int = 0,
    classes=CLASS_NAMES,
    top: str = "",
    kind: str = "tar",
) -> Path:
    """``train/<class>/NNNN.png`` and ``test/<class>/NNNN.png``, as tar.gz or zip, class-coloured images."""
    rng = np.random.default_rng(seed)
    members = []
    for split, count in (("train", per_class_train), ("test", per_class_test)):
        for label, name in enumerate(classes):
            for index in range(count):
                pixels = np.full((32, 32, 3), 20 * label, dtype=np.uint8) + rng.integers(
                    0, 10, (32, 32, 3), dtype=np.uint8
                )
                members.append((f"{top}{split}/{name}/{index:04d}.png", _png_bytes(pixels)))
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members:
                archive.writestr(name, content)
    else:
        with tarfile.open(path, "w:gz") as tar:
            for name, content in members:
                _add_bytes(tar, name, content)
    return path


def write_parrot_pair(folder: Path, size=(48, 40), sigma=0.2, seed=0) -> tuple[Path, Path]:
    """A smooth clean image and a noisy copy (Gaussian noise, clipped), as 8-bit RGB PNGs."""
    rng = np.random.default_rng(seed)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    clean = np.stack([xx, yy, (xx + yy) / 2], axis=2)
    clean[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3] = [0.9, 0.2, 0.1]  # a sharp-edged block
    noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 1)
    folder.mkdir(parents=True, exist_ok=True)
    clean_path, noisy_path = folder / "parrot.png", folder / "parrot_noisy.png"
    Image.fromarray((clean * 255).round().astype(np.uint8)).save(clean_path)
    Image.fromarray((noisy * 255).round().astype(np.uint8)).save(noisy_path)
    return noisy_path, clean_path


def _png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    tar.addfile(info, io.BytesIO(content))


def write_smoke_inputs(root: Path, n_images: int = 3000) -> Path:
    folder = Path(root) / "smoke-data"
    folder.mkdir(parents=True, exist_ok=True)
    X, y = synthetic_cifar(n_images)
    write_npz(folder / "cifar10.npz", X, y)
    write_parrot_pair(folder, size=(64, 48))
    return folder


if __name__ == "__main__":
    print(write_smoke_inputs(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
