"""Entry script of the autograd plot rules: one figure (params.figure) from the stage's tables, as PNG and SVG."""

from torchbasics.autograd import autograd_files, plots
from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script


def gradient(snakemake):
    summary = autograd_files.read_summary(snakemake.input.summary)
    return plots.gradient_figure(autograd_files.read_gradients(snakemake.input.table), summary["n_terms"])


def convergence(snakemake):
    return plots.convergence_figure(autograd_files.read_convergence(snakemake.input.table))


FIGURES = {"gradient": gradient, "convergence": convergence}


def main(snakemake):
    figure = FIGURES[snakemake.params.figure](snakemake)
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
