"""Entry script of rule val_per_class_by_epoch: each class's validation accuracy at the first, the chosen and the
last epoch of one run."""

import torch

from torchbasics.classifier.evaluate import epochs_to_follow, run_val_per_class_by_epoch
from torchbasics.classifier.history import read_best
from torchbasics.core.runtime import claim_device, run_script


def main(snakemake):
    torch.set_num_threads(snakemake.threads)
    # From the config, not the params: a change of device alone must not rerun the job (see classifier.smk).
    device, gpu_claim = claim_device(snakemake.config["eval"]["device"])  # held while evaluating
    best = read_best(snakemake.input.best)
    run_val_per_class_by_epoch(
        snakemake.input.npz,
        snakemake.params.split,
        list(snakemake.input.epoch_checkpoints),
        snakemake.wildcards.variant,
        batch_size=snakemake.params.eval["batch_size"],
        device=device,
        output=snakemake.output.table,
        implementation=snakemake.params.eval["implementation"],
        epochs=epochs_to_follow(best["epoch"], best["epochs"]),
    )


run_script(snakemake, main)
