"""Entry script of rule replicates: every (variant, seed)'s test results, and what holds across the seeds."""

from torchbasics.classifier.replicates import write_replicate_tables
from torchbasics.core import paths
from torchbasics.core.runtime import run_script


def main(snakemake):
    runs = snakemake.params.runs
    write_replicate_tables(
        paths.per_run(paths.EVAL_METRICS, runs),
        paths.per_run(paths.EVAL_PER_CLASS, runs),
        per_seed_out=snakemake.output.per_seed,
        variants_out=snakemake.output.variants,
        per_class_out=snakemake.output.per_class,
    )


run_script(snakemake, main)
