"""Entry script of rule plot_evaluate_confused: test images of the worst class taken for its most confused class."""

from torchbasics.evaluation_files import read_confused_images
from torchbasics.figures import save_figure
from torchbasics.plots_part2 import confused_images
from torchbasics.runtime import run_script


def main(snakemake):
    confused = read_confused_images(snakemake.input.confused_images)
    title = (
        f"{snakemake.wildcards.variant}: {confused['worst_class']} (worst class) taken for "
        f"{confused['confused_with']}; titles: true / predicted"
    )
    save_figure(confused_images(confused, title), snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
