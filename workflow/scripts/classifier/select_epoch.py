"""Entry script of rule select_epoch: the epoch with the lowest validation loss, into best.json."""

from torchbasics.classifier.history import read_history, selection_summary, write_best
from torchbasics.core.runtime import run_script


def main(snakemake):
    history = read_history(snakemake.input.history)
    write_best(
        snakemake.output.best,
        selection_summary(snakemake.wildcards.variant, history, list(snakemake.params.checkpoints)),
    )


run_script(snakemake, main)
