"""Entry script of rule plot_val_loss_variants: every variant's validation loss on one axis, chosen epochs marked."""

from torchbasics.figures import save_figure
from torchbasics.history import read_history
from torchbasics.io import read_json
from torchbasics.plots_part2 import validation_loss_curves
from torchbasics.runtime import run_script


def main(snakemake):
    variants = snakemake.params.variants  # the order of the histories and best.json files
    histories = {variant: read_history(path) for variant, path in zip(variants, snakemake.input.histories)}
    bests = {variant: read_json(path) for variant, path in zip(variants, snakemake.input.best)}
    figure = validation_loss_curves(histories, bests, "Validation loss per epoch of every variant")
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
