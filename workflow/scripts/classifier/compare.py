"""Entry script of rule compare: the variants side by side and McNemar's test on their paired predictions."""

from torchbasics.classifier.compare import run_comparison
from torchbasics.core.runtime import run_script


def main(snakemake):
    run_comparison(
        (snakemake.params.baseline, snakemake.wildcards.variant),  # the order of the input lists
        list(snakemake.input.predictions),
        list(snakemake.input.metrics),
        list(snakemake.input.best),
        table=snakemake.output.table,
        test=snakemake.output.mcnemar,
    )


run_script(snakemake, main)
