"""Entry script of rule paired_replicates: the second variant minus the first, seed by seed, and the paired test."""

from torchbasics.classifier.replicates import write_paired_comparison
from torchbasics.core.runtime import run_script


def main(snakemake):
    baseline, other = snakemake.params.baseline, snakemake.wildcards.variant
    write_paired_comparison(
        snakemake.input.per_seed, baseline, other, paired_out=snakemake.output.paired, test_out=snakemake.output.test
    )


run_script(snakemake, main)
