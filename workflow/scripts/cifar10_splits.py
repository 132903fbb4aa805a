"""Entry script of rule cifar10_splits: the images of each class in each configured split, checked."""

from torchbasics import cifar10
from torchbasics.io import write_json
from torchbasics.runtime import run_script


def main(snakemake):
    write_json(snakemake.output[0], cifar10.split_summary(snakemake.input.npz, snakemake.params.split))


run_script(snakemake, main)
