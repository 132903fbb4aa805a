"""Entry script of rule plot_compare: per-class test accuracy of the variants side by side."""

from torchbasics.classifier.evaluation_files import read_per_class
from torchbasics.classifier.plots import per_class_comparison
from torchbasics.core import paths
from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script


def main(snakemake):
    seed = snakemake.wildcards.seed
    tables = {
        variant: read_per_class(paths.fill(paths.EVAL_PER_CLASS, variant=variant, seed=seed))
        for variant in (snakemake.params.baseline, snakemake.wildcards.variant)
    }
    save_figure(per_class_comparison(tables, "Per-class test accuracy"), snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
