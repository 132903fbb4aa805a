"""Every file the pipeline prepares or writes, named once.

The rules declare their inputs and outputs with these patterns as they are (Snakemake fills in the {wildcards});
the page, the scripts that read every run and the tests fill them in with ``fill``. A figure is a pair of files
with one stem: PNG for the page, SVG for print. Torch-free: the workflow reads it while it parses.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# One training run: a variant trained with one seed.
RUN = "{variant}/seed{seed}"
# A compared variant against the baseline, which the folder names: a comparison with another baseline is another
# file, never a stale one.
COMPARISON = "{variant}_vs_{baseline}"


class Figure(NamedTuple):
    stem: str

    @property
    def png(self) -> str:
        return f"{self.stem}.png"

    @property
    def svg(self) -> str:
        return f"{self.stem}.svg"


# ------------------------------------------------------------------------------------------------- data
DOWNLOAD = "resources/download/{name}"
VERIFIED = "resources/verified/{name}.json"
CIFAR10 = "resources/cifar10.npz"
CIFAR10_MANIFEST = "resources/cifar10.manifest.json"
CIFAR10_SPLITS = "resources/cifar10.splits.json"
PARROT = "resources/parrot/{which}.png"  # noisy, or the clean original

# --------------------------------------------------------------------------------------------- autograd
AUTOGRAD_GRADIENTS = "results/autograd/gradients.csv"
AUTOGRAD_SUMMARY = "results/autograd/summary.json"
AUTOGRAD_CONVERGENCE = "results/autograd/convergence.csv"
AUTOGRAD_GRADIENT_FIGURE = Figure("results/autograd/gradient")
AUTOGRAD_CONVERGENCE_FIGURE = Figure("results/autograd/convergence")

# ---------------------------------------------------------------------------------------------- denoise
DENOISE_IMAGE = "results/denoise/{norm}/{image}"  # {image}: a grid setting's image name (grid.Setting)
DENOISE_RESULTS = "results/denoise/{norm}/results.csv"
DENOISE_LOSSES = "results/denoise/{norm}/losses.csv"
DENOISE_TABLE = "results/denoise/results.csv"  # every norm's results in one table
DENOISE_BEST = "results/denoise/best.json"
DENOISE_REGIONS = "results/denoise/regions.csv"
DENOISE_CONTACT_SHEET = Figure("results/denoise/figures/contact_sheet_{norm}")
DENOISE_COMPARISON_FIGURE = Figure("results/denoise/figures/comparison")
DENOISE_LOSS_CURVES_FIGURE = Figure("results/denoise/figures/loss_curves")
DENOISE_PSNR_HEATMAP = Figure("results/denoise/figures/psnr_heatmap")

# -------------------------------------------------------------------------------------------- classifier
TRAIN_HISTORY = f"results/train/{RUN}/history.csv"
TRAIN_CHECKPOINT = f"results/train/{RUN}/epoch_{{epoch}}.pt"  # {epoch}: two digits, from 01
# Training's progress, kept outside its outputs: Snakemake deletes a failed job's outputs, and this must survive.
TRAIN_RESUME = f"results/train/.resume/{RUN}"
TRAIN_VAL_PER_CLASS = f"results/train/{RUN}/val_per_class.csv"  # each class's validation accuracy, every epoch
TRAIN_BEST = f"results/train/{RUN}/best.json"
TRAIN_LOSS_FIGURE = Figure(f"results/train/{RUN}/loss")
VAL_LOSS_FIGURE = Figure("results/train/val_loss")  # every run's validation loss on one axis

EVAL_METRICS = f"results/eval/{RUN}/metrics.json"
EVAL_PER_CLASS = f"results/eval/{RUN}/per_class.csv"
EVAL_CONFUSION = f"results/eval/{RUN}/confusion.csv"
EVAL_PREDICTIONS = f"results/eval/{RUN}/predictions.csv"
EVAL_CONFUSED_IMAGES = f"results/eval/{RUN}/confused_images.npz"
EVAL_CONFUSION_FIGURE = Figure(f"results/eval/{RUN}/confusion")
EVAL_CONFUSED_FIGURE = Figure(f"results/eval/{RUN}/confused_images")

COMPARE_TABLE = f"results/compare/{COMPARISON}/seed{{seed}}/variants.csv"
COMPARE_MCNEMAR = f"results/compare/{COMPARISON}/seed{{seed}}/mcnemar.json"
COMPARE_FIGURE = Figure(f"results/compare/{COMPARISON}/seed{{seed}}/per_class_accuracy")

REPLICATES_PER_SEED = "results/replicates/per_seed.csv"
REPLICATES_VARIANTS = "results/replicates/variants.csv"
REPLICATES_PER_CLASS = "results/replicates/per_class.csv"
REPLICATES_PAIRED = f"results/replicates/{COMPARISON}/paired.csv"
REPLICATES_PAIRED_TEST = f"results/replicates/{COMPARISON}/paired_test.json"
REPLICATES_ACCURACY_FIGURE = Figure("results/replicates/test_accuracy")
REPLICATES_PER_CLASS_FIGURE = Figure("results/replicates/per_class_accuracy")

# ------------------------------------------------------------------------------------------------ report
RUN_INFO = "results/report/run_info.json"
SUMMARY_HTML = "results/report/summary.html"
SUMMARY_MARKDOWN = "results/report/summary.md"

WILDCARD = re.compile(r"\{(\w+)\}")


def fill(pattern: str, **values) -> str:
    """``pattern`` with the wildcards named in ``values`` filled in; any other wildcard stays open, for a rule."""
    return WILDCARD.sub(lambda match: str(values.get(match.group(1), match.group(0))), pattern)


def epoch_checkpoint(epoch: int, **values) -> str:
    """The checkpoint of ``epoch`` (from 1), its run's wildcards filled in from ``values`` where given."""
    return fill(TRAIN_CHECKPOINT, epoch=f"{epoch:02d}", **values)


def per_run(pattern: str, runs) -> dict[tuple[str, int], str]:
    """``pattern`` filled in for each (variant, seed) of ``runs``: how a job that reads every run finds its files."""
    return {(variant, int(seed)): fill(pattern, variant=variant, seed=seed) for variant, seed in runs}
