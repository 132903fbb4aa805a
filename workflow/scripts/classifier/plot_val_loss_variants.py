"""Entry script of rule plot_val_loss_variants: every (variant, seed)'s validation loss on one axis, chosen epochs
marked."""

from torchbasics.classifier.history import read_best, read_history
from torchbasics.classifier.plots import validation_loss_curves
from torchbasics.core import paths
from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script


def main(snakemake):
    runs = snakemake.params.runs
    histories = {run: read_history(path) for run, path in paths.per_run(paths.TRAIN_HISTORY, runs).items()}
    bests = {run: read_best(path) for run, path in paths.per_run(paths.TRAIN_BEST, runs).items()}
    figure = validation_loss_curves(histories, bests, "Validation loss per epoch of every variant and seed")
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
