"""Entry script of the replicate figures: every seed's test accuracy with each variant's mean and 95% t interval,
and the per-class test accuracy's mean over seeds with its interval."""

from torchbasics.classifier.plots import replicate_accuracy, replicate_per_class
from torchbasics.classifier.replicates import PER_SEED_COLUMNS
from torchbasics.core.figures import save_figure
from torchbasics.core.io import read_table
from torchbasics.core.runtime import run_script

SUMMARY_COLUMNS = ["variant", "n_seeds", "test_accuracy_mean", "ci95_low", "ci95_high"]
PER_CLASS_COLUMNS = ["variant", "class", "n_seeds", "mean", "ci95_low", "ci95_high"]


def main(snakemake):
    per_seed = read_table(
        snakemake.input.per_seed, PER_SEED_COLUMNS, "a per-seed table", numbers=["seed", "test_accuracy"]
    )
    summary = read_table(snakemake.input.variants, SUMMARY_COLUMNS, "a variant summary", numbers=SUMMARY_COLUMNS[1:])
    per_class = read_table(
        snakemake.input.per_class, PER_CLASS_COLUMNS, "a per-class summary", numbers=PER_CLASS_COLUMNS[2:]
    )
    output = snakemake.output
    accuracy = replicate_accuracy(per_seed, summary, "Test accuracy of every seed, with each variant's mean")
    save_figure(accuracy, output.accuracy_png, output.accuracy_svg)
    per_class_figure = replicate_per_class(per_class, "Per-class test accuracy over seeds")
    save_figure(per_class_figure, output.per_class_png, output.per_class_svg)


run_script(snakemake, main)
