"""Entry script of rule val_per_class_by_epoch: each class's validation accuracy at the first, the chosen and the
last epoch of one run."""

from torchbasics.classifier.evaluate import epochs_to_follow, run_val_per_class_by_epoch
from torchbasics.classifier.history import read_best
from torchbasics.core.runtime import job_runtime, run_script


def main(snakemake):
    runtime = job_runtime("eval", snakemake.config["eval"], snakemake.params.eval, snakemake.threads)  # holds the GPU
    best = read_best(snakemake.input.best)
    run_val_per_class_by_epoch(
        snakemake.input.npz,
        snakemake.params.split,
        list(snakemake.input.epoch_checkpoints),
        snakemake.wildcards.variant,
        batch_size=snakemake.params.eval["batch_size"],
        device=runtime.device,
        output=snakemake.output.table,
        implementation=runtime.implementation,
        epochs=epochs_to_follow(best["epoch"], best["epochs"]),
    )


run_script(snakemake, main)
