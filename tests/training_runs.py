"""Short training runs on a tiny split, shared by the training tests of both tiers (the reference run is the
`reference` fixture in conftest.py)."""

import csv
import logging
import subprocess
import sys
import textwrap

import torch
from conftest import REPO

from torchbasics.classifier.train import RunOutputs, TrainSettings, config_digest, run_training
from torchbasics.core.fetch import file_digest

SPLIT = {"train": [0, 192], "val": [192, 256], "test": [256, 320]}
SETTINGS = TrainSettings(variant="plain", seed=11, epochs=3, batch_size=32, lr=1e-3, implementation="reference")
TIMING_COLUMNS = ("seconds", "images_per_s")  # wall-clock measurements: the only columns allowed to differ


def outputs_in(folder, epochs=SETTINGS.epochs):
    return RunOutputs(
        history=folder / "history.csv",
        checkpoints=[folder / f"epoch_{epoch:02d}.pt" for epoch in range(1, epochs + 1)],
        val_per_class=folder / "val_per_class.csv",
    )


def train(npz, folder, settings=SETTINGS):
    return run_training(
        npz,
        SPLIT,
        settings,
        device="cpu",
        outputs=outputs_in(folder, settings.epochs),
        resume_folder=folder / ".resume",
    )


def learning_columns(history_path):
    """history.csv as written, without the timing columns."""
    with open(history_path, newline="") as stream:
        return [
            {key: value for key, value in row.items() if key not in TIMING_COLUMNS} for row in csv.DictReader(stream)
        ]


def weights(checkpoint):
    return torch.load(checkpoint, weights_only=True)["model"]


def assert_same_weights(first, second):
    a, b = weights(first), weights(second)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[name], b[name]) for name in a), f"{first} and {second} differ"


KILLED_RUN = textwrap.dedent("""
    import ast, os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import torch
    from torchbasics.data.cifar10 import load_splits
    from torchbasics.classifier.train import RunOutputs, TrainSettings, train_variant

    torch.set_num_threads(1)
    npz, folder, digest, kill_after = sys.argv[2], Path(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    settings = TrainSettings(**ast.literal_eval(sys.argv[6]))
    outputs = RunOutputs(folder / "history.csv",
                         [folder / f"epoch_{epoch:02d}.pt" for epoch in range(1, settings.epochs + 1)],
                         folder / "val_per_class.csv")

    def kill(epoch):
        if epoch == kill_after:
            os._exit(137)  # like SIGKILL from a time limit: no clean-up, no finally blocks

    splits = load_splits(npz, ast.literal_eval(sys.argv[7]), ("train", "val"))
    train_variant(settings, splits, device="cpu", digest=digest,
                  outputs=outputs, resume_folder=folder / ".resume", after_epoch=kill)
""")


def digest_of(npz, settings=SETTINGS):
    return config_digest(settings, SPLIT, file_digest(npz, "sha256"))


def killed_run(npz, folder, kill_after):
    command = [
        sys.executable,
        "-c",
        KILLED_RUN,
        str(REPO / "workflow" / "scripts"),
        str(npz),
        str(folder),
        digest_of(npz),
        str(kill_after),
        repr(SETTINGS.__dict__),
        repr(SPLIT),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def rerun_as_snakemake_would(npz, folder, epochs, caplog):
    """Train ``epochs`` in ``folder`` after deleting its declared outputs, as Snakemake does before a rerun."""
    for output in (folder / "history.csv", *folder.glob("epoch_*.pt")):
        output.unlink()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="torchbasics"):
        train(npz, folder, TrainSettings(**{**SETTINGS.__dict__, "epochs": epochs}))
