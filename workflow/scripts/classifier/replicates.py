"""Entry script of rule replicates: every (variant, seed)'s test results, and what holds across the seeds."""

from torchbasics.classifier.replicates import write_replicate_tables
from torchbasics.core.runtime import run_script


def main(snakemake):
    runs = [tuple(run) for run in snakemake.params.runs]  # the order of the per-run inputs
    write_replicate_tables(
        dict(zip(runs, snakemake.input.metrics)),
        dict(zip(runs, snakemake.input.per_class)),
        per_seed_out=snakemake.output.per_seed,
        variants_out=snakemake.output.variants,
        per_class_out=snakemake.output.per_class,
    )


run_script(snakemake, main)
