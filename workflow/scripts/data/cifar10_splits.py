"""Entry script of rule cifar10_splits: the images of each class in each configured split, checked."""

from torchbasics.core.io import write_json
from torchbasics.core.runtime import run_script
from torchbasics.data import cifar10


def main(snakemake):
    write_json(snakemake.output[0], cifar10.split_summary(snakemake.input.npz, snakemake.params.split))


run_script(snakemake, main)
