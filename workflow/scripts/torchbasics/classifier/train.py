"""Training one CNN variant: Adam on cross-entropy, a checkpoint and a history row per epoch, resumable.

Repeatability: the config's seed initialises the weights, and each epoch draws its batch order and its
augmentation from generators seeded by (seed, epoch) alone. An epoch's randomness therefore does not depend on
what ran before it in the same process, so a run resumed after epoch k continues exactly as an uninterrupted
one would: only the weights and the optimizer's state have to be restored, and both are in the checkpoint.

Resuming: Snakemake deletes a job's declared outputs before it runs again, so the progress of a run lives in a
resume folder that no rule declares. Every epoch's checkpoint is written there first and then copied to its
declared path; ``state.json`` there records the completed epochs' history, each checkpoint's sha256 and the
digest of everything that determines an epoch's numbers, so a changed config or new data never resumes a stale
run, and a damaged checkpoint is trained again rather than reused. A run resumes only on the kind of device,
precision and thread count its kept epochs were trained with, since those change the rounding.

The total number of epochs is not part of that digest, since epoch k comes out the same whatever the total: the
folder is kept after a run finishes, so that a run with more epochs continues from the last one completed, and
a run with fewer publishes the epochs it shares and trains nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from torchbasics.classifier.augment import Augmentation, TorchvisionAugmentation
from torchbasics.classifier.batched_augment import BatchedAugmentation
from torchbasics.classifier.batches import CifarImages, DeviceImages
from torchbasics.classifier.history import val_per_class_rows, write_history, write_val_per_class
from torchbasics.classifier.models import (
    build_model,
    load_checkpoint,
    predict_logits,
    save_checkpoint,
    to_fast_layout,
    weights_mismatch,
)
from torchbasics.core.errors import InputError
from torchbasics.core.fetch import file_digest
from torchbasics.core.io import atomic_path, read_json, write_json
from torchbasics.core.precision import autocast
from torchbasics.core.runtime import seed_everything
from torchbasics.data.cifar10 import Split, load_splits

log = logging.getLogger(__name__)

# Distinct streams per epoch, so that changing one (say, the augmentation) never moves the other.
SHUFFLE_STREAM, AUGMENT_STREAM = 0, 1


@dataclass(frozen=True)
class DataPath:
    """How an implementation takes images to the network. Each is one whole path, never mixed: the fast one
    keeps the split on the device and everything in the channels_last layout; the reference is the assignment's
    per-image transforms from a DataLoader, in torch's default layout."""

    augmentation: Callable[[], Augmentation]
    images_on_device: bool  # the training split as one tensor on the device (data.DeviceImages)
    channels_last: bool  # the model and its input batches (models.to_fast_layout)


DATA_PATHS = {
    "fast": DataPath(BatchedAugmentation, images_on_device=True, channels_last=True),
    "reference": DataPath(TorchvisionAugmentation, images_on_device=False, channels_last=False),
}


@dataclass(frozen=True)
class TrainSettings:
    variant: str
    seed: int
    epochs: int
    batch_size: int
    lr: float
    implementation: str  # a key of DATA_PATHS
    precision: str = "float32"  # float32 or bfloat16 (see ``torchbasics.core.precision``), never "auto"

    @classmethod
    def from_config(cls, variant: str, train_config: dict, seed: int, precision: str) -> TrainSettings:
        """``precision``: the one resolved for this job's device, since ``train.precision`` may say "auto"."""
        return cls(
            variant=variant,
            seed=int(seed),
            epochs=int(train_config["epochs"]),
            batch_size=int(train_config["batch_size"]),
            lr=float(train_config["lr"]),
            implementation=str(train_config["implementation"]),
            precision=precision,
        )


def config_digest(settings: TrainSettings, split_config: dict, data_digest: str) -> str:
    """A short digest of everything that determines an epoch's numbers: not the device, not the paths, and not the
    number of epochs (an epoch's randomness depends only on the seed and its own index)."""
    shaping_settings = {key: value for key, value in asdict(settings).items() if key != "epochs"}
    identity = {
        "settings": shaping_settings,
        "split": {k: list(v) for k, v in sorted(split_config.items())},
        "data_sha256": data_digest,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def epoch_generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    """A CPU generator for one epoch's shuffling or augmentation, a function of (seed, epoch, stream) only.

    SeedSequence mixes the three numbers, so neighbouring seeds or epochs do not give related streams.
    """
    state = np.random.SeedSequence([seed, epoch, stream]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & (2**63 - 1))


# ------------------------------------------------------------------------------------------ one epoch


class Progress:
    """Log lines a person can follow: epoch, batch, running loss, images per second, time left."""

    def __init__(self, epochs: int, n_images: int, n_batches: int, lines_per_epoch: int = 10) -> None:
        self.epochs = epochs
        self.n_images = n_images
        self.n_batches = n_batches
        self.every = max(1, n_batches // lines_per_epoch)
        self.epoch = 0
        self.started = 0.0

    def start_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.started = time.perf_counter()

    def batch_done(self, batch: int, total_loss: torch.Tensor, seen: int) -> None:
        """``total_loss``: the epoch's summed loss so far, read (a device sync) only when a line is due."""
        if batch % self.every and batch != self.n_batches:
            return
        mean_loss = total_loss.item() / seen
        elapsed = time.perf_counter() - self.started
        rate = seen / elapsed if elapsed > 0 else float("inf")
        epoch_left = (self.n_images - seen) / rate
        run_left = epoch_left + (self.epochs - self.epoch) * self.n_images / rate
        log.info(
            "epoch %d/%d batch %d/%d loss %.4f %.0f img/s, left: epoch %s, run %s (training passes)",
            self.epoch,
            self.epochs,
            batch,
            self.n_batches,
            mean_loss,
            rate,
            _clock(epoch_left),
            _clock(run_left),
        )


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def train_one_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    images: CifarImages | DeviceImages,
    augmentation: Augmentation,
    settings: TrainSettings,
    epoch: int,
    device: str,
    progress: Progress,
) -> tuple[float, float]:
    """One pass over the training images; returns (mean training loss, images per second)."""
    model.train()
    channels_last = DATA_PATHS[settings.implementation].channels_last
    batches = images.batches(settings.batch_size, epoch_generator(settings.seed, epoch, SHUFFLE_STREAM))
    augment = augmentation.for_epoch(
        epoch_generator(settings.seed, epoch, AUGMENT_STREAM), batch_sizes(len(images), settings.batch_size), device
    )
    # Summed on the device, in float64 (the same sums as Python floats would give): reading a GPU value every
    # batch would make the host wait for each step before it could queue the next.
    total_loss, seen = torch.zeros((), dtype=torch.float64, device=device), 0
    started = time.perf_counter()
    for batch, (uint8_images, labels) in enumerate(batches, start=1):
        inputs = augment(uint8_images).to(device)
        if channels_last:
            inputs = to_fast_layout(inputs)
        labels = labels.to(device)
        optimizer.zero_grad(set_to_none=True)
        with autocast(settings.precision, device):
            logits = model(inputs)
        loss = F.cross_entropy(logits.float(), labels)  # a float32 loss whatever the forward pass ran in
        loss.backward()
        optimizer.step()
        total_loss += loss.detach().double() * len(labels)
        seen += len(labels)
        progress.batch_done(batch, total_loss, seen)
    mean_loss = total_loss.item() / seen  # waits for the last step, so the rate below counts it
    return mean_loss, seen / (time.perf_counter() - started)


def batch_sizes(n_images: int, batch_size: int) -> list[int]:
    """The sizes of an epoch's batches: full ones, then the rest (the DataLoader keeps a last, smaller batch)."""
    return [min(batch_size, n_images - start) for start in range(0, n_images, batch_size)]


def validate(
    model: torch.nn.Module,
    split: Split,
    batch_size: int,
    device: str,
    implementation: str = "fast",
    images: np.ndarray | torch.Tensor | None = None,
) -> tuple[float, float, list[int]]:
    """(mean cross-entropy, accuracy, correct images of each class) on un-augmented images, in float32 whatever
    training runs in: the validation loss chooses the epoch, so it is measured at full precision. ``images``: the
    split's images as ``validation_images`` prepared them once for every epoch (by default, ``split.X``)."""
    images = split.X if images is None else images
    logits = predict_logits(model, images, batch_size, device, implementation)
    labels = torch.from_numpy(split.y)
    loss = F.cross_entropy(logits, labels).item()
    correct = logits.argmax(dim=1) == labels
    correct_by_class = torch.bincount(labels[correct], minlength=len(split.label_names)).tolist()
    return loss, correct.double().mean().item(), correct_by_class


def validation_images(split: Split, implementation: str, device: str) -> np.ndarray | torch.Tensor:
    """The validation images as every epoch's pass takes them: on the fast path, on the device, uploaded once."""
    return torch.from_numpy(split.X).to(device) if DATA_PATHS[implementation].images_on_device else split.X


def training_images(split: Split, path: DataPath, device: str) -> CifarImages | DeviceImages:
    """The source of training batches ``path`` takes: the split on the device, or a DataLoader on the CPU."""
    if path.images_on_device:
        return DeviceImages(split.X, split.y, device)
    return CifarImages(split.X, split.y)


# ------------------------------------------------------------------------------------------- resuming


class ResumeFolder:
    """A run's progress, kept outside the job's declared outputs (see the module's docstring).

    ``state.json`` holds the completed epochs' history rows and the sha256 of each epoch's checkpoint, as
    written: a checkpoint is reused or published only if it still has that digest, since a truncated file, or
    one with a few bytes overwritten, may still load without error.
    """

    STATE_FILE = "state.json"

    def __init__(self, folder: str | Path, digest: str) -> None:
        self.folder = Path(folder)
        self.digest = digest
        self.checkpoint_sha256: list[str] = []  # epoch 1 first, one per committed epoch

    def checkpoint(self, epoch: int) -> Path:
        return self.folder / f"epoch_{epoch:02d}.pt"

    def completed_history(self, epochs: int) -> list[dict]:
        """The history of the first (at most) ``epochs`` epochs a previous attempt completed, or [] when there
        is nothing to resume.

        Progress of another config, or unreadable progress, is discarded: the folder is a cache, and starting
        over is always correct. A missing or damaged checkpoint is discarded with the epochs after it (each
        continues from the one before), so training resumes from the last intact epoch before it.
        """
        state_path = self.folder / self.STATE_FILE
        if not state_path.exists():
            return []
        try:
            state = read_json(state_path)
            history, sha256 = state["history"], state.get("checkpoint_sha256")
            stale = state["config_digest"] != self.digest
            if sha256 is None:  # an older version's, whose checkpoints cannot be checked
                raise ValueError("it records no checkpoint digests")
            if any("val_correct_by_class" not in row for row in history):  # an older version's too
                raise ValueError("it records no validation counts per class")
            if len(sha256) != len(history):
                raise ValueError(f"{len(sha256)} checkpoint digests for {len(history)} epochs")
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("ignoring unreadable resume state %s (%s); starting over", state_path, error)
            return self._discard()
        if stale:
            log.info("resume state in %s belongs to another config or data; starting over", self.folder)
            return self._discard()
        self.checkpoint_sha256 = sha256
        history = history[:epochs]
        for epoch in range(1, len(history) + 1):
            problem = self.checkpoint_problem(epoch)
            if problem:
                log.warning(
                    "the checkpoint of epoch %d in %s is %s: discarding it and the epochs after it, and "
                    "training again from epoch %d",
                    epoch,
                    self.folder,
                    problem,
                    epoch,
                )
                return self.keep_first(history, epoch - 1)
        return history

    def checkpoint_problem(self, epoch: int) -> str | None:
        """Why epoch ``epoch``'s checkpoint cannot be reused (missing, or not the bytes that were written)."""
        path = self.checkpoint(epoch)
        if not path.exists():
            return "missing"
        if file_digest(path, "sha256") != self.checkpoint_sha256[epoch - 1]:
            return "damaged (its sha256 is not the one recorded when it was written)"
        return None

    def keep_first(self, history: list[dict], epochs: int) -> list[dict]:
        """Keep the progress of the first ``epochs`` epochs only, on disk too, so that a kill before the next
        commit never finds the discarded checkpoints recorded as good."""
        kept = history[:epochs]
        self.commit(kept, self.checkpoint_sha256[:epochs])
        recorded = {self.checkpoint(epoch) for epoch in range(1, epochs + 1)}
        for stale in set(self.folder.glob("epoch_*.pt")) - recorded:
            stale.unlink()
        return kept

    def commit(self, history: list[dict], checkpoint_sha256: list[str]) -> None:
        """Record the completed epochs; called after the last one's checkpoint is safely written."""
        self.checkpoint_sha256 = list(checkpoint_sha256)
        write_json(
            self.folder / self.STATE_FILE,
            {"config_digest": self.digest, "history": history, "checkpoint_sha256": self.checkpoint_sha256},
        )

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.checkpoint_sha256 = []

    def _discard(self) -> list[dict]:
        self.remove()
        return []


def publish(resume: ResumeFolder, epoch: int, target: str | Path) -> None:
    """Put a copy of epoch ``epoch``'s checkpoint at ``target`` atomically, checked against its recorded sha256.

    A copy, not a hard link: with one inode for both, any change to either file (a truncate, a tool rewriting it
    in place) is a change to both, so damage in the cache would reach results/ unseen (a few overwritten bytes
    still load), and a damaged result could not be restored from the cache, only retrained. Separate files
    cost one more checkpoint per epoch on disk, and let each be checked and replaced on its own.
    """
    source = resume.checkpoint(epoch)
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
        if file_digest(tmp, "sha256") != resume.checkpoint_sha256[epoch - 1]:
            raise InputError(f"{source} changed while it was being published to {target}; run again")


def restore(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, resume: ResumeFolder, settings: TrainSettings, epoch: int
) -> bool:
    """Load epoch ``epoch``'s weights and optimizer state from the resume folder; False if they are unusable."""
    path = resume.checkpoint(epoch)
    try:
        state = load_checkpoint(path, settings.variant)
    except InputError as error:
        log.warning("cannot resume from %s (%s); starting over", path, error)
        return False
    if state["epoch"] != epoch or state["config_digest"] != resume.digest:
        log.warning(
            "cannot resume from %s: it holds epoch %s of config %s; starting over",
            path,
            state["epoch"],
            state["config_digest"],
        )
        return False
    problem = weights_mismatch(model, state["model"])  # a checkpoint of a network with other layers
    if problem:
        log.warning("cannot resume from %s: its weights do not fit this network (%s); starting over", path, problem)
        return False
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return True


# ------------------------------------------------------------------------------------------- the run


@dataclass
class RunOutputs:
    history: Path
    checkpoints: list[Path]  # epoch 1, 2, ... in order
    val_per_class: Path  # each class's validation accuracy at every epoch


def train_variant(
    settings: TrainSettings,
    splits: dict[str, Split],
    *,
    device: str,
    digest: str,
    outputs: RunOutputs,
    resume_folder: str | Path,
    after_epoch=None,
    gpu: dict | None = None,
) -> list[dict]:
    """Train ``settings.variant`` to ``settings.epochs``, continuing from a previous attempt's progress if any.

    ``after_epoch(epoch)`` is called once an epoch is fully recorded (tests use it to simulate a kill); ``gpu``,
    the facts of the GPU it trains on (``runtime.gpu_facts``), go into every checkpoint. Returns the history rows.
    """
    if len(outputs.checkpoints) != settings.epochs:
        raise InputError(f"{len(outputs.checkpoints)} checkpoint paths for {settings.epochs} epochs")
    seed_everything(settings.seed)
    path = DATA_PATHS[settings.implementation]
    augmentation = path.augmentation()
    model = build_model(settings.variant).to(device)
    if path.channels_last:
        model = to_fast_layout(model)
    optimizer = make_optimizer(model, settings.lr, device)
    resume = ResumeFolder(resume_folder, digest)
    history = resume_history(model, optimizer, resume, settings, device)
    remove_undeclared_checkpoints(outputs)
    if history:
        republish(history, resume, outputs, splits["val"])
        if len(history) == settings.epochs:
            log.info(
                "all %d epochs of %s were completed by an earlier run (kept in %s); nothing to train",
                settings.epochs,
                settings.variant,
                resume.folder,
            )
        else:
            log.info("resuming %s after epoch %d of %d", settings.variant, len(history), settings.epochs)

    dataset = training_images(splits["train"], path, device)
    val_images = validation_images(splits["val"], settings.implementation, device)
    progress = Progress(settings.epochs, len(dataset), -(-len(dataset) // settings.batch_size))
    for epoch in range(len(history) + 1, settings.epochs + 1):
        progress.start_epoch(epoch)
        started = time.perf_counter()
        train_loss, images_per_s = train_one_epoch(
            model, optimizer, dataset, augmentation, settings, epoch, device, progress
        )
        val_loss, val_accuracy, val_correct_by_class = validate(
            model, splits["val"], settings.batch_size, device, settings.implementation, val_images
        )
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "seconds": round(time.perf_counter() - started, 3),
                "images_per_s": round(images_per_s, 1),
                "device": device,
                "precision": settings.precision,
                "threads": torch.get_num_threads(),
                "val_correct_by_class": val_correct_by_class,
            }
        )
        record_epoch(model, optimizer, resume, settings, history, device, outputs, splits["val"], gpu)
        log.info(
            "epoch %d/%d done: train loss %.4f, val loss %.4f, val accuracy %.4f, %.0f s",
            epoch,
            settings.epochs,
            train_loss,
            val_loss,
            val_accuracy,
            history[-1]["seconds"],
        )
        if after_epoch is not None:
            after_epoch(epoch)
    return history


def make_optimizer(model: torch.nn.Module, lr: float, device: str) -> torch.optim.Adam:
    """Adam; on CUDA its fused kernel (one launch per step for every parameter, the same update rule), on the CPU
    torch's default, which the CPU's recorded numbers were made with."""
    fused = {"fused": True} if torch.device(device).type == "cuda" else {}
    return torch.optim.Adam(model.parameters(), lr=lr, **fused)


def resume_history(model, optimizer, resume: ResumeFolder, settings: TrainSettings, device: str) -> list[dict]:
    """The history of the completed epochs this run shares (at most ``settings.epochs``), or [].

    When epochs remain to be trained, the model and optimizer are restored to the last shared epoch, provided
    the shared epochs were trained as this run trains (see ``how_training_changed``); when a longer run already
    completed them all, nothing is trained, so nothing is mixed, and the records say how they were made.
    """
    history = resume.completed_history(settings.epochs)
    if len(history) == settings.epochs:
        return history
    changed = how_training_changed(history, device, settings.precision)
    if changed:
        log.info(
            "the epochs kept in %s were trained with %s: training %s from epoch 1, so that every epoch runs "
            "alike and the run stays bit-reproducible",
            resume.folder,
            changed,
            settings.variant,
        )
        resume.remove()
        return []
    if history and not restore(model, optimizer, resume, settings, len(history)):
        resume.remove()
        return []
    return history


def how_training_changed(history: list[dict], device: str, precision: str) -> str:
    """What differs between how ``history``'s epochs were trained and how this run trains ("" when nothing).

    The thread count and the precision change the rounding of sums; so does the kind of device, but not its
    index (a slot on this host, not the hardware, and a retried job takes whichever slot is free).
    """
    now = {"device": torch.device(device).type, "precision": precision, "threads": torch.get_num_threads()}
    changes = []
    for key, current in now.items():
        before = sorted({str(torch.device(row[key]).type if key == "device" else row[key]) for row in history})
        if before and before != [str(current)]:
            changes.append(f"{key} {', '.join(before)} (this run: {current})")
    return " and ".join(changes)


def remove_undeclared_checkpoints(outputs: RunOutputs) -> None:
    """Delete checkpoints beside the declared ones that this run does not declare (an earlier, longer run's): a
    results folder holds only what the current config says it holds."""
    declared = {Path(path) for path in outputs.checkpoints}
    for folder in {path.parent for path in declared}:
        for stale in sorted(set(folder.glob("epoch_*.pt")) - declared):
            log.info("removing %s: the config declares %d epochs", stale, len(declared))
            stale.unlink()


def republish(history: list[dict], resume: ResumeFolder, outputs: RunOutputs, val: Split) -> None:
    """Put the completed epochs' checkpoints and history back where Snakemake deleted them after the kill."""
    for epoch in range(1, len(history) + 1):
        publish(resume, epoch, outputs.checkpoints[epoch - 1])
    write_histories(history, outputs, val)


def write_histories(history: list[dict], outputs: RunOutputs, val: Split) -> None:
    """The history and each class's validation accuracy, epoch by epoch, as far as ``history`` goes."""
    write_history(outputs.history, history)
    class_sizes = np.bincount(val.y, minlength=len(val.label_names)).tolist()
    write_val_per_class(outputs.val_per_class, val_per_class_rows(history, val.label_names, class_sizes))


def record_epoch(
    model,
    optimizer,
    resume: ResumeFolder,
    settings: TrainSettings,
    history: list[dict],
    device: str,
    outputs: RunOutputs,
    val: Split,
    gpu: dict | None = None,
) -> None:
    """Checkpoint into the resume folder, commit the progress, then publish the declared outputs.

    The commit comes after the checkpoint is complete, so a kill at any moment leaves a consistent state.
    """
    epoch = len(history)
    sha256 = save_checkpoint(
        resume.checkpoint(epoch),
        variant=settings.variant,
        model=model,
        optimizer=optimizer,
        epoch=epoch,
        seed=settings.seed,
        config_digest=resume.digest,
        device=device,
        precision=settings.precision,
        gpu=gpu,
    )
    resume.commit(history, [*resume.checkpoint_sha256[: epoch - 1], sha256])
    publish(resume, epoch, outputs.checkpoints[epoch - 1])
    write_histories(history, outputs, val)


def run_training(
    npz_path: str | Path,
    split_config: dict,
    settings: TrainSettings,
    *,
    device: str,
    outputs: RunOutputs,
    resume_folder: str | Path,
    gpu: dict | None = None,
) -> list[dict]:
    """What rule train does: read the splits, fingerprint the run, train (or resume) and record."""
    splits = load_splits(npz_path, split_config, names=("train", "val"))
    digest = config_digest(settings, split_config, file_digest(npz_path, "sha256"))
    log.info(
        "training %s on %s in %s (%d torch threads): %d training and %d validation images, config digest %s",
        settings.variant,
        device,
        settings.precision,
        torch.get_num_threads(),
        len(splits["train"].y),
        len(splits["val"].y),
        digest,
    )
    return train_variant(
        settings, splits, device=device, digest=digest, outputs=outputs, resume_folder=resume_folder, gpu=gpu
    )
