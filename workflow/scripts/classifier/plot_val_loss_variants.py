"""Entry script of rule plot_val_loss_variants: every (variant, seed)'s validation loss on one axis, chosen epochs
marked."""

from torchbasics.classifier.history import read_history
from torchbasics.classifier.plots import validation_loss_curves
from torchbasics.core.figures import save_figure
from torchbasics.core.io import read_json
from torchbasics.core.runtime import run_script


def main(snakemake):
    runs = [(variant, int(seed)) for variant, seed in snakemake.params.runs]  # the order of the histories and bests
    histories = {run: read_history(path) for run, path in zip(runs, snakemake.input.histories)}
    bests = {run: read_json(path) for run, path in zip(runs, snakemake.input.best)}
    figure = validation_loss_curves(histories, bests, "Validation loss per epoch of every variant and seed")
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
