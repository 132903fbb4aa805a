"""Entry script of rule plot_evaluate_confusion: the labelled confusion matrix of a variant's test predictions."""

from torchbasics.classifier.evaluation_files import read_confusion
from torchbasics.classifier.plots import confusion_heatmap
from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script


def main(snakemake):
    fractions = read_confusion(snakemake.input.confusion)
    figure = confusion_heatmap(fractions, f"{snakemake.wildcards.variant}: test confusion matrix")
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
