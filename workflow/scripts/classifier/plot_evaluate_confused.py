"""Entry script of rule plot_evaluate_confused: test images of the worst class taken for its most confused class."""

from torchbasics.classifier.evaluation_files import read_confused_images
from torchbasics.classifier.plots import confused_images
from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script


def main(snakemake):
    confused = read_confused_images(snakemake.input.confused_images)
    title = (
        f"{snakemake.wildcards.variant}: {confused['worst_class']} (worst class) taken for "
        f"{confused['confused_with']}; titles: true / predicted"
    )
    save_figure(confused_images(confused, title), snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
