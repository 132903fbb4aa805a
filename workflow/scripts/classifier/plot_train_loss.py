"""Entry script of rule plot_train_loss: training and validation loss per epoch, the chosen epoch marked."""

from torchbasics.classifier.history import read_best, read_history
from torchbasics.classifier.plots import loss_curves
from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script


def main(snakemake):
    figure = loss_curves(
        read_history(snakemake.input.history),
        read_best(snakemake.input.best),
        f"{snakemake.wildcards.variant}: loss per epoch",
    )
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
