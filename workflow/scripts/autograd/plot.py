"""Entry script of the autograd plot rules: one figure (params.figure) from the stage's tables, as PNG and SVG."""

from torchbasics.autograd import autograd, plots
from torchbasics.core.figures import save_figure
from torchbasics.core.io import read_json
from torchbasics.core.runtime import run_script


def gradient(snakemake):
    summary = read_json(snakemake.input.summary)
    return plots.gradient_figure(autograd.read_gradients(snakemake.input.table), summary["n_terms"])


def convergence(snakemake):
    return plots.convergence_figure(autograd.read_convergence(snakemake.input.table))


FIGURES = {"gradient": gradient, "convergence": convergence}


def main(snakemake):
    figure = FIGURES[snakemake.params.figure](snakemake)
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
