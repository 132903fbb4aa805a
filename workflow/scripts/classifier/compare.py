"""Entry script of rule compare: the variants side by side and McNemar's test on their paired predictions."""

from torchbasics.classifier.compare import run_comparison
from torchbasics.core import paths
from torchbasics.core.runtime import run_script


def main(snakemake):
    names = (snakemake.params.baseline, snakemake.wildcards.variant)

    def both(pattern):
        """The baseline's file and the compared variant's, of this seed."""
        return [paths.fill(pattern, variant=name, seed=snakemake.wildcards.seed) for name in names]

    run_comparison(
        names,
        both(paths.EVAL_PREDICTIONS),
        both(paths.EVAL_METRICS),
        both(paths.TRAIN_BEST),
        table=snakemake.output.table,
        test=snakemake.output.mcnemar,
    )


run_script(snakemake, main)
