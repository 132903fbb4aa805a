"""Entry script of rule plot_compare: per-class test accuracy of the variants side by side."""

from torchbasics.classifier.evaluation_files import read_per_class
from torchbasics.classifier.plots import per_class_comparison
from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script


def main(snakemake):
    names = (snakemake.params.baseline, snakemake.wildcards.variant)  # the order of the input list
    tables = {variant: read_per_class(path) for variant, path in zip(names, snakemake.input.per_class)}
    save_figure(per_class_comparison(tables, "Per-class test accuracy"), snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
