"""Entry script of rule train: one CNN variant, a checkpoint and a history row per epoch, resumable."""

from pathlib import Path

import torch

from torchbasics.classifier.train import RunOutputs, TrainSettings, run_training
from torchbasics.core.precision import resolve_precision
from torchbasics.core.runtime import claim_device, run_script


def main(snakemake):
    torch.set_num_threads(snakemake.threads)
    train_config = snakemake.params.train
    # From the config, not the params: a change of device alone must not rerun the job (see classifier.smk).
    device, gpu_claim = claim_device(snakemake.config["train"]["device"])  # held while training runs
    settings = TrainSettings.from_config(
        snakemake.wildcards.variant,
        train_config,
        snakemake.params.seed,
        precision=resolve_precision(train_config["precision"], device),
    )
    outputs = RunOutputs(
        history=Path(snakemake.output.history), checkpoints=[Path(path) for path in snakemake.output.epoch_checkpoints]
    )
    run_training(
        snakemake.input.npz,
        snakemake.params.split,
        settings,
        device=device,
        outputs=outputs,
        resume_folder=snakemake.params.resume_folder,
    )


run_script(snakemake, main)
